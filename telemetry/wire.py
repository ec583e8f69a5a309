"""Telemetry records on the wire: :mod:`telemetry.records` records to and from ``protos/telemetry.proto``.

Both ends use these functions (the engine's gRPC reporter and the control plane's
service), so a record means the same thing on either side.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from protos.gen import telemetry_pb2 as pb
from telemetry.records import CallEvent, QualitySample, RecordT, TelemetryRecord, UsageEvent


class WireError(ValueError):
    """A record on the wire is not one the control plane can store; the message says which field."""


def to_proto(record: TelemetryRecord) -> pb.TelemetryRecord:
    if isinstance(record, CallEvent):
        attributes_json = json.dumps(record.attributes, default=str)
        return pb.TelemetryRecord(call_event=pb.CallEvent(**_set_fields(record, attributes_json=attributes_json)))
    if isinstance(record, QualitySample):
        return pb.TelemetryRecord(quality_sample=pb.QualitySample(**_set_fields(record)))
    return pb.TelemetryRecord(usage_event=pb.UsageEvent(**_set_fields(record)))


def _set_fields(record: TelemetryRecord, **wire_only: Any) -> dict[str, Any]:
    """The record's fields under their own names, which the messages share, less those unset (``None``)."""
    values = {name: getattr(record, name) for name in _FIELD_NAMES[type(record)] if name not in _NOT_ON_WIRE}
    return {name: value for name, value in (values | wire_only).items() if value is not None}


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


_FIELD_NAMES: dict[type[Any], tuple[str, ...]] = {
    kind: tuple(field.name for field in dataclasses.fields(kind)) for kind in (CallEvent, QualitySample, UsageEvent)
}
_NOT_ON_WIRE = {"attributes"}
"""Record fields the messages carry in another form (a call event's attributes as ``attributes_json``)."""

_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {
    kind: TypeAdapter(kind) for kind in (CallEvent, QualitySample, UsageEvent)
}
ValidatedT = TypeVar("ValidatedT")


def validated(kind: type[ValidatedT], fields: dict[str, Any], prefix: str) -> ValidatedT:
    """``fields`` as a ``kind`` checked against the limits it declares; :class:`WireError` names the field."""
    adapter = _ADAPTERS.get(kind)
    if adapter is None:
        adapter = _ADAPTERS[kind] = TypeAdapter(kind)
    try:
        record: ValidatedT = adapter.validate_python(fields)
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"] if not isinstance(part, int))
        # the only patterns the records declare keep NUL out (PostgreSQL text cannot hold it)
        said = "contains a NUL character" if problem["type"] == "string_pattern_mismatch" else problem["msg"]
        shown = repr(problem["input"])
        shown = shown if len(shown) <= 60 else f"{shown[:57]}…"  # a long text is refused for its length
        raise WireError(f"{prefix}.{where} is {shown}: {said}") from None
    return record


def _record_fields(message: Any, kind: type[RecordT], **differing: Any) -> dict[str, Any]:
    """``message``'s values for the fields of ``kind`` (the same names), with ``differing`` where they differ."""
    return {name: differing[name] if name in differing else getattr(message, name) for name in _FIELD_NAMES[kind]}


def _call_event(event: pb.CallEvent) -> CallEvent:
    if event.type.startswith("participant") and not event.participant:
        raise WireError(f"call_event.participant must be set for a {event.type} event")
    try:
        attributes: Any = json.loads(event.attributes_json or "{}")
    except json.JSONDecodeError as error:
        raise WireError(f"call_event.attributes_json is not JSON: {error}") from None
    if not isinstance(attributes, dict):
        raise WireError("call_event.attributes_json must be a JSON object")
    fields = _record_fields(event, CallEvent, participant=event.participant or None, attributes=attributes)
    return validated(CallEvent, fields, "call_event")


def _quality_sample(sample: pb.QualitySample) -> QualitySample:
    fields = _record_fields(
        sample,
        QualitySample,
        rtt_ms=sample.rtt_ms if sample.HasField("rtt_ms") else None,
        direction=sample.direction or "inbound",
        connection_type=(sample.connection_type or "unknown")[:32],
    )
    return validated(QualitySample, fields, "quality_sample")


def _usage_event(event: pb.UsageEvent) -> UsageEvent:
    fields = _record_fields(
        event,
        UsageEvent,
        room=event.room or None,
        participant=event.participant or None,
        feature=event.feature[:50],
        provider=event.provider[:100],
    )
    return validated(UsageEvent, fields, "usage_event")
