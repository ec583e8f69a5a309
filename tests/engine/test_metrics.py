from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from engine.graph import Graph, LinkSpec, StageSpec
from engine.metrics import GraphMetricsCollector, Histogram
from engine.runner import GraphRunner
from tests.engine.stages import CountingSource, Recorder, Tagger


async def test_stage_metrics_export_in_prometheus_text_format() -> None:
    graph = Graph.build(
        "calls",
        [
            StageSpec("src", lambda: CountingSource(count=25)),
            StageSpec("tag", lambda: Tagger("tag")),
            StageSpec("out", lambda: Recorder("out")),
        ],
        [LinkSpec("src", "tag"), LinkSpec("tag", "out")],
    )
    runner = GraphRunner(graph)
    await runner.run()
    registry = CollectorRegistry()
    registry.register(GraphMetricsCollector(runner.stats))
    text = generate_latest(registry).decode()
    samples = {
        (sample.name, sample.labels.get("stage")): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    assert samples[("auralink_stage_frames_in_total", "tag")] == 25
    assert samples[("auralink_stage_frames_out_total", "tag")] == 50
    assert samples[("auralink_stage_processing_seconds_count", "tag")] == 25
    assert samples[("auralink_stage_latency_seconds_count", "out")] == 50
    assert samples[("auralink_stage_queue_depth", "out")] == 0
    assert 'graph="calls"' in text


def test_histogram_quantiles_come_from_bucket_bounds() -> None:
    histogram = Histogram([10, 100, 1000])
    for value in (5, 50, 50, 500, 5000):
        histogram.observe(value)
    assert histogram.quantile(0.5) == 77.5  # 3/4 of the way through the (10, 100] bucket
    assert histogram.quantile(1.0) == float("inf")
    assert histogram.cumulative()[-1] == ("+Inf", 5)
    assert Histogram().quantile(0.5) is None
