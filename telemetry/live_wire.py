"""Live records on the wire: :class:`~telemetry.records.PipelineStats` and :class:`~telemetry.records.Caption`
to and from ``protos/telemetry.proto`` (``LiveTelemetry``), checked against the limits the records declare."""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

from protos.gen import telemetry_pb2 as pb
from telemetry.records import Caption, LiveRecord, PipelineStats, StageLiveStats
from telemetry.wire import WireError, validated

_STAGE_FIELDS = tuple(field.name for field in dataclasses.fields(StageLiveStats))
_OPTIONAL_STAGE_FIELDS: tuple[
    Literal["processing_p50_ms", "processing_p95_ms", "latency_p50_ms", "latency_p95_ms"], ...
] = (
    "processing_p50_ms",
    "processing_p95_ms",
    "latency_p50_ms",
    "latency_p95_ms",
)
_CAPTION_FIELDS = tuple(field.name for field in dataclasses.fields(Caption))


def live_to_proto(record: LiveRecord) -> pb.LiveRecord:
    if isinstance(record, Caption):
        fields = {name: getattr(record, name) for name in _CAPTION_FIELDS}
        return pb.LiveRecord(caption=pb.Caption(**_set(fields)))
    stages = [pb.StageLiveStats(**_set(dataclasses.asdict(stage))) for stage in record.stages]
    return pb.LiveRecord(
        pipeline_stats=pb.PipelineStats(
            room=record.room, participant=record.participant, pipeline=record.pipeline, stages=stages, at=record.at
        )
    )


def _set(fields: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not None}


def live_from_proto(message: pb.LiveRecord) -> LiveRecord:
    """The record ``message`` carries; :class:`WireError` naming the field when one is missing or out of range."""
    kind = message.WhichOneof("record")
    if kind == "caption":
        caption = message.caption
        fields = {name: getattr(caption, name) for name in _CAPTION_FIELDS}
        fields["confidence"] = caption.confidence if caption.HasField("confidence") else None
        fields["latency_ms"] = caption.latency_ms if caption.HasField("latency_ms") else None
        if fields["kind"] not in ("transcript", "translation"):
            raise WireError(f"caption.kind is {caption.kind!r}: it must be transcript or translation")
        return validated(Caption, fields, "caption")
    if kind == "pipeline_stats":
        stats = message.pipeline_stats
        stages = [_stage_fields(stage) for stage in stats.stages]
        fields = {
            "room": stats.room,
            "participant": stats.participant,
            "pipeline": stats.pipeline,
            "stages": stages,
            "at": stats.at,
        }
        return validated(PipelineStats, fields, "pipeline_stats")
    raise WireError("a live record carries neither pipeline_stats nor caption")


def _stage_fields(stage: pb.StageLiveStats) -> dict[str, Any]:
    fields = {name: getattr(stage, name) for name in _STAGE_FIELDS}
    for name in _OPTIONAL_STAGE_FIELDS:
        fields[name] = fields[name] if stage.HasField(name) else None
    return fields
