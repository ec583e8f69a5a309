"""Received audio is decoded on the event loop (no decoder thread hand-offs), and its track still ends; a camera
is decoded only while someone watches it."""

from __future__ import annotations

from aiortc.mediastreams import VideoStreamTrack

from pipeline.calls.client import ToneTrack
from pipeline.webrtc.receive import GatedVideoDecoding, InlineDecoding
from tests.support.engine import Engine
from tests.support.waiting import eventually


async def test_a_publishers_audio_is_decoded_inline_and_its_track_ends_with_the_session(engine: Engine) -> None:
    await engine.create_room("inline")
    alice, bob = engine.client("inline", "alice"), engine.client("inline", "bob")
    assert (await alice.join("/rooms/inline/join", publish=ToneTrack(440))).status_code == 201
    assert (await bob.join("/rooms/inline/join", publish=ToneTrack(660))).status_code == 201
    await eventually(lambda: bob.audio.loud_frames > 25, what="bob hears alice")
    session = engine.server.rooms["inline"].participants["alice"]
    assert session.pc is not None and session.fanout is not None
    [decoding] = [
        t.receiver._RTCRtpReceiver__decoder_queue  # type: ignore[attr-defined]
        for t in session.pc.getTransceivers()
        if t.kind == "audio"
    ]
    assert isinstance(decoding, InlineDecoding)
    assert decoding.decoded >= 25 and session.fanout.chunks_in >= 25
    assert decoding.channels == 1  # Opus decoded straight to the room's mono; bob heard the tone at full level
    fanout = session.fanout

    assert await alice.leave() == 204

    await eventually(lambda: fanout.ended.is_set(), what="alice's track ended with her session")


async def test_a_camera_nobody_watches_is_not_decoded_until_a_viewer_arrives(engine: Engine) -> None:
    await engine.create_room("cams")
    presenter = engine.client("cams", "presenter")
    joined = await presenter.join("/rooms/cams/join", publish=ToneTrack(), camera=VideoStreamTrack())
    assert joined.status_code == 201
    session = engine.server.rooms["cams"].participants["presenter"]
    assert session.pc is not None
    [gate] = [
        t.receiver._RTCRtpReceiver__decoder_queue  # type: ignore[attr-defined]
        for t in session.pc.getTransceivers()
        if t.kind == "video"
    ]
    assert isinstance(gate, GatedVideoDecoding)
    await eventually(lambda: gate.skipped > 20, what="the unwatched camera's pictures skipped")
    assert gate.passed == 0

    viewer = engine.client("cams", "viewer")
    assert (await viewer.join("/rooms/cams/join", video_slots=1)).status_code == 201
    await eventually(lambda: viewer.audio.video_frames > 10, what="the viewer sees the camera (a key frame asked for)")
    assert gate.passed > 0
