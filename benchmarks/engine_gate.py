"""The engine's regression-gate figure: cheap, and steady on a loaded machine.

One round measures the CPU time per frame through a chain of ten pass-through
stages in many short repetitions, each right after a fixed reference workload
(plain Python method calls, like a hop's); the figure is the median of their
ratios. CPU time rather than wall time, because a hop's cost is CPU work and
CPU time does not count the time another process held the core; over the
reference, because on a shared (virtual) machine the speed of the core itself
changes by a factor of two within a minute, and it changes for both alike.
``auralink bench compare`` runs many such rounds for base and head, interleaved.

``AURALINK_BENCH_INJECT_SLOWDOWN=STAGE:FRACTION`` (e.g. ``pass0:0.10``) is for
calibrating the gate only: the named stage of the chain then spends an extra
FRACTION of the chain's own per-frame CPU time (measured first, in the same
process) on every frame, in an empty counted loop, so the figure is FRACTION worse.
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
GATE_FRAMES = 300
GATE_REPETITIONS = 40
REFERENCE_CALLS = 40_000
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
    """A pass-through stage that first spins an empty loop ``loops`` times on each frame.

    A counted loop rather than a clock: reading the clock twice a frame would
    itself cost a few percent of a ten-stage chain and overshoot the slowdown.
    """

    def __init__(self, name: str, loops: int) -> None:
        super().__init__(name, StageSettings())
        self.loops = loops

    def process(self, frame: Frame) -> None:
        for _ in range(self.loops):
            pass
        self.emit(frame)


def loops_per_us(loops: int = 50_000) -> float:
    """How many empty loop turns one CPU microsecond holds right now."""
    started = time.process_time()
    for _ in range(loops):
        pass
    return loops / ((time.process_time() - started) * 1e6)


async def _loops_per_frame(repetitions: int = 11) -> float:
    """The chain's per-frame CPU time in empty loop turns, each pair measured together so machine speed cancels."""
    samples = []
    for _ in range(repetitions):
        turns = loops_per_us()
        samples.append(turns * await _cpu_us_per_frame(GATE_CHAIN_LENGTH, GATE_FRAMES, None))
    return statistics.median(samples)


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


class _Counter:
    def __init__(self) -> None:
        self.total = 0

    def add(self, value: int) -> int:
        self.total += value & 7
        return self.total


def reference_cpu_us(calls: int = REFERENCE_CALLS) -> float:
    """CPU time per call of a fixed workload of method calls: the yardstick of the machine's speed right now."""
    counter = _Counter()
    started = time.process_time()
    for value in range(calls):
        counter.add(value)
    return (time.process_time() - started) / calls * 1e6


async def _measure(repetitions: int, slowed: Stage[StageSettings] | None) -> tuple[float, float]:
    """(median chain / reference ratio, median CPU µs per frame) over the repetitions."""
    ratios, costs = [], []
    for _ in range(repetitions):
        reference = reference_cpu_us()
        cost = await _cpu_us_per_frame(GATE_CHAIN_LENGTH, GATE_FRAMES, slowed)
        ratios.append(cost / reference)
        costs.append(cost)
    return statistics.median(ratios), statistics.median(costs)


async def gate_figures() -> list[Figure]:
    """One round of the engine gate."""
    slowdown = injected_slowdown()
    await _cpu_us_per_frame(GATE_CHAIN_LENGTH, GATE_FRAMES, None)  # warm-up
    slowed = None
    if slowdown is not None:
        if slowdown.stage not in {f"pass{i}" for i in range(GATE_CHAIN_LENGTH)}:
            raise ValueError(f"{INJECT_ENV}: the gate chain has stages pass0 … pass{GATE_CHAIN_LENGTH - 1}")
        slowed = SpinningPassThrough(slowdown.stage, round(await _loops_per_frame() * slowdown.fraction))
    relative, cost = await _measure(GATE_REPETITIONS, slowed)
    k = GATE_CHAIN_LENGTH
    return [
        Figure(
            f"frame_cost_k{k}",
            relative,
            "x ref",
            "lower",
            factor=GATE_FACTOR,
            note=f"CPU time per frame through {k} pass-through stages over a reference call's, median of "
            f"{GATE_REPETITIONS}",
        ),
        Figure(f"frame_cpu_us_k{k}", cost, "us", "info", note="the same in CPU microseconds (machine-dependent)"),
    ]
