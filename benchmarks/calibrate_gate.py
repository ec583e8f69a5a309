"""Calibrate the quick engine gate: A/A comparisons must pass, an injected slowdown must be caught.

    python -m benchmarks.calibrate_gate [--runs 20] [--slowdown source:0.10] [--only a/a|slowdown] [--json FILE]

Each run is a whole ``bench compare --base HEAD --quick engine`` (worktree,
interleaved rounds in fresh processes, the gate's decision). The A/A runs
compare HEAD with itself; the slowdown runs set ``AURALINK_BENCH_INJECT_SLOWDOWN``
for head's rounds only. Run it from a clean checkout, so that head is HEAD.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.engine_gate import INJECT_ENV
from benchmarks.side_by_side import compare_revisions

GATE_FIGURE = "frame_cost_k10"


def one_run(kind: str, head_env: dict[str, str]) -> dict[str, Any]:
    started = time.perf_counter()
    result = compare_revisions("HEAD", ["engine"], quick=True, head_env=head_env)
    row = next(row for row in result.figures if row.name == GATE_FIGURE)
    assert row.decision is not None
    return {
        "kind": kind,
        "verdict": row.verdict,
        "ratio": row.decision.ratio,
        "p_value": row.decision.p_value,
        "regressed": bool(result.regressed),
        "wall_s": time.perf_counter() - started,
    }


def summarise(runs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    chosen = [run for run in runs if run["kind"] == kind]
    ratios = [run["ratio"] for run in chosen]
    return {
        "runs": len(chosen),
        "regressions": sum(run["regressed"] for run in chosen),
        "ratio_median": statistics.median(ratios) if ratios else None,
        "ratio_min": min(ratios, default=None),
        "ratio_max": max(ratios, default=None),
        "wall_s_median": statistics.median(run["wall_s"] for run in chosen) if chosen else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="comparisons of each kind")
    parser.add_argument("--slowdown", default="source:0.10", help=f"{INJECT_ENV} for the injected runs")
    parser.add_argument("--json", type=Path, default=None, help="write every run and the summary here")
    parser.add_argument(
        "--only", choices=["a/a", "slowdown"], default=None, help="one kind only (two such runs can share the work)"
    )
    args = parser.parse_args(argv)
    runs: list[dict[str, Any]] = []
    kinds = [("a/a", {}), ("slowdown", {INJECT_ENV: args.slowdown})]
    kinds = [(kind, env) for kind, env in kinds if args.only in (None, kind)]
    for number in range(args.runs):  # alternate the kinds, so that a change in the machine falls on both
        for kind, env in kinds:
            runs.append(one_run(kind, env))
            last = runs[-1]
            print(
                f"{number + 1}/{args.runs} {kind}: {last['verdict']} ratio {last['ratio']:.3f} "
                f"p {last['p_value']} ({last['wall_s']:.0f} s)",
                flush=True,
            )
            if args.json is not None:
                summary = {"slowdown": args.slowdown, "a/a": summarise(runs, "a/a")}
                summary["injected"] = summarise(runs, "slowdown")
                args.json.write_text(json.dumps({"summary": summary, "runs": runs}, indent=1), encoding="utf-8")
    aa, injected = summarise(runs, "a/a"), summarise(runs, "slowdown")
    if aa["runs"]:
        low, high = aa["ratio_min"], aa["ratio_max"]
        print(f"A/A: {aa['regressions']}/{aa['runs']} false regressions; ratios {low:.3f}–{high:.3f}")
    if injected["runs"]:
        low, high = injected["ratio_min"], injected["ratio_max"]
        print(f"{args.slowdown}: caught {injected['regressions']}/{injected['runs']}; ratios {low:.3f}–{high:.3f}")
    needed = injected["runs"] - injected["runs"] // 20
    return 0 if aa["regressions"] == 0 and injected["regressions"] >= needed else 1


if __name__ == "__main__":
    sys.exit(main())
