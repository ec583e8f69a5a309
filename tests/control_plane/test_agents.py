"""Agents: CRUD with pipeline validation, and joining a room through an engine's room API."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from pydantic import SecretStr

from control_plane.app import create_app
from pipeline.calls.room import ParticipantKind
from settings import Settings
from tests.control_plane.helpers import member, owner
from tests.support.databases import JOIN_SECRET
from tests.support.engine import Engine, engine_in_a_thread
from tests.support.paths import EXAMPLES

PIPELINE = (EXAMPLES / "tone_chain.yaml").read_text()


AGENT_PIPELINE = (EXAMPLES / "room_levels.yaml").read_text()
"""What the agents sent into rooms run: the room's audio to level meters, on the real engine."""


@pytest.fixture
def engine() -> Iterator[Engine]:
    """A real call engine that trusts the control plane's join-token secret."""
    with engine_in_a_thread(JOIN_SECRET) as running:
        yield running


@pytest.fixture
def engine_app(settings: Settings, engine: Engine) -> Litestar:
    return create_app(settings.model_copy(update={"engine_url": engine.url}), migrate=False)


def open_room(engine: Engine, room: str) -> None:
    token = engine.token(room, "organiser")
    answer = httpx.post(f"{engine.url}/rooms", json={"room": room}, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 201, answer.text


def test_agents_are_created_listed_updated_and_deleted(app: Litestar) -> None:
    acme = owner(app)
    created = acme.client.post(
        "/agents", json={"name": "captioner", "pipeline": PIPELINE, "languages": ["en", "pt-BR"]}
    )
    assert created.status_code == 201, created.text
    agent = created.json()
    assert acme.client.get("/agents").json()[0]["name"] == "captioner"
    updated = acme.client.patch(f"/agents/{agent['id']}", json={"languages": ["de"], "settings": {"voice": "calm"}})
    assert updated.json()["languages"] == ["de"] and updated.json()["settings"] == {"voice": "calm"}
    assert acme.client.get(f"/agents/{agent['id']}").json()["pipeline"] == PIPELINE
    assert acme.client.post("/agents", json={"name": "captioner", "pipeline": PIPELINE}).status_code == 409
    assert acme.client.delete(f"/agents/{agent['id']}").status_code == 204
    assert acme.client.get(f"/agents/{agent['id']}").status_code == 404
    actions = [e["action"] for e in acme.client.get("/audit", params={"resource_type": "agent"}).json()]
    assert actions == ["agent.delete", "agent.update", "agent.create"]


def test_an_invalid_pipeline_is_refused_with_file_line_and_column(app: Litestar) -> None:
    acme = owner(app)
    broken = PIPELINE.replace("type: resample", "type: resampel")
    refused = acme.client.post("/agents", json={"name": "broken", "pipeline": broken})
    assert refused.status_code == 422
    assert refused.json()["detail"].startswith("the pipeline is invalid: broken.yaml:9:5")
    assert "resampel" in refused.json()["extra"]["problems"][0]
    assert acme.client.post("/agents", json={"name": "x", "pipeline": "stages: [unclosed"}).status_code == 422
    deep = acme.client.post("/agents", json={"name": "deep", "pipeline": "stages: " + "[" * 3000 + "]" * 3000})
    assert deep.status_code == 422
    assert deep.json()["extra"]["problems"] == ["deep.yaml:1:73: nesting deeper than 64 levels"]
    assert (
        acme.client.post("/agents", json={"name": "x", "pipeline": PIPELINE, "languages": ["english!"]}).status_code
        == 400
    )


def test_viewers_see_agents_but_cannot_change_them_and_the_plan_caps_them(app: Litestar) -> None:
    acme = owner(app)
    viewer = member(app, acme, "viewer")
    for index in range(3):
        assert acme.client.post("/agents", json={"name": f"a{index}", "pipeline": PIPELINE}).status_code == 201
    capped = acme.client.post("/agents", json={"name": "a3", "pipeline": PIPELINE})
    assert capped.status_code == 409 and "3 agents" in capped.json()["detail"]
    assert len(viewer.client.get("/agents").json()) == 3
    assert viewer.client.post("/agents", json={"name": "v", "pipeline": PIPELINE}).status_code == 403
    agent_id = viewer.client.get("/agents").json()[0]["id"]
    assert viewer.client.post(f"/agents/{agent_id}/join", json={"room": "r"}).status_code == 403


def test_join_sends_the_agent_to_the_engine_with_a_join_token(engine_app: Litestar, engine: Engine) -> None:
    open_room(engine, "standup-42")
    acme = owner(engine_app)
    body = {"name": "translator", "pipeline": AGENT_PIPELINE, "languages": ["fr"]}
    agent = acme.client.post("/agents", json=body).json()
    joined = acme.client.post(f"/agents/{agent['id']}/join", json={"room": "standup-42"})
    assert joined.status_code == 201, joined.text
    identity = f"agent-{agent['id']}"
    assert joined.json()["identity"] == identity
    assert joined.json()["engine_response"] == {"room": "standup-42", "identity": identity}
    in_room = engine.server.rooms["standup-42"].participants[identity]
    assert in_room.kind is ParticipantKind.AGENT and in_room.languages == ["fr"] and in_room.pipelines
    entry = acme.client.get("/audit", params={"action": "agent.join"}).json()[0]
    assert entry["after"]["room"] == "standup-42"


def test_join_reports_what_the_engine_refused_and_an_engine_that_is_down(settings: Settings) -> None:
    with engine_in_a_thread(JOIN_SECRET) as engine:
        app = create_app(settings.model_copy(update={"engine_url": engine.url}), migrate=False)
        acme = owner(app)
        agent = acme.client.post("/agents", json={"name": "a", "pipeline": AGENT_PIPELINE}).json()
        no_room = acme.client.post(f"/agents/{agent['id']}/join", json={"room": "r1"})
        assert no_room.status_code == 404 and "room 'r1' does not exist" in no_room.json()["detail"]
        open_room(engine, "r1")
        assert acme.client.post(f"/agents/{agent['id']}/join", json={"room": "r1"}).status_code == 201
        again = acme.client.post(f"/agents/{agent['id']}/join", json={"room": "r1"})
        assert again.status_code == 409 and "already in room 'r1'" in again.json()["detail"]
    down = acme.client.post(f"/agents/{agent['id']}/join", json={"room": "r1"})
    assert down.status_code == 502 and "unreachable" in down.json()["detail"]
    assert acme.client.post(f"/agents/{agent['id']}/join", json={"room": "bad room/.."}).status_code == 400


def test_an_engine_with_another_secret_is_an_upstream_failure(settings: Settings) -> None:
    with engine_in_a_thread() as engine:  # its own secret: the control plane's tokens do not verify
        open_room(engine, "r1")
        app = create_app(settings.model_copy(update={"engine_url": engine.url}), migrate=False)
        acme = owner(app)
        agent = acme.client.post("/agents", json={"name": "a", "pipeline": AGENT_PIPELINE}).json()
        refused = acme.client.post(f"/agents/{agent['id']}/join", json={"room": "r1"})
    assert refused.status_code == 502
    assert "HTTP 401" in refused.json()["detail"] and "different secret" in refused.json()["detail"]


def test_join_needs_a_usable_join_token_secret(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"join_token_secret": SecretStr("too short")}), migrate=False)
    acme = owner(app)
    agent = acme.client.post("/agents", json={"name": "a", "pipeline": PIPELINE}).json()
    response = TestClient(app, cookies=acme.client.cookies).post(f"/agents/{agent['id']}/join", json={"room": "r"})
    assert response.status_code == 503 and "join_token_secret" in response.json()["detail"]
