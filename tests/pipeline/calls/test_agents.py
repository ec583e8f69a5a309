"""The agent API the control plane relies on: start a pipeline in a room, stop it, clear errors."""

from __future__ import annotations

from pipeline.calls.client import ToneTrack
from telemetry.records import CallEvent
from tests.pipeline.calls.stages import CAPTION_PIPELINE
from tests.support.engine import AGENT, Engine, request
from tests.support.waiting import eventually


async def test_an_agent_captions_the_room_until_it_is_deleted(engine: Engine, captioner: None) -> None:
    await engine.create_room("agents")
    speaker = engine.client("agents", "speaker")
    assert (await speaker.join("/rooms/agents/join", publish=ToneTrack())).status_code == 201
    token = engine.token("agents", "control-plane", AGENT)
    body = {"identity": "scribe", "pipeline": CAPTION_PIPELINE, "languages": ["en", "pt"]}
    started = await request(engine, "POST", "/rooms/agents/agents", token, body)
    assert started.status_code == 201 and started.json() == {"room": "agents", "identity": "scribe"}

    await eventually(
        lambda: any(m["type"] == "transcript" and m["final"] for m in speaker.messages),
        what="the agent's transcript at the speaker",
    )
    final = next(m for m in speaker.messages if m["type"] == "transcript" and m["final"])
    assert final["speaker"] == "scribe" and final["language"] == "en" and final["confidence"] == 0.9
    listing = await request(engine, "GET", "/rooms/agents/participants", token)
    scribe = next(p for p in listing.json() if p["identity"] == "scribe")
    assert scribe["kind"] == "agent" and scribe["languages"] == ["en", "pt"]

    assert (await request(engine, "POST", "/rooms/agents/agents", token, body)).status_code == 409
    assert (await request(engine, "DELETE", "/rooms/agents/agents/scribe", token)).status_code == 204
    assert (await request(engine, "DELETE", "/rooms/agents/agents/scribe", token)).status_code == 404
    joined_left = [(e.type, e.participant) for e in engine.reporter.of_type(CallEvent) if e.participant == "scribe"]
    assert joined_left == [("participant-joined", "scribe"), ("participant-left", "scribe")]


async def test_bad_pipeline_yaml_is_422_with_file_line_column_messages(engine: Engine) -> None:
    await engine.create_room("agents")
    token = engine.token("agents", "control-plane", AGENT)
    bad = "version: 1\nstages:\n  - name: src\n    type: webrtc_sorce\n  - name: out\n    type: datachannel_sink\n"
    response = await request(
        engine, "POST", "/rooms/agents/agents", token, {"identity": "broken", "pipeline": bad, "languages": []}
    )
    assert response.status_code == 422
    problems = response.json()["problems"]
    assert problems and problems[0].startswith("agent-broken.yaml:4:5: stages[0].type: unknown stage type")
    assert "did you mean 'webrtc_source'" in problems[0]
    assert "broken" not in engine.server.rooms["agents"].participants


async def test_a_deeply_nested_pipeline_is_422_not_a_recursion_error(engine: Engine) -> None:
    await engine.create_room("agents")
    token = engine.token("agents", "control-plane", AGENT)
    deep = "stages:\n  - {name: src, type: webrtc_source}\nx: " + "[" * 3000 + "]" * 3000 + "\n"
    response = await request(
        engine, "POST", "/rooms/agents/agents", token, {"identity": "deep", "pipeline": deep, "languages": []}
    )
    assert response.status_code == 422, response.text
    assert response.json()["problems"] == ["agent-deep.yaml:3:68: nesting deeper than 64 levels"]
    assert "deep" not in engine.server.rooms["agents"].participants


async def test_agents_need_the_agent_grant_for_that_room(engine: Engine) -> None:
    await engine.create_room("agents")
    body = {"identity": "x", "pipeline": CAPTION_PIPELINE, "languages": []}
    plain = await request(engine, "POST", "/rooms/agents/agents", engine.token("agents", "alice"), body)
    assert plain.status_code == 403 and "agent grant" in plain.json()["detail"]
    other = await request(engine, "POST", "/rooms/agents/agents", engine.token("other", "cp", AGENT), body)
    assert other.status_code == 403
    missing = await request(engine, "POST", "/rooms/nope/agents", engine.token("nope", "cp", AGENT), body)
    assert missing.status_code == 404
