"""Micro-benchmarks with pytest-benchmark: ``pytest benchmarks/ --benchmark-enable``.

In the test suite they run once each (benchmarking disabled) as smoke tests.
"""

from __future__ import annotations

import asyncio

import numpy as np
from pytest_benchmark.fixture import BenchmarkFixture

from benchmarks.chain import BenchSource, LatencySink, chain_graph
from engine.frames import AudioFrame, now_ns
from engine.runner import GraphRunner
from pipeline.stages.level_meter import LevelMeter, LevelMeterSettings
from pipeline.stages.resample import Resample, ResampleSettings


def _frame(rate: int = 16000, samples: int = 320) -> AudioFrame:
    data = (np.sin(np.arange(samples) / 5) * 8000).astype(np.int16)[:, None]
    return AudioFrame(pts_ns=0, ingest_ns=now_ns(), samples=data, sample_rate=rate)


def test_push_one_frame_through_ten_stages(benchmark: BenchmarkFixture) -> None:
    sink = LatencySink(record=False)
    runner = GraphRunner(chain_graph(10, BenchSource(0, None), sink))
    source = runner.nodes["source"]
    frame = _frame()
    benchmark(source.emit, frame)
    assert sink.received >= 1


def test_level_meter_on_one_frame(benchmark: BenchmarkFixture) -> None:
    meter = LevelMeter("meter", LevelMeterSettings())
    out: list[object] = []
    meter.bind(out.append, lambda event: None)
    frame = _frame()
    benchmark(meter.process, frame)
    assert out


def test_resample_48k_to_16k_one_frame(benchmark: BenchmarkFixture) -> None:
    stage = Resample("rs", ResampleSettings(sample_rate=16000))
    out: list[object] = []
    stage.bind(out.append, lambda event: None)
    frame = _frame(48000, 960)
    benchmark(stage.process, frame)
    assert out


def test_run_a_short_graph_end_to_end(benchmark: BenchmarkFixture) -> None:
    async def run() -> int:
        sink = LatencySink(record=False)
        await GraphRunner(chain_graph(5, BenchSource(500, None), sink)).run()
        return sink.received

    assert benchmark(lambda: asyncio.run(run())) == 500
