"""Telemetry records on the wire: :mod:`engine.telemetry` records to and from ``protos/telemetry.proto``.

Both ends use these functions (the engine's gRPC reporter and the control plane's
service), so a record means the same thing on either side.
"""

from __future__ import annotations

import json
from typing import Any, get_args

from engine.telemetry import (
    CallEvent,
    CallEventType,
    MediaKind,
    QualitySample,
    TelemetryRecord,
    UsageEvent,
    UsageMetric,
)
from protos.gen import telemetry_pb2 as pb

CALL_EVENT_TYPES = frozenset(get_args(CallEventType))
MEDIA_KINDS = frozenset(get_args(MediaKind))
USAGE_METRICS = frozenset(get_args(UsageMetric))
DIRECTIONS = frozenset({"inbound", "outbound"})


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
    """The record ``message`` carries; :class:`WireError` when a field is missing or out of range."""
    kind = message.WhichOneof("record")
    if kind == "call_event":
        return _call_event(message.call_event)
    if kind == "quality_sample":
        return _quality_sample(message.quality_sample)
    if kind == "usage_event":
        return _usage_event(message.usage_event)
    raise WireError("a telemetry record carries none of call_event, quality_sample, usage_event")


def _call_event(event: pb.CallEvent) -> CallEvent:
    _check_common(event.idempotency_key, event.at, "call_event")
    _one_of(event.type, CALL_EVENT_TYPES, "call_event.type")
    _name(event.room, "call_event.room")
    if event.type.startswith("participant"):
        _name(event.participant, "call_event.participant")
    try:
        attributes: Any = json.loads(event.attributes_json or "{}")
    except json.JSONDecodeError as error:
        raise WireError(f"call_event.attributes_json is not JSON: {error}") from None
    if not isinstance(attributes, dict):
        raise WireError("call_event.attributes_json must be a JSON object")
    return CallEvent(
        type=event.type,  # type: ignore[arg-type]  # checked by _one_of
        room=event.room,
        participant=event.participant or None,
        at=event.at,
        attributes=attributes,
        idempotency_key=event.idempotency_key,
    )


def _quality_sample(sample: pb.QualitySample) -> QualitySample:
    _check_common(sample.idempotency_key, sample.at, "quality_sample")
    _name(sample.room, "quality_sample.room")
    _name(sample.participant, "quality_sample.participant")
    _one_of(sample.media, MEDIA_KINDS, "quality_sample.media")
    _one_of(sample.direction or "inbound", DIRECTIONS, "quality_sample.direction")
    _within(sample.jitter_ms, 0, 1e6, "quality_sample.jitter_ms")
    _within(sample.loss_fraction, 0, 1, "quality_sample.loss_fraction")
    _within(sample.bitrate_kbps, 0, 1e7, "quality_sample.bitrate_kbps")
    _within(sample.mos, 1, 5, "quality_sample.mos")
    _within(sample.frames_per_second, 0, 1e4, "quality_sample.frames_per_second")
    _within(float(sample.packets_lost), -(2**31), 2**31, "quality_sample.packets_lost")
    rtt = sample.rtt_ms if sample.HasField("rtt_ms") else None
    if rtt is not None:
        _within(rtt, 0, 1e6, "quality_sample.rtt_ms")
    return QualitySample(
        room=sample.room,
        participant=sample.participant,
        media=sample.media,  # type: ignore[arg-type]  # checked by _one_of
        jitter_ms=sample.jitter_ms,
        packets_lost=sample.packets_lost,
        loss_fraction=sample.loss_fraction,
        rtt_ms=rtt,
        bitrate_kbps=sample.bitrate_kbps,
        mos=sample.mos,
        direction=sample.direction or "inbound",  # type: ignore[arg-type]
        connection_type=(sample.connection_type or "unknown")[:32],
        at=sample.at,
        idempotency_key=sample.idempotency_key,
        frames_per_second=sample.frames_per_second,
    )


def _usage_event(event: pb.UsageEvent) -> UsageEvent:
    _check_common(event.idempotency_key, event.at, "usage_event")
    _one_of(event.metric, USAGE_METRICS, "usage_event.metric")
    _within(event.quantity, 0, 1e15, "usage_event.quantity")
    return UsageEvent(
        metric=event.metric,  # type: ignore[arg-type]  # checked by _one_of
        quantity=event.quantity,
        room=event.room or None,
        participant=event.participant or None,
        feature=event.feature[:50],
        provider=event.provider[:100],
        at=event.at,
        idempotency_key=event.idempotency_key,
    )


def _check_common(key: str, at: float, kind: str) -> None:
    if not 1 <= len(key) <= 64:
        raise WireError(f"{kind}.idempotency_key must have 1 to 64 characters")
    _within(at, 0, 32503680000, f"{kind}.at")


def _name(value: str, field: str) -> None:
    if not 1 <= len(value) <= 200 or "\x00" in value:
        raise WireError(f"{field} must have 1 to 200 characters and no NUL")


def _one_of(value: str, allowed: frozenset[str], field: str) -> None:
    if value not in allowed:
        raise WireError(f"{field} is {value!r}; expected one of {', '.join(sorted(allowed))}")


def _within(value: float, low: float, high: float, field: str) -> None:
    if not low <= value <= high:  # also false for NaN
        raise WireError(f"{field} is {value!r}; expected {low:g}..{high:g}")
