"""WHIP publish and DELETE, WHEP playback, and video relayed between participants."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from aiortc.mediastreams import VideoStreamTrack

from pipeline.calls.client import ToneTrack
from pipeline.calls.tokens import Grant
from telemetry.records import CallEvent, QualitySample
from tests.support.engine import Engine, running_engine
from tests.support.waiting import eventually

PUBLISH = frozenset({Grant.PUBLISH})
SUBSCRIBE = frozenset({Grant.SUBSCRIBE})


async def test_whip_publishes_into_the_room_and_delete_ends_the_session(engine: Engine) -> None:
    await engine.create_room("stage")
    listener = engine.client("stage", "listener")
    assert (await listener.join("/rooms/stage/join", receive_audio=True)).status_code == 201
    publisher = engine.client("stage", "encoder", PUBLISH)
    response = await publisher.join("/whip/stage", publish=ToneTrack(300), receive_audio=False, data_channel=False)
    assert response.status_code == 201
    assert response.headers["content-type"].startswith("application/sdp")
    assert response.text.startswith("v=0")
    location = response.headers["location"]
    assert location.startswith("/whip/stage/")

    await eventually(lambda: listener.audio.loud_frames > 20, what="the WHIP audio at the listener")
    await eventually(
        lambda: any(m.get("speaker") == "encoder" and m.get("event") == "audio-level" for m in listener.messages),
        what="the room pipeline's levels of the WHIP publisher",
    )
    await eventually(
        lambda: any(s.participant == "encoder" for s in engine.reporter.of_type(QualitySample)),
        what="a quality sample for the WHIP publisher",
    )

    assert await publisher.leave() == 204
    assert "encoder" not in engine.server.rooms["stage"].participants
    async with httpx.AsyncClient(base_url=engine.url) as http:
        again = await http.delete(location, headers={"Authorization": f"Bearer {publisher.token}"})
    assert again.status_code == 404
    left = [e for e in engine.reporter.of_type(CallEvent) if e.type == "participant-left"]
    assert [e.participant for e in left] == ["encoder"]


@pytest.fixture
async def small_rooms() -> AsyncIterator[Engine]:
    """An engine whose rooms hold 2 participants unless they say otherwise (``room_max_participants``)."""
    async with running_engine(max_participants=2) as running:
        yield running


async def test_a_whip_publish_opens_a_room_that_does_not_exist_yet(small_rooms: Engine) -> None:
    engine = small_rooms
    async with httpx.AsyncClient(base_url=engine.url) as http:
        offer = "v=0\r\n"
        headers = {"Content-Type": "application/sdp", "Authorization": f"Bearer {engine.token('obs', 'enc')}"}
        assert (await http.post("/whip/obs", content=offer, headers=headers)).status_code == 400
        headers["Authorization"] = f"Bearer {engine.token('obs', 'enc', SUBSCRIBE)}"
        assert (await http.post("/whip/obs", content=offer, headers=headers)).status_code == 403
    viewer = engine.client("obs", "viewer", SUBSCRIBE)
    missing = await viewer.join("/whep/obs", receive_audio=True, data_channel=False)
    assert missing.status_code == 404 and "does not exist" in missing.json()["detail"]
    assert "obs" not in engine.server.rooms  # a bad offer, a token without publish, a viewer: none opens it

    publisher = engine.client("obs", "encoder", PUBLISH)
    response = await publisher.join("/whip/obs", publish=ToneTrack(300), receive_audio=False, data_channel=False)
    assert response.status_code == 201, response.text
    assert response.headers["location"].startswith("/whip/obs/")
    assert engine.server.rooms["obs"].max_participants == 2
    opened = [e for e in engine.reporter.of_type(CallEvent) if e.type == "room-opened"]
    assert [(e.room, e.attributes["max_participants"]) for e in opened] == [("obs", 2)]

    listener = engine.client("obs", "listener")
    assert (await listener.join("/rooms/obs/join", receive_audio=True)).status_code == 201
    await eventually(lambda: listener.audio.loud_frames > 20, what="the WHIP audio at the listener")
    third = engine.client("obs", "third", PUBLISH)
    full = await third.join("/whip/obs", publish=ToneTrack(500), receive_audio=False, data_channel=False)
    assert full.status_code == 409 and "full (2 participants)" in full.json()["detail"]
    assert await publisher.leave() == 204
    assert len([e for e in engine.reporter.of_type(CallEvent) if e.type == "room-opened"]) == 1


async def test_whep_plays_the_rooms_audio(engine: Engine) -> None:
    await engine.create_room("radio")
    host = engine.client("radio", "host", PUBLISH)
    assert (await host.join("/whip/radio", publish=ToneTrack(800), receive_audio=False)).status_code == 201
    viewer = engine.client("radio", "viewer", SUBSCRIBE)
    response = await viewer.join("/whep/radio", receive_audio=True, data_channel=False)
    assert response.status_code == 201 and response.headers["location"].startswith("/whep/radio/")
    await eventually(lambda: viewer.audio.loud_frames > 20, what="the room's audio over WHEP")
    await eventually(
        lambda: any(
            s.participant == "viewer" and s.direction == "outbound" for s in engine.reporter.of_type(QualitySample)
        ),
        what="a quality sample for the WHEP viewer (from its receiver reports)",
    )
    assert await viewer.leave() == 204


async def test_video_is_relayed_into_the_other_participants_slots(engine: Engine) -> None:
    await engine.create_room("video")
    camera_owner = engine.client("video", "cam")
    assert (
        await camera_owner.join("/rooms/video/join", publish=ToneTrack(), camera=VideoStreamTrack())
    ).status_code == 201
    watcher = engine.client("video", "watcher")
    assert (await watcher.join("/rooms/video/join", publish=ToneTrack(), video_slots=2)).status_code == 201
    await eventually(lambda: watcher.audio.video_frames > 10, timeout_s=30, what="the camera's frames at the watcher")
    slots = [m for m in watcher.messages if m["type"] == "video-slots"]
    assert slots and slots[-1]["slots"][0]["identity"] == "cam" and slots[-1]["slots"][1]["identity"] is None
