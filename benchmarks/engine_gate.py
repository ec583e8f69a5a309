"""The engine's regression-gate figure: cheap, and steady on a loaded machine.

One round measures the CPU time per frame through a chain of ten pass-through
stages in many short repetitions, each right after a fixed reference workload
(plain Python method calls, like a hop's); the figure is the median of their
ratios. CPU time rather than wall time, because a hop's cost is CPU work and
CPU time does not count the time another process held the core; over the
reference, because on a shared (virtual) machine the speed of the core itself
changes by a factor of two within a minute, and it changes for both alike.
``auralink bench compare`` runs many such rounds for base and head, interleaved.

``AURALINK_BENCH_INJECT_SLOWDOWN=source:FRACTION`` (e.g. ``source:0.10``) is for
calibrating the gate only: the chain's source then sends one frame in every
1/FRACTION through the chain twice, while the figure still divides by the
frames counted once, so each frame costs FRACTION more of the chain's own work.
Repeating the chain's own work, rather than spinning, makes the slowdown FRACTION
by construction: spins came out at 8 % to 16 % instead of 10 % on the loaded
machine (a short loop run once a frame goes at another speed than the loop it
was timed with, and reading a clock in the spin costs time of its own).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from benchmarks.chain import SAMPLE_RATE, BenchSource, LatencySink, timed_chain
from benchmarks.core import Figure
from engine.frames import AudioFrame, Frame, now_ns

INJECT_ENV = "AURALINK_BENCH_INJECT_SLOWDOWN"
GATE_CHAIN_LENGTH = 10
GATE_FRAMES = 300
GATE_REPETITIONS = 40
REFERENCE_CALLS = 40_000
GATE_FACTOR = 1.05
"""Below the 10 % slowdown the calibration injects, so that a 10 % regression is past the factor."""
INJECT_EXAMPLE = "source:0.10"


@dataclass(frozen=True)
class Slowdown:
    stage: str
    fraction: float

    @property
    def every(self) -> int:
        """One frame in this many goes through twice."""
        return max(1, round(1 / self.fraction))


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
    if not stage or not 0 < value <= 1:
        raise ValueError(f"{INJECT_ENV}={raw!r}: expected STAGE:FRACTION, e.g. source:0.10")
    if stage != "source":
        raise ValueError(f"{INJECT_ENV}={raw!r}: the gate chain can slow down its stage 'source' only")
    return Slowdown(stage, value)


class RepeatingSource(BenchSource):
    """A :class:`BenchSource` that sends every ``every``-th frame twice."""

    def __init__(self, count: int, every: int) -> None:
        super().__init__(count, None)
        self.every = every

    @property
    def sent(self) -> int:
        return self.count + self.count // self.every

    async def frames(self) -> AsyncIterator[Frame]:
        # BenchSource's own loop (unpaced), not a wrapper around it: another async generator in between
        # would cost every frame, not only the repeated ones
        for index in range(self.count):
            frame = AudioFrame(
                pts_ns=index * 20_000_000, ingest_ns=now_ns(), samples=self.samples, sample_rate=SAMPLE_RATE
            )
            yield frame
            if (index + 1) % self.every == 0:
                yield frame  # the same frame again: the stages downstream only pass it on


async def _cpu_us_per_frame(k: int, frames: int, slowdown: Slowdown | None) -> float:
    """CPU time per frame counted once (a repeated frame's work is charged to the frames)."""
    source = BenchSource(frames, None) if slowdown is None else RepeatingSource(frames, slowdown.every)
    expected = source.sent if isinstance(source, RepeatingSource) else frames
    spent = await timed_chain(k, source, LatencySink(record=False), expected, time.process_time)
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


async def _measure(repetitions: int, slowdown: Slowdown | None) -> tuple[float, float]:
    """(median chain / reference ratio, median CPU µs per frame) over the repetitions."""
    ratios, costs = [], []
    for _ in range(repetitions):
        reference = reference_cpu_us()
        cost = await _cpu_us_per_frame(GATE_CHAIN_LENGTH, GATE_FRAMES, slowdown)
        ratios.append(cost / reference)
        costs.append(cost)
    return statistics.median(ratios), statistics.median(costs)


async def gate_figures() -> list[Figure]:
    """One round of the engine gate."""
    slowdown = injected_slowdown()
    await _cpu_us_per_frame(GATE_CHAIN_LENGTH, GATE_FRAMES, None)  # warm-up
    relative, cost = await _measure(GATE_REPETITIONS, slowdown)
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
