"""The engine's regression-gate figure: cheap, and steady on a loaded machine.

One round measures the CPU time per frame through a chain of ten pass-through
stages, as the median of many short repetitions; ``auralink bench compare``
runs many such rounds for base and head, interleaved. CPU time rather than
wall time, because what a pass-through hop costs is CPU work, and CPU time
does not count the time another process held the core.

``AURALINK_BENCH_INJECT_SLOWDOWN=STAGE:FRACTION`` (e.g. ``pass0:0.10``) is for
calibrating the gate only: the named stage of the chain then spends an extra
FRACTION of the chain's own per-frame CPU time (measured first, in the same
process) on every frame, so the figure is FRACTION worse.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass

from benchmarks.chain import BenchSource, LatencySink, PassThrough, chain_graph
from benchmarks.core import Figure
from engine.frames import Frame
from engine.runner import GraphRunner
from engine.stage import Stage, StageSettings

INJECT_ENV = "AURALINK_BENCH_INJECT_SLOWDOWN"
GATE_CHAIN_LENGTH = 10
GATE_FRAMES = 2_000
GATE_REPETITIONS = 15
GATE_FACTOR = 1.05
"""Below the 10 % slowdown the calibration injects, so that a 10 % regression is past the factor."""


@dataclass(frozen=True)
class Slowdown:
    stage: str
    fraction: float


def injected_slowdown(environ: dict[str, str] | None = None) -> Slowdown | None:
    """The slowdown the calibration asked for, if any; a malformed switch is an error, not ignored."""
    raw = (os.environ if environ is None else environ).get(INJECT_ENV, "").strip()
    if not raw:
        return None
    stage, _, fraction = raw.partition(":")
    try:
        value = float(fraction)
    except ValueError:
        value = -1.0
    if not stage or not 0 < value <= 10:
        raise ValueError(f"{INJECT_ENV}={raw!r}: expected STAGE:FRACTION, e.g. pass0:0.10")
    return Slowdown(stage, value)


class SpinningPassThrough(PassThrough):
    """A pass-through stage that spends ``extra_ns`` of CPU on each frame first."""

    def __init__(self, name: str, extra_ns: int) -> None:
        super().__init__(name, StageSettings())
        self.extra_ns = extra_ns

    def process(self, frame: Frame) -> None:
        until = time.perf_counter_ns() + self.extra_ns
        while time.perf_counter_ns() < until:
            pass
        self.emit(frame)


async def _cpu_us_per_frame(k: int, frames: int, slowed: Stage[StageSettings] | None) -> float:
    source = BenchSource(frames, None)
    sink = LatencySink(record=False)

    def make_stage(name: str) -> Stage[StageSettings]:
        return slowed if slowed is not None and name == slowed.name else PassThrough(name, StageSettings())

    runner = GraphRunner(chain_graph(k, source, sink, make_stage))
    started = time.process_time()
    result = await runner.run()
    spent = time.process_time() - started
    if not result.ok or sink.received != frames:
        raise RuntimeError(f"gate chain delivered {sink.received}/{frames} frames: {result.error}")
    return spent / frames * 1e6


async def _median_cpu_us(repetitions: int, slowed: Stage[StageSettings] | None = None) -> float:
    samples = [await _cpu_us_per_frame(GATE_CHAIN_LENGTH, GATE_FRAMES, slowed) for _ in range(repetitions)]
    return statistics.median(samples)


async def gate_figures() -> list[Figure]:
    """One round of the engine gate."""
    slowdown = injected_slowdown()
    await _cpu_us_per_frame(GATE_CHAIN_LENGTH, GATE_FRAMES // 4, None)  # warm-up
    slowed = None
    if slowdown is not None:
        if slowdown.stage not in {f"pass{i}" for i in range(GATE_CHAIN_LENGTH)}:
            raise ValueError(f"{INJECT_ENV}: the gate chain has stages pass0 … pass{GATE_CHAIN_LENGTH - 1}")
        plain = await _median_cpu_us(5)
        slowed = SpinningPassThrough(slowdown.stage, round(plain * slowdown.fraction * 1e3))
    figure = Figure(
        f"frame_cpu_us_k{GATE_CHAIN_LENGTH}",
        await _median_cpu_us(GATE_REPETITIONS, slowed),
        "us",
        "lower",
        factor=GATE_FACTOR,
        note=f"CPU time per frame through {GATE_CHAIN_LENGTH} pass-through stages, median of {GATE_REPETITIONS}",
    )
    return [figure]
