"""Two aiortc participants meet in a room over loopback: audio, captions and quality."""

from __future__ import annotations

from pipeline.calls.client import ToneTrack
from telemetry.records import CallEvent, QualitySample
from tests.support.engine import Engine
from tests.support.waiting import eventually


async def test_two_participants_hear_each_other_and_get_level_events(engine: Engine) -> None:
    await engine.create_room("standup")
    alice, bob = engine.client("standup", "alice"), engine.client("standup", "bob")
    assert (await alice.join("/rooms/standup/join", publish=ToneTrack(440))).status_code == 201
    assert (await bob.join("/rooms/standup/join", publish=ToneTrack(660))).status_code == 201
    await alice.connected()
    await bob.connected()

    await eventually(lambda: alice.audio.loud_frames > 25 and bob.audio.loud_frames > 25, what="audio both ways")
    assert alice.audio.peak_rms_dbfs > -20 and bob.audio.peak_rms_dbfs > -20

    def levels_about(client_messages: list[dict[str, object]], speaker: str) -> list[dict[str, object]]:
        return [m for m in client_messages if m.get("event") == "audio-level" and m.get("speaker") == speaker]

    await eventually(lambda: len(levels_about(bob.messages, "alice")) >= 2, what="alice's levels at bob")
    level = levels_about(bob.messages, "alice")[-1]
    assert level["type"] == "event" and isinstance(level["data"], dict)
    assert float(level["data"]["rms_dbfs"]) > -20  # the tone, metered by the room's pipeline

    await eventually(
        lambda: {s.participant for s in engine.reporter.of_type(QualitySample)} >= {"alice", "bob"},
        what="quality samples",
    )
    sample = engine.reporter.of_type(QualitySample)[-1]
    assert 4.0 < sample.mos <= 4.5 and sample.jitter_ms >= 0 and sample.loss_fraction < 0.05
    assert all(s.bitrate_kbps > 20 for s in engine.reporter.of_type(QualitySample))  # each covers an interval

    assert await alice.leave() == 204
    await eventually(lambda: "alice" not in engine.server.rooms["standup"].participants, what="alice gone")
    kinds = [(e.type, e.participant) for e in engine.reporter.of_type(CallEvent)]
    assert ("room-opened", None) in kinds
    assert ("participant-joined", "alice") in kinds and ("participant-left", "alice") in kinds
