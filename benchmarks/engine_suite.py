"""The graph runtime: per-hop cost, throughput, latency and memory, beside Pipecat (``auralink bench engine``).

A chain of K = 1, 5, 10, 20 pass-through stages carries 20 ms frames of
16 kHz mono audio. Throughput pushes frames back to back; latency paces them
(one per millisecond, so the chain is never saturated) and measures each
frame from its creation to the sink. The per-hop cost is the slope of the
time per frame over K. A second run puts a stage ten times too slow behind a
leaky queue and samples the process's memory, which must stay flat. When
``pipecat-ai`` is installed, the same chain runs on Pipecat in the same process
and the ratios are reported.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import ClassVar

import numpy as np
import psutil

from benchmarks.chain import SAMPLE_RATE, BenchSource, ChainRun, LatencySink, run_auralink_chain
from benchmarks.core import BenchOptions, Figure, SuiteResult, register_suite, stamp
from benchmarks.engine_gate import gate_figures
from engine.caps import ANY_AUDIO, Caps
from engine.frames import AudioFrame, Frame
from engine.graph import Graph, LinkSpec, QueueSpec, StageSpec
from engine.queues import QueuePolicy
from engine.runner import GraphRunner
from engine.stage import Placement, Stage, StageSettings

CHAIN_LENGTHS = (1, 5, 10, 20)
PACED_INTERVAL_S = 0.001
LEAKY_QUEUE_SIZE = 50


def _slope(xs: list[int], ys: list[float]) -> float:
    return float(np.polyfit(np.asarray(xs, dtype=float), np.asarray(ys, dtype=float), 1)[0])


class SlowStage(Stage[StageSettings]):
    """Takes ``delay_s`` per frame, awaiting like a stage stuck on I/O."""

    type_name = "slow_stage"
    placement = Placement.TASK
    input_caps: ClassVar[Caps] = ANY_AUDIO

    def __init__(self, delay_s: float) -> None:
        super().__init__("slow", StageSettings())
        self.delay_s = delay_s

    async def process_async(self, frame: Frame) -> None:
        await asyncio.sleep(self.delay_s)
        self.emit(frame)


class FreshFrameSource(BenchSource):
    """Like :class:`BenchSource`, but every frame owns its payload (as real audio does)."""

    async def frames(self) -> AsyncIterator[Frame]:
        async for frame in super().frames():
            assert isinstance(frame, AudioFrame)
            frame.samples = np.ones_like(frame.samples)
            yield frame


async def _leaky_memory(seconds: float) -> dict[str, float]:
    interval = 0.0005
    source = FreshFrameSource(int(seconds / interval), interval)
    sink = LatencySink(record=False)
    graph = Graph.build(
        "leaky",
        [
            StageSpec("source", lambda: source),
            StageSpec("slow", lambda: SlowStage(interval * 10)),
            StageSpec("sink", lambda: sink),
        ],
        [LinkSpec("source", "slow", QueueSpec(LEAKY_QUEUE_SIZE, QueuePolicy.LEAKY)), LinkSpec("slow", "sink")],
    )
    runner = GraphRunner(graph)
    process = psutil.Process()
    samples: list[float] = []
    depth = 0

    async def sample() -> None:
        nonlocal depth
        while True:
            await asyncio.sleep(0.1)
            samples.append(process.memory_info().rss / 2**20)
            depth = max(depth, runner.nodes["slow"].stats.queue_depth())

    sampler = asyncio.create_task(sample())
    result = await runner.run()
    sampler.cancel()
    steady = samples[len(samples) // 4 :] or samples
    stats = result.stats["slow"]
    return {
        "rss_growth_mb": max(steady) - min(steady),
        "max_queue_depth": float(depth),
        "dropped_fraction": stats["dropped"] / max(1, source.count),
    }


ChainRunner = Callable[[int, int, float | None], Awaitable[ChainRun]]


def _anchor() -> tuple[str, ChainRunner] | None:
    try:
        from benchmarks.anchors import pipecat_chain
    except ImportError:
        return None
    if not pipecat_chain.pipecat_available():
        return None
    return pipecat_chain.pipecat_version(), pipecat_chain.run_pipecat_chain


async def _measure(options: BenchOptions) -> SuiteResult:
    frames = 2_000 if options.quick else 20_000
    paced = 300 if options.quick else 2_000
    figures: list[Figure] = []
    notes = [f"paced latency: one frame every {PACED_INTERVAL_S * 1e3:g} ms; frames of 20 ms at {SAMPLE_RATE} Hz"]
    ours: dict[int, tuple[ChainRun, ChainRun]] = {}
    for k in CHAIN_LENGTHS:
        await run_auralink_chain(k, min(frames, 1_000), None)  # warm-up
        ours[k] = (await run_auralink_chain(k, frames, None), await run_auralink_chain(k, paced, PACED_INTERVAL_S))
    for k, (fast, slow) in ours.items():
        figures += [
            Figure(f"throughput_k{k}", fast.frames_per_s, "frames/s", "higher"),
            Figure(f"latency_p50_k{k}", slow.latency_us(0.5), "us", "lower", 0.5),
            Figure(f"latency_p99_k{k}", slow.latency_us(0.99), "us", "lower", 1.0),
        ]
    ks = list(ours)
    figures.append(
        Figure(
            "per_hop_us",
            _slope(ks, [1e6 / ours[k][0].frames_per_s for k in ks]),
            "us",
            "lower",
            0.25,
            target=5.0,
            note="slope of time per frame over K",
        )
    )
    figures.append(
        Figure(
            "per_hop_p99_us",
            _slope(ks, [ours[k][1].latency_us(0.99) for k in ks]),
            "us",
            "lower",
            1.0,
            target=10.0,
            note="slope of p99 latency over K",
        )
    )
    figures.append(Figure("peak_rss_mb", psutil.Process().memory_info().rss / 2**20, "MiB", "lower", 0.25))
    leaky = await _leaky_memory(1.5 if options.quick else 4.0)
    figures += [
        Figure(
            "leaky_rss_growth_mb",
            leaky["rss_growth_mb"],
            "MiB",
            "info",
            target=None,
            note="memory growth with a stage 10x too slow behind a leaky queue",
        ),
        Figure(
            "leaky_max_queue_depth", leaky["max_queue_depth"], "frames", "lower", 0.0, target=float(LEAKY_QUEUE_SIZE)
        ),
        Figure("leaky_dropped_fraction", leaky["dropped_fraction"], "ratio", "info"),
    ]
    anchor = _anchor()
    if anchor is None:
        notes.append("pipecat-ai is not installed: no side-by-side figures (pip install 'auralink[bench]')")
    else:
        pipecat_version, run_pipecat = anchor
        figures += await _versus_pipecat(run_pipecat, ours, frames, paced)
        notes.append(f"anchor: pipecat-ai {pipecat_version}, lean (RTVI, turn tracking, metrics off)")
    return SuiteResult("engine", figures, notes=notes)


async def _versus_pipecat(
    run_pipecat: ChainRunner, ours: dict[int, tuple[ChainRun, ChainRun]], frames: int, paced: int
) -> list[Figure]:
    figures = []
    theirs: dict[int, tuple[ChainRun, ChainRun]] = {}
    for k in CHAIN_LENGTHS:
        count = max(200, frames // 5)  # Pipecat is far slower per frame: keep the run short
        theirs[k] = (await run_pipecat(k, count, None), await run_pipecat(k, paced, PACED_INTERVAL_S))
        figures.append(Figure(f"pipecat_throughput_k{k}", theirs[k][0].frames_per_s, "frames/s", "info"))
    ks = list(theirs)
    figures.append(
        Figure("pipecat_per_hop_us", _slope(ks, [1e6 / theirs[k][0].frames_per_s for k in ks]), "us", "info")
    )
    figures.append(Figure("pipecat_latency_p50_k10", theirs[10][1].latency_us(0.5), "us", "info"))
    figures.append(Figure("pipecat_latency_p99_k10", theirs[10][1].latency_us(0.99), "us", "info"))
    figures.append(
        Figure(
            "throughput_ratio_vs_pipecat_k10",
            ours[10][0].frames_per_s / theirs[10][0].frames_per_s,
            "x",
            "higher",
            0.5,
            target=5.0,
        )
    )
    figures.append(
        Figure(
            "latency_p99_ratio_vs_pipecat_k10",
            theirs[10][1].latency_us(0.99) / max(ours[10][1].latency_us(0.99), 1e-9),
            "x",
            "info",
        )
    )
    return figures


@register_suite("engine")
def engine_suite(options: BenchOptions) -> SuiteResult:
    started = time.perf_counter()
    if options.gate:
        return stamp(SuiteResult("engine", asyncio.run(gate_figures())))
    result = asyncio.run(_measure(options))
    result.notes.append(f"suite took {time.perf_counter() - started:.1f} s")
    return stamp(result, "pipecat-ai")
