"""Live records (pipeline stats, captions) survive the wire unchanged; ones the Live page could not show are
refused, naming the field."""

from __future__ import annotations

import math

import pytest

from protos.gen import telemetry_pb2 as pb
from telemetry.live_wire import live_from_proto, live_to_proto
from telemetry.records import Caption, LiveRecord, PipelineStats, StageLiveStats
from telemetry.wire import WireError

STAGES = (
    StageLiveStats("participant", "webrtc_source", 0, 250),
    StageLiveStats("stt", "stt", 250, 3, 4, 1, 1, 2, 1.25, 40.5, None, None),
    StageLiveStats("out", "datachannel_sink", 3, 0, 0, 0, 0, 0, 0.05, 0.1, 640.0, 910.0),
)


@pytest.mark.parametrize(
    "record",
    [
        PipelineStats("standup", "alice", "room-captions", STAGES, at=10.0),
        PipelineStats("standup", "agent-1", "notes", (), at=11.0),
        Caption("standup", "alice", "we should consider", final=False, language="en", confidence=0.8, at=12.0),
        Caption("standup", "alice", "devemos considerar", kind="translation", language="pt", latency_ms=900.0, at=1.0),
    ],
)
def test_round_trip(record: LiveRecord) -> None:
    assert live_from_proto(pb.LiveRecord.FromString(live_to_proto(record).SerializeToString())) == record


@pytest.mark.parametrize(
    ("record", "field"),
    [
        (Caption("", "alice", "hi"), "caption.room"),
        (Caption("r", "alice", "x" * 1001), "caption.text"),
        (Caption("r", "alice", "a\x00b"), "caption.text"),
        (Caption("r", "alice", "hi", confidence=1.5), "caption.confidence"),
        (Caption("r", "alice", "hi", latency_ms=math.nan), "caption.latency_ms"),
        (PipelineStats("r", "", "p", ()), "pipeline_stats.participant"),
        (PipelineStats("r", "a", "p", (StageLiveStats("s", processing_p50_ms=-1.0),)), "processing_p50_ms"),
        (PipelineStats("r", "a", "p", tuple(StageLiveStats(f"s{n}") for n in range(65))), "pipeline_stats.stages"),
    ],
)
def test_invalid_records_are_refused_naming_the_field(record: LiveRecord, field: str) -> None:
    with pytest.raises(WireError, match=field):
        live_from_proto(live_to_proto(record))


def test_a_caption_of_an_unknown_kind_is_refused() -> None:
    message = live_to_proto(Caption("r", "alice", "hi"))
    message.caption.kind = "subtitle"
    with pytest.raises(WireError, match=r"caption\.kind is 'subtitle'"):
        live_from_proto(message)


def test_a_long_refused_text_is_quoted_short() -> None:
    with pytest.raises(WireError) as refused:
        live_from_proto(live_to_proto(Caption("r", "alice", "x" * 5000)))
    assert len(str(refused.value)) < 160 and "at most 1000 characters" in str(refused.value)
