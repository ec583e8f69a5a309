"""Received audio is decoded on the event loop (no decoder thread hand-offs), and its track still ends."""

from __future__ import annotations

from pipeline.calls.client import ToneTrack
from pipeline.webrtc.receive import InlineDecoding
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
    fanout = session.fanout

    assert await alice.leave() == 204

    await eventually(lambda: fanout.ended.is_set(), what="alice's track ended with her session")
