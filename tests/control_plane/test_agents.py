"""Agents: CRUD with pipeline validation, and joining a room through an engine's room API."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from pydantic import SecretStr

from control_plane.app import create_app
from pipeline.calls.tokens import Grant, TokenError, verify_join_token
from settings import Settings
from tests.control_plane.helpers import member, owner
from tests.support.databases import JOIN_SECRET
from tests.support.paths import EXAMPLES

PIPELINE = (EXAMPLES / "tone_chain.yaml").read_text()


class FakeEngine(ThreadingHTTPServer):
    """A small engine room API: checks the join token and the body as the real engine will."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _EngineHandler)
        self.joined: list[dict[str, Any]] = []
        self.refuse_with: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _EngineHandler(BaseHTTPRequestHandler):
    server: FakeEngine

    def do_POST(self) -> None:
        self._answer(*self._join())

    def _join(self) -> tuple[int, dict[str, Any]]:
        parts = self.path.strip("/").split("/")
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        if self.server.refuse_with:
            return self.server.refuse_with, {"detail": "engine is full"}
        if len(parts) != 3 or parts[0] != "rooms" or parts[2] != "agents" or scheme != "Bearer":
            return 404, {"detail": "no such route"}
        try:
            claims = verify_join_token(JOIN_SECRET, token)
        except TokenError as error:
            return 401, {"detail": str(error)}
        if claims.room != parts[1] or claims.identity != body["identity"] or not claims.allows(Grant.AGENT):
            return 403, {"detail": "token does not match"}
        if set(body) != {"identity", "pipeline", "languages"}:
            return 400, {"detail": f"unexpected fields {sorted(body)}"}
        self.server.joined.append({"room": claims.room, **body})
        return 201, {"participant": body["identity"], "room": claims.room}

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def engine() -> Iterator[FakeEngine]:
    server = FakeEngine()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def engine_app(settings: Settings, engine: FakeEngine) -> Litestar:
    return create_app(settings.model_copy(update={"engine_url": engine.url}), migrate=False)


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


def test_join_sends_the_agent_to_the_engine_with_a_join_token(engine_app: Litestar, engine: FakeEngine) -> None:
    acme = owner(engine_app)
    agent = acme.client.post("/agents", json={"name": "translator", "pipeline": PIPELINE, "languages": ["fr"]}).json()
    joined = acme.client.post(f"/agents/{agent['id']}/join", json={"room": "standup-42"})
    assert joined.status_code == 201, joined.text
    assert joined.json()["identity"] == f"agent-{agent['id']}"
    assert joined.json()["engine_response"] == {"participant": f"agent-{agent['id']}", "room": "standup-42"}
    assert engine.joined == [
        {"room": "standup-42", "identity": f"agent-{agent['id']}", "pipeline": PIPELINE, "languages": ["fr"]}
    ]
    entry = acme.client.get("/audit", params={"action": "agent.join"}).json()[0]
    assert entry["after"]["room"] == "standup-42"


def test_join_reports_an_engine_that_refuses_or_is_down(engine_app: Litestar, engine: FakeEngine) -> None:
    acme = owner(engine_app)
    agent = acme.client.post("/agents", json={"name": "a", "pipeline": PIPELINE}).json()
    engine.refuse_with = 503
    refused = acme.client.post(f"/agents/{agent['id']}/join", json={"room": "r1"})
    assert refused.status_code == 502 and "engine is full" in refused.json()["detail"]
    engine.shutdown()
    engine.server_close()
    down = acme.client.post(f"/agents/{agent['id']}/join", json={"room": "r1"})
    assert down.status_code == 502 and "unreachable" in down.json()["detail"]
    assert acme.client.post(f"/agents/{agent['id']}/join", json={"room": "bad room/.."}).status_code == 400


def test_join_needs_a_usable_join_token_secret(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"join_token_secret": SecretStr("too short")}), migrate=False)
    acme = owner(app)
    agent = acme.client.post("/agents", json={"name": "a", "pipeline": PIPELINE}).json()
    response = TestClient(app, cookies=acme.client.cookies).post(f"/agents/{agent['id']}/join", json={"room": "r"})
    assert response.status_code == 503 and "join_token_secret" in response.json()["detail"]
