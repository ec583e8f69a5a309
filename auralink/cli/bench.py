"""``auralink bench``: run benchmark suites, save results, compare with a baseline."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from benchmarks.core import BenchOptions, SuiteResult, compare, load_suites

FILE_FORMAT = 1
RESULTS_FILE = click.Path(path_type=Path, exists=True, dir_okay=False)


@click.command()
@click.argument("suite", required=False)
@click.option("--json", "json_out", type=click.Path(path_type=Path), default=None, help="Write results here.")
@click.option(
    "--compare",
    "baseline",
    type=RESULTS_FILE,
    default=None,
    help="A results file to compare against; exits 1 when a figure regresses past its tolerance.",
)
@click.option("--quick", is_flag=True, help="Fewer iterations (a smoke run, not release numbers).")
@click.option(
    "--scale",
    type=click.FloatRange(0.001, 100),
    default=1.0,
    show_default=True,
    help="Multiply the data size of suites that have one (control-plane: 1 M calls at 1).",
)
@click.option(
    "--results",
    "results_in",
    type=RESULTS_FILE,
    default=None,
    help="Compare this results file instead of running the suites.",
)
@click.option("--list", "list_only", is_flag=True, help="List the suites and exit.")
def bench(
    suite: str | None,
    json_out: Path | None,
    baseline: Path | None,
    quick: bool,
    scale: float,
    results_in: Path | None,
    list_only: bool,
) -> None:
    """Run the benchmark SUITE (all suites when omitted)."""
    console = Console()
    if results_in is not None:
        if baseline is None:
            raise click.UsageError("--results needs --compare BASELINE")
        if not compare_with(console, read_results(results_in), baseline):
            raise SystemExit(1)
        return
    suites = load_suites()
    if list_only:
        for name, function in suites.items():
            doc = sys.modules[function.__module__].__doc__ or ""
            console.print(f"{name}: {doc.strip().splitlines()[0] if doc.strip() else ''}")
        return
    if suite is not None and suite not in suites:
        raise click.BadParameter(f"unknown suite '{suite}'; known: {', '.join(suites)}", param_hint="SUITE")
    chosen = [suite] if suite else list(suites)
    results = []
    for name in chosen:
        console.print(
            f"[bold]running suite {name}[/]{' (quick)' if quick else ''}{f' (scale {scale:g})' if scale != 1 else ''}"
        )
        result = suites[name](BenchOptions(quick=quick, scale=scale))
        results.append(result)
        console.print(figures_table(result))
        for note in result.notes:
            console.print(f"  note: {note}")
    if json_out is not None:
        json_out.write_text(json.dumps({"format": FILE_FORMAT, "results": [r.to_json() for r in results]}, indent=2))
        console.print(f"wrote {json_out}")
    if baseline is not None and not compare_with(console, results, baseline):
        raise SystemExit(1)


def figures_table(result: SuiteResult) -> Table:
    table = Table("figure", "value", "unit", "target", "met", title=f"suite {result.suite}")
    for figure in result.figures:
        target = "" if figure.target is None else f"{'<=' if figure.better == 'lower' else '>='} {figure.target:g}"
        met = {True: "[green]yes[/]", False: "[red]no[/]", None: ""}[figure.meets_target]
        table.add_row(figure.name, f"{figure.value:.4g}", figure.unit, target, met)
    return table


def read_results(path: Path) -> list[SuiteResult]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [SuiteResult.from_json(raw) for raw in data["results"]]
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise click.ClickException(f"{path}: not an auralink bench results file ({error})") from None


def compare_with(console: Console, results: list[SuiteResult], baseline_path: Path) -> bool:
    """Print a comparison table per suite; false when anything regressed."""
    baselines = {result.suite: result for result in read_results(baseline_path)}
    ok = True
    for result in results:
        base = baselines.get(result.suite)
        if base is None:
            console.print(f"[yellow]{baseline_path} has no results for suite {result.suite}[/]")
            continue
        table = Table("figure", "baseline", "current", "change", "status", title=f"{result.suite} vs {baseline_path}")
        for row in compare(result, base):
            change = "" if row.change is None else f"{row.change:+.1%}"
            status = "[red]REGRESSED[/]" if row.regressed else ("new" if row.baseline is None else "ok")
            ok &= not row.regressed
            table.add_row(
                row.name, "-" if row.baseline is None else f"{row.baseline:.4g}", f"{row.current:.4g}", change, status
            )
        console.print(table)
    return ok
