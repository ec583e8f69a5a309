"""Telemetry records on the wire: :mod:`telemetry.records` records to and from ``protos/telemetry.proto``.

Both ends use these functions (the engine's gRPC reporter and the control plane's
service), so a record means the same thing on either side.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import TypeAdapter, ValidationError

from protos.gen import telemetry_pb2 as pb
from telemetry.records import CallEvent, QualitySample, RecordT, TelemetryRecord, UsageEvent


class WireError(ValueError):
    """A record on the wire is not one the control plane can store; the message says which field."""


def to_proto(record: TelemetryRecord) -> pb.TelemetryRecord:
    if isinstance(record, CallEvent):
        return pb.TelemetryRecord(
            call_event=pb.CallEvent(
                idempotency_key=record.idempotency_key,
                type=record.type,
                room=record.room,
                participant=record.participant or "",
                at=record.at,
                attributes_json=json.dumps(record.attributes, default=str),
            )
        )
    if isinstance(record, QualitySample):
        sample = pb.QualitySample(
            idempotency_key=record.idempotency_key,
            room=record.room,
            participant=record.participant,
            media=record.media,
            jitter_ms=record.jitter_ms,
            packets_lost=record.packets_lost,
            loss_fraction=record.loss_fraction,
            bitrate_kbps=record.bitrate_kbps,
            mos=record.mos,
            direction=record.direction,
            connection_type=record.connection_type,
            at=record.at,
            frames_per_second=record.frames_per_second,
        )
        if record.rtt_ms is not None:
            sample.rtt_ms = record.rtt_ms
        return pb.TelemetryRecord(quality_sample=sample)
    return pb.TelemetryRecord(
        usage_event=pb.UsageEvent(
            idempotency_key=record.idempotency_key,
            metric=record.metric,
            quantity=record.quantity,
            room=record.room or "",
            participant=record.participant or "",
            feature=record.feature,
            provider=record.provider,
            at=record.at,
        )
    )


def from_proto(message: pb.TelemetryRecord) -> TelemetryRecord:
    """The record ``message`` carries; :class:`WireError` when a field is missing or out of range.

    The limits are the ones the record types declare (:mod:`telemetry.records`); text the
    control plane keeps shorter (feature, provider, connection type) is cut, not refused.
    """
    kind = message.WhichOneof("record")
    if kind == "call_event":
        return _call_event(message.call_event)
    if kind == "quality_sample":
        return _quality_sample(message.quality_sample)
    if kind == "usage_event":
        return _usage_event(message.usage_event)
    raise WireError("a telemetry record carries none of call_event, quality_sample, usage_event")


_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {
    kind: TypeAdapter(kind) for kind in (CallEvent, QualitySample, UsageEvent)
}


def _validated(kind: type[RecordT], fields: dict[str, Any], prefix: str) -> RecordT:
    try:
        record: RecordT = _ADAPTERS[kind].validate_python(fields)
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"] if not isinstance(part, int))
        raise WireError(f"{prefix}.{where} is {problem['input']!r}: {problem['msg']}") from None
    return record


def _call_event(event: pb.CallEvent) -> CallEvent:
    if event.type.startswith("participant") and not event.participant:
        raise WireError(f"call_event.participant must be set for a {event.type} event")
    try:
        attributes: Any = json.loads(event.attributes_json or "{}")
    except json.JSONDecodeError as error:
        raise WireError(f"call_event.attributes_json is not JSON: {error}") from None
    if not isinstance(attributes, dict):
        raise WireError("call_event.attributes_json must be a JSON object")
    fields = {
        "type": event.type,
        "room": event.room,
        "participant": event.participant or None,
        "at": event.at,
        "attributes": attributes,
        "idempotency_key": event.idempotency_key,
    }
    return _validated(CallEvent, fields, "call_event")


def _quality_sample(sample: pb.QualitySample) -> QualitySample:
    fields = {
        "room": sample.room,
        "participant": sample.participant,
        "media": sample.media,
        "jitter_ms": sample.jitter_ms,
        "packets_lost": sample.packets_lost,
        "loss_fraction": sample.loss_fraction,
        "rtt_ms": sample.rtt_ms if sample.HasField("rtt_ms") else None,
        "bitrate_kbps": sample.bitrate_kbps,
        "mos": sample.mos,
        "direction": sample.direction or "inbound",
        "connection_type": (sample.connection_type or "unknown")[:32],
        "at": sample.at,
        "idempotency_key": sample.idempotency_key,
        "frames_per_second": sample.frames_per_second,
    }
    return _validated(QualitySample, fields, "quality_sample")


def _usage_event(event: pb.UsageEvent) -> UsageEvent:
    fields = {
        "metric": event.metric,
        "quantity": event.quantity,
        "room": event.room or None,
        "participant": event.participant or None,
        "feature": event.feature[:50],
        "provider": event.provider[:100],
        "at": event.at,
        "idempotency_key": event.idempotency_key,
    }
    return _validated(UsageEvent, fields, "usage_event")
