"""Telemetry records survive the wire unchanged; records the control plane could not store are refused."""

from __future__ import annotations

import math

import pytest

from protos.gen import telemetry_pb2 as pb
from telemetry.records import CallEvent, QualitySample, UsageEvent
from telemetry.wire import WireError, from_proto, to_proto


@pytest.mark.parametrize(
    "record",
    [
        CallEvent("participant-joined", "room", "alice", at=1.5, attributes={"connection": "wifi"}),
        CallEvent("room-closed", "room", at=2.0),
        QualitySample("room", "alice", "video", 3.5, 2, 0.01, None, 900.0, 4.1, "outbound", "cellular", 3.0),
        QualitySample("room", "bob", "audio", 1.0, 0, 0.0, 25.0, 48.0, 4.4, frames_per_second=50.0),
        UsageEvent("translation_characters", 120, "room", "bob", "translate", "nllb", at=4.0),
        UsageEvent("aic_bytes_saved", 1e9),
    ],
)
def test_round_trip(record: CallEvent | QualitySample | UsageEvent) -> None:
    assert from_proto(pb.TelemetryRecord.FromString(to_proto(record).SerializeToString())) == record


@pytest.mark.parametrize(
    ("record", "field"),
    [
        (CallEvent("room-opened", "", at=1.0), "call_event.room"),
        (CallEvent("room-opened", "a\x00b", at=1.0), "call_event.room"),
        (CallEvent("room-opened", "r" * 201, at=1.0), "call_event.room"),
        (QualitySample("r", "a", "audio", 1.0, 0, 0.0, None, 1.0, 9.0), "quality_sample.mos"),
        (UsageEvent("call_seconds", math.inf), "usage_event.quantity"),
        (CallEvent("participant-joined", "room", None, at=1.0), "call_event.participant"),
        (QualitySample("r", "a", "audio", 1.0, 0, 1.5, None, 1.0, 4.0), "loss_fraction"),
        (QualitySample("r", "a", "audio", math.nan, 0, 0.0, None, 1.0, 4.0), "jitter_ms"),
        (UsageEvent("call_seconds", -1.0), "quantity"),
        (UsageEvent("call_seconds", 1.0, at=-5), "usage_event.at"),
    ],
)
def test_invalid_records_are_refused_naming_the_field(
    record: CallEvent | QualitySample | UsageEvent, field: str
) -> None:
    with pytest.raises(WireError, match=field):
        from_proto(to_proto(record))


def test_unknown_kinds_and_empty_records_are_refused() -> None:
    event = to_proto(CallEvent("room-opened", "room"))
    event.call_event.type = "room-exploded"
    with pytest.raises(WireError, match="room-exploded"):
        from_proto(event)
    with pytest.raises(WireError, match="none of"):
        from_proto(pb.TelemetryRecord())
