"""``auralink bench compare`` and ``bench history`` end to end: a real worktree, real rounds, real files."""

import json
import shutil
from pathlib import Path

import pytest

from benchmarks.engine_gate import INJECT_ENV
from benchmarks.history import load_history, save_run
from benchmarks.round_child import __file__ as round_child_file
from benchmarks.side_by_side import BasePredatesGateError, CompareError, Tree, compare_revisions, run_round
from tests.cli.helpers import invoke
from tests.support.paths import REPO


@pytest.mark.slow
def test_compare_with_head_passes_and_writes_table_json_report_and_history(tmp_path: Path) -> None:
    report, results = tmp_path / "report", tmp_path / "results"
    out = tmp_path / "compare.json"
    result = invoke(
        "bench", "compare", "--base", "HEAD", "--quick", "--rounds", "4",
        "--json", str(out), "--report", str(report), "--results-dir", str(results), "engine",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    header = next(line for line in lines if "figure" in line and "verdict" in line)
    assert all(word in header for word in ("base", "head", "ratio", "factor", "test"))
    gate_row = next(line for line in lines if "frame_cost_k10" in line)
    assert "same" in gate_row and "1.05" in gate_row
    assert "no regression" in result.stdout
    # a clean checkout compares HEAD with itself; uncommitted changes are part of head, and the title says so
    assert "an A/A comparison" in result.stdout or "+ uncommitted changes, 4 rounds" in result.stdout
    data = json.loads(out.read_text())
    gate = next(figure for figure in data["figures"] if figure["name"] == "frame_cost_k10")
    assert len(gate["base"]) == len(gate["head"]) == 4 and gate["verdict"] == "same"
    assert data["regressed"] == [] and data["base"]["commit"] == data["head"]["commit"]
    page = (report / "index.html").read_text()
    assert "No regression" in page and "frame_cost_k10" in page
    assert (report / "engine-frame_cost_k10.png").read_bytes().startswith(b"\x89PNG")
    # the run is kept, and history plots it over commits
    assert len(list(results.glob("compare-*.json"))) == 1
    history = invoke("bench", "history", "--results-dir", str(results), "--report", str(tmp_path / "history"))
    assert history.exit_code == 0, history.output
    assert "frame_cost_k10" in history.stdout and "compare base" in history.stdout
    assert (tmp_path / "history" / "engine-frame_cost_k10.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.slow
def test_an_injected_slowdown_in_head_is_a_regression() -> None:
    result = compare_revisions("HEAD", ["engine"], quick=True, rounds=4, head_env={INJECT_ENV: "source:0.5"})
    assert [row.name for row in result.regressed] == ["frame_cost_k10"]
    row = result.regressed[0]
    assert row.decision is not None and row.decision.ratio > 1.3


def test_an_unknown_revision_is_said_in_words(tmp_path: Path) -> None:
    result = invoke("bench", "compare", "--base", "no-such-rev", "--results-dir", str(tmp_path), "engine")
    assert result.exit_code == 2
    assert "unknown revision 'no-such-rev': not a commit, branch or tag" in result.output
    assert "Traceback" not in result.output
    for odd in ("--all", "HEAD\nHEAD", ""):
        result = invoke("bench", "compare", f"--base={odd}", "--results-dir", str(tmp_path), "engine")
        assert result.exit_code == 2 and "unknown revision" in result.output, odd


def test_an_unknown_suite_is_refused_before_anything_runs(tmp_path: Path) -> None:
    result = invoke("bench", "compare", "--base", "HEAD", "--results-dir", str(tmp_path), "nope")
    assert result.exit_code == 2 and "unknown suite 'nope'; known: " in result.output
    assert invoke("bench", "compare", "engine").exit_code == 2  # --base is required


def test_a_base_without_the_suite_says_so(tmp_path: Path) -> None:
    tree = tmp_path / "old"
    (tree / "benchmarks").mkdir(parents=True)
    (tree / "benchmarks" / "__init__.py").write_text("")
    shutil.copyfile(REPO / "benchmarks" / "core.py", tree / "benchmarks" / "core.py")
    child = tmp_path / "round_child.py"
    shutil.copyfile(round_child_file, child)
    import sys

    old = Tree("base", tree, Path(sys.executable), "0" * 40, "old (0000000000)")
    with pytest.raises(CompareError, match="base \\(old \\(0000000000\\)\\): no suite engine at this revision"):
        run_round(old, ["engine"], ["--quick"], child, tmp_path / "out.json")


def test_history_skips_files_that_are_not_results_and_names_them(tmp_path: Path) -> None:
    figure = {"name": "lat", "value": 3.0, "unit": "us", "better": "lower"}
    save_run(
        tmp_path, "bench", {"results": [{"suite": "s", "figures": [figure], "machine": {"git_commit": "abc"}}]}, "abc"
    )
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "other.json").write_text('{"something": 1}')
    history = load_history(tmp_path)
    assert [(point.commit, point.value) for point in history.points] == [("abc", 3.0)]
    assert sorted(line.split(":")[0] for line in history.skipped) == ["broken.json", "other.json"]
    result = invoke("bench", "history", "--results-dir", str(tmp_path / "none"))
    assert result.exit_code == 1 and "no results in" in result.output


def test_the_base_environment_follows_pyproject(tmp_path: Path) -> None:
    import sys

    from benchmarks.side_by_side import base_python

    head, base = tmp_path / "head", tmp_path / "base"
    for tree, text in ((head, "[project]\nname = 'a'\n"), (base, "[project]\nname = 'a'\n")):
        tree.mkdir()
        (tree / "pyproject.toml").write_text(text)
    said: list[str] = []
    python, note = base_python(head, base, tmp_path, "auto", said.append)
    assert python == Path(sys.executable) and "reuses this environment" in note and said == []
    (base / "pyproject.toml").write_text("[project]\nname = 'a'\ndependencies = ['numpy<2']\n")
    python, note = base_python(head, base, tmp_path, "reuse", said.append)
    assert python == Path(sys.executable) and "differs" in note and "--base-env reuse" in note


def test_history_orders_commits_by_commit_date_where_git_knows_them() -> None:
    import subprocess

    from benchmarks.history import Point, commit_order

    found = subprocess.run(["git", "rev-parse", "HEAD", "HEAD~3"], cwd=REPO, capture_output=True, text=True)
    if found.returncode != 0:
        pytest.skip("this checkout has no history to order (a shallow clone)")
    newer, older = found.stdout.split()
    points = [  # the older commit measured last, as a comparison's base would be
        Point("s", "f", "us", newer, "2026-01-01T00:00:00", "compare head", [1.0]),
        Point("s", "f", "us", older, "2026-01-02T00:00:00", "compare base", [1.0]),
        Point("s", "f", "us", "not-a-commit", "2026-01-03T00:00:00", "bench", [1.0]),
    ]
    assert commit_order(points, REPO) == [older[:10], newer[:10], "not-a-comm"]
    assert commit_order(points, None) == [newer[:10], older[:10], "not-a-comm"]


def test_a_base_that_predates_the_gate_figures_says_so(tmp_path: Path) -> None:
    import sys

    tree = tmp_path / "old"
    (tree / "benchmarks").mkdir(parents=True)
    (tree / "benchmarks" / "__init__.py").write_text("")
    core = (REPO / "benchmarks" / "core.py").read_text()
    assert "    gate: bool = False\n" in core
    (tree / "benchmarks" / "core.py").write_text(core.replace("    gate: bool = False\n", ""))
    (tree / "benchmarks" / "engine_suite.py").write_text(
        "from benchmarks.core import register_suite\n\n@register_suite('engine')\ndef engine(options): ...\n"
    )
    child = tmp_path / "round_child.py"
    shutil.copyfile(round_child_file, child)
    old = Tree("base", tree, Path(sys.executable), "0" * 40, "old")
    with pytest.raises(BasePredatesGateError, match="predates the gate figures"):
        run_round(old, ["engine"], ["--quick", "--gate"], child, tmp_path / "out.json")
