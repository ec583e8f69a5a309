"""A linear chain of pass-through stages carrying 20 ms frames of 16 kHz mono audio.

The same measurement runs on AuraLink's engine and on anchors (other
frameworks) so that the numbers compare side by side in one run.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from engine.caps import ANY_AUDIO, Caps, audio
from engine.frames import AudioFrame, Frame, now_ns
from engine.graph import Graph, LinkSpec, StageSpec
from engine.runner import GraphRunner
from engine.stage import Source, Stage, StageSettings

SAMPLE_RATE = 16_000
FRAME_SAMPLES = 320  # 20 ms


@dataclass
class ChainRun:
    """What one chain run measured."""

    frames: int
    seconds: float
    latencies_ns: list[int] = field(default_factory=list)

    @property
    def frames_per_s(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0

    def latency_us(self, q: float) -> float:
        return float(np.percentile(np.asarray(self.latencies_ns), q * 100)) / 1e3 if self.latencies_ns else 0.0


class BenchSource(Source[StageSettings]):
    """Yields ``count`` audio frames, back to back or every ``interval_s``."""

    type_name = "bench_source"

    def __init__(self, count: int, interval_s: float | None) -> None:
        super().__init__("source", StageSettings())
        self.count = count
        self.interval_s = interval_s
        self.samples = np.zeros((FRAME_SAMPLES, 1), dtype=np.int16)

    def source_caps(self) -> Caps:
        return Caps.of(audio(rate=SAMPLE_RATE, channels=1, sample_format="s16"))

    async def frames(self) -> AsyncIterator[Frame]:
        started = time.perf_counter()
        for index in range(self.count):
            if self.interval_s is not None:
                delay = started + index * self.interval_s - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            yield AudioFrame(
                pts_ns=index * 20_000_000, ingest_ns=now_ns(), samples=self.samples, sample_rate=SAMPLE_RATE
            )


class PassThrough(Stage[StageSettings]):
    """Emits every frame it receives, unchanged."""

    type_name = "pass_through"
    input_caps: ClassVar[Caps] = ANY_AUDIO


class LatencySink(Stage[StageSettings]):
    """Counts frames and records each one's end-to-end latency."""

    type_name = "latency_sink"
    input_caps: ClassVar[Caps] = ANY_AUDIO

    def __init__(self, record: bool) -> None:
        super().__init__("sink", StageSettings())
        self.record = record
        self.received = 0
        self.latencies_ns: list[int] = []

    def process(self, frame: Frame) -> None:
        self.received += 1
        if self.record:
            self.latencies_ns.append(now_ns() - frame.ingest_ns)


def chain_graph(
    k: int, source: BenchSource, sink: LatencySink, make_stage: Callable[[str], Stage[StageSettings]] | None = None
) -> Graph:
    """source -> K pass-through stages (``pass0`` …, or what ``make_stage`` makes of each name) -> sink."""
    names = [f"pass{i}" for i in range(k)]
    make = make_stage or (lambda name: PassThrough(name, StageSettings()))
    stages = [StageSpec("source", lambda: source)]
    stages += [StageSpec(name, lambda name=name: make(name)) for name in names]  # type: ignore[misc]
    stages.append(StageSpec("sink", lambda: sink))
    order = ["source", *names, "sink"]
    links = [LinkSpec(a, b) for a, b in itertools.pairwise(order)]
    return Graph.build(f"chain{k}", stages, links)


async def timed_chain(
    k: int, source: BenchSource, sink: LatencySink, expected: int, clock: Callable[[], float] = time.perf_counter
) -> float:
    """Run source -> K stages -> sink on AuraLink's engine; seconds on ``clock``, once every frame arrived."""
    runner = GraphRunner(chain_graph(k, source, sink))
    started = clock()
    result = await runner.run()
    seconds = clock() - started
    if not result.ok or sink.received != expected:
        raise RuntimeError(f"chain K={k} delivered {sink.received}/{expected} frames: {result.error}")
    return seconds


async def run_auralink_chain(k: int, frames: int, interval_s: float | None) -> ChainRun:
    """Run the chain on AuraLink's engine; latency is recorded only when paced."""
    sink = LatencySink(record=interval_s is not None)
    seconds = await timed_chain(k, BenchSource(frames, interval_s), sink, frames)
    return ChainRun(frames, seconds, sink.latencies_ns)
