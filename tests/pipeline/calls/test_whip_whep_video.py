"""WHIP publish and DELETE, WHEP playback, and video relayed between participants."""

from __future__ import annotations

import httpx
from aiortc.mediastreams import VideoStreamTrack

from pipeline.calls.client import ToneTrack
from pipeline.calls.tokens import Grant
from telemetry.records import CallEvent, QualitySample
from tests.support.engine import Engine
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
