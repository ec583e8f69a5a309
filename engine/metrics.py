"""Per-stage statistics, cheap enough to update on every frame.

Counters are plain integers and histograms fixed bucket arrays: a frame's hop
through a stage must cost microseconds, and Prometheus client objects take a
lock per update. :class:`GraphMetricsCollector` turns them into Prometheus
metric families only when scraped.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from engine.queues import FrameQueue

# Bucket upper bounds in nanoseconds: 100 ns .. 10 s, roughly 1-2.5-5 per decade.
DEFAULT_BOUNDS_NS: tuple[int, ...] = (
    *tuple(int(mantissa * 10**exponent) for exponent in range(2, 10) for mantissa in (1, 2.5, 5)),
    10000000000,
)


class Histogram:
    """A fixed-bucket histogram of nanosecond durations."""

    __slots__ = ("bounds", "count", "counts", "total_ns")

    def __init__(self, bounds: Sequence[int] = DEFAULT_BOUNDS_NS) -> None:
        self.bounds = tuple(bounds)
        self.counts = [0] * (len(self.bounds) + 1)
        self.total_ns = 0
        self.count = 0

    def observe(self, value_ns: int) -> None:
        self.counts[bisect_left(self.bounds, value_ns)] += 1
        self.total_ns += value_ns
        self.count += 1

    def quantile(self, q: float) -> float | None:
        """Quantile ``q`` in ns, interpolated linearly inside its bucket; ``None`` if empty."""
        if self.count == 0:
            return None
        rank = q * self.count
        seen = 0
        for index, bucket in enumerate(self.counts):
            if bucket and seen + bucket >= rank:
                if index == len(self.bounds):
                    return float("inf")
                lower = self.bounds[index - 1] if index else 0
                return lower + (self.bounds[index] - lower) * (rank - seen) / bucket
            seen += bucket
        return float("inf")

    def cumulative(self) -> list[tuple[str, int]]:
        """Prometheus-style ``(le, cumulative count)`` pairs, in seconds."""
        pairs = []
        running = 0
        for bound, bucket in zip(self.bounds, self.counts, strict=False):
            running += bucket
            pairs.append((repr(bound / 1e9), running))
        pairs.append(("+Inf", self.count))
        return pairs


class StageStats:
    """What one stage did: frames, drops, errors, time spent, latency of its output."""

    __slots__ = (
        "dropped",
        "errors",
        "frames_in",
        "frames_out",
        "latency",
        "processing",
        "queue",
        "restarts",
    )

    def __init__(self) -> None:
        self.frames_in = 0
        self.frames_out = 0
        self.dropped = 0
        self.errors = 0
        self.restarts = 0
        self.processing = Histogram()
        self.latency = Histogram()
        self.queue: FrameQueue | None = None

    def queue_depth(self) -> int:
        return 0 if self.queue is None else len(self.queue)

    def dropped_total(self) -> int:
        """Frames dropped by the stage's leaky queue or while it was restarting."""
        return self.dropped + (0 if self.queue is None else self.queue.dropped)

    def snapshot(self) -> dict[str, float | int | None]:
        """A JSON-ready summary (times in milliseconds)."""
        p50 = self.processing.quantile(0.5)
        lat = self.latency.quantile(0.5)
        return {
            "frames_in": self.frames_in,
            "frames_out": self.frames_out,
            "dropped": self.dropped_total(),
            "errors": self.errors,
            "restarts": self.restarts,
            "queue_depth": self.queue_depth(),
            "processing_p50_ms": None if p50 is None else p50 / 1e6,
            "latency_p50_ms": None if lat is None else lat / 1e6,
        }


StatsSource = Callable[[], Iterator[tuple[str, str, StageStats]]]
"""Yields ``(graph name, stage name, stats)`` for every stage to export."""


class GraphMetricsCollector(Collector):
    """Exports every stage's :class:`StageStats` as Prometheus metrics."""

    def __init__(self, stats: StatsSource) -> None:
        self._stats = stats

    def collect(self) -> Iterator[Metric]:
        labels = ["graph", "stage"]
        counters = {
            "frames_in": CounterMetricFamily("auralink_stage_frames_in", "Frames received", labels=labels),
            "frames_out": CounterMetricFamily("auralink_stage_frames_out", "Frames emitted", labels=labels),
            "dropped": CounterMetricFamily("auralink_stage_dropped", "Frames dropped", labels=labels),
            "errors": CounterMetricFamily("auralink_stage_errors", "Stage failures", labels=labels),
            "restarts": CounterMetricFamily("auralink_stage_restarts", "Stage restarts", labels=labels),
        }
        depth = GaugeMetricFamily("auralink_stage_queue_depth", "Frames waiting", labels=labels)
        processing: HistogramMetricFamily = HistogramMetricFamily(
            "auralink_stage_processing_seconds", "Time in the stage per frame", labels=labels
        )
        latency: HistogramMetricFamily = HistogramMetricFamily(
            "auralink_stage_latency_seconds", "End-to-end latency of frames reaching a sink", labels=labels
        )
        for graph, stage, stats in self._stats():
            values = [graph, stage]
            for attribute, family in counters.items():
                value = stats.dropped_total() if attribute == "dropped" else getattr(stats, attribute)
                family.add_metric(values, value)
            depth.add_metric(values, stats.queue_depth())
            for histogram, histogram_family in ((stats.processing, processing), (stats.latency, latency)):
                if histogram.count:
                    histogram_family.add_metric(values, histogram.cumulative(), histogram.total_ns / 1e9)
        yield from counters.values()
        yield depth
        yield processing
        yield latency
