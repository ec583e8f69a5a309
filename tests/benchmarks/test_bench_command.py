import json
from pathlib import Path

import pytest

from benchmarks.calls_suite import Step
from benchmarks.core import Figure, SuiteResult, compare
from tests.cli.helpers import invoke
from tests.support.databases import REDIS_URL


@pytest.mark.slow
def test_engine_suite_runs_writes_json_and_compares(tmp_path: Path, data_dir: Path) -> None:
    out = tmp_path / "now.json"
    result = invoke("bench", "engine", "--quick", "--json", str(out))
    assert result.exit_code == 0, result.output
    kept = list((data_dir / "bench-results").glob("bench-*.json"))  # for `bench history`
    assert len(kept) == 1 and json.loads(kept[0].read_text())["results"] == json.loads(out.read_text())["results"]
    data = json.loads(out.read_text())
    suite = data["results"][0]
    names = {figure["name"] for figure in suite["figures"]}
    assert {
        "per_hop_us",
        "per_hop_p99_us",
        "throughput_k10",
        "latency_p99_k20",
        "peak_rss_mb",
        "leaky_max_queue_depth",
    } <= names
    assert suite["machine"]["cores"] and suite["versions"]["numpy"]
    # the same results as a baseline: nothing regresses
    assert invoke("bench", "--results", str(out), "--compare", str(out)).exit_code == 0
    # a baseline that was ten times faster: the comparison fails and says which figure regressed
    for figure in suite["figures"]:
        if figure["name"] == "per_hop_us":
            figure["value"] /= 10
    faster = tmp_path / "faster.json"
    faster.write_text(json.dumps(data))
    result = invoke("bench", "--results", str(out), "--compare", str(faster))
    assert result.exit_code == 1
    assert any("per_hop_us" in line and "REGRESSED" in line for line in result.stdout.splitlines())


def test_unknown_suite_is_refused() -> None:
    result = invoke("bench", "nope")
    assert result.exit_code == 2 and "unknown suite 'nope'; known: " in result.output and "engine" in result.output


def test_bench_lists_its_subcommands_and_still_takes_a_suite_first() -> None:
    group_help = invoke("bench", "--help")
    assert group_help.exit_code == 0 and all(name in group_help.output for name in ("run", "compare", "history"))
    listed = invoke("bench", "--list")
    assert listed.exit_code == 0 and "engine:" in listed.output
    assert invoke("bench", "run", "--list").output == listed.output


def test_a_scale_out_of_range_is_refused_before_anything_runs() -> None:
    for scale in ("0", "-1", "1000", "lots"):
        result = invoke("bench", "control-plane", "--scale", scale)
        assert result.exit_code == 2, result.output
        assert "--scale" in result.output


def test_compare_respects_direction_and_tolerance() -> None:
    base = SuiteResult(
        "s",
        [
            Figure("lat", 10, "us", "lower", 0.2),
            Figure("fps", 100, "f/s", "higher", 0.2),
            Figure("info", 1, "x", "info"),
        ],
    )
    now = SuiteResult(
        "s",
        [
            Figure("lat", 11.9, "us", "lower", 0.2),
            Figure("fps", 79, "f/s", "higher", 0.2),
            Figure("info", 50, "x", "info"),
            Figure("new", 1, "x"),
        ],
    )
    rows = {row.name: row for row in compare(now, base)}
    assert not rows["lat"].regressed and rows["fps"].regressed and not rows["info"].regressed
    assert rows["new"].baseline is None


def test_targets_are_judged_by_direction() -> None:
    assert Figure("a", 4, "us", "lower", target=5).meets_target is True
    assert Figure("b", 4, "x", "higher", target=5).meets_target is False
    assert Figure("c", 4, "x", "info", target=5).meets_target is None


@pytest.mark.slow
def test_calls_suite_measures_join_time_concurrency_and_cpu(tmp_path: Path) -> None:
    out = tmp_path / "calls.json"
    result = invoke("bench", "calls", "--quick", "--json", str(out))
    assert result.exit_code == 0, result.output
    figures = {figure["name"]: figure for figure in json.loads(out.read_text())["results"][0]["figures"]}
    assert 0 < figures["join_p50_ms"]["value"] <= figures["join_p95_ms"]["value"] < 5000
    assert figures["join_p50_ms"]["target"] == 300 and figures["sustained_participants"]["target"] == 50
    assert figures["engine_cpu_at_5"]["value"] > 0 and "dropped_at_5" in figures
    assert 0 < figures["paced_at_5"]["value"] <= 1.1


def test_a_step_whose_publishers_fell_behind_real_time_is_not_sustained() -> None:
    """A starved load generator sends fewer frames and the engine drops none of them: that is not a step held."""
    kept_up = Step(40, dropped_fraction=0.0, shortfall_fraction=0.0, engine_cpu_cores=0.5, load_cpu_cores=0.9,
                   paced_fraction=0.995)  # fmt: skip
    starved = Step(45, dropped_fraction=0.0, shortfall_fraction=0.0, engine_cpu_cores=0.5, load_cpu_cores=0.97,
                   paced_fraction=0.8)  # fmt: skip
    dropping = Step(50, dropped_fraction=0.02, shortfall_fraction=0.0, engine_cpu_cores=0.9, load_cpu_cores=0.9,
                    paced_fraction=1.0)  # fmt: skip
    assert kept_up.holds() and not starved.holds() and not dropping.holds()


@pytest.mark.slow
def test_calls_suite_with_two_workers_measures_a_cluster(tmp_path: Path) -> None:
    out = tmp_path / "calls.json"
    result = invoke(
        "bench", "calls", "--quick", "--workers", "2", "--json", str(out), env={"AURALINK_REDIS_URL": REDIS_URL}
    )
    assert result.exit_code == 0, result.output
    run = json.loads(out.read_text())["results"][0]
    figures = {figure["name"]: figure for figure in run["figures"]}
    assert "join_p50_ms" not in figures  # joins are timed inside the workers: not a figure of a cluster run
    assert figures["engine_cpu_per_participant_pct"]["target"] == 2.2
    assert figures["engine_cpu_at_5"]["value"] > 0 and figures["projected_participants_16_cores"]["value"] > 0
    assert any("2 engine workers behind a front" in note for note in run["notes"])
