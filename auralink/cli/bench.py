"""``auralink bench``: run benchmark suites, save results, compare with a baseline or a base revision."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from benchmarks.core import BenchOptions, SuiteResult, compare, load_named_suites, load_suites
from benchmarks.history import default_results_dir, load_history, save_run, write_history_report
from benchmarks.side_by_side import BaseEnvironment, CompareError, CompareResult, compare_revisions, head_checkout
from settings import Settings

FILE_FORMAT = 1
RESULTS_FILE = click.Path(path_type=Path, exists=True, dir_okay=False)
RESULTS_DIR = click.Path(path_type=Path, file_okay=False)


class ComparisonFailed(click.ClickException):
    """A comparison that could not be made exits 2, so that 1 always means "regressed"."""

    exit_code = 2


class BenchGroup(click.Group):
    """``bench compare …`` and ``bench history …`` are subcommands; anything else runs suites (``bench run``)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ctx.help_option_names):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group(cls=BenchGroup)
def bench() -> None:
    """Benchmarks: `bench [run] [SUITE]` measures, `bench compare --base REV SUITE…` gates a change,
    `bench history` shows figures over commits."""


def _results_dir(ctx: click.Context, chosen: Path | None) -> Path:
    if chosen is not None:
        return chosen
    settings = ctx.find_object(Settings)
    if settings is None:
        from settings import default_data_dir

        return default_results_dir(default_data_dir())
    return default_results_dir(settings.data_dir)


RESULTS_DIR_OPTION = click.option(
    "--results-dir",
    type=RESULTS_DIR,
    default=None,
    help="Where every run's results are kept for `bench history` (default: DATA_DIR/bench-results).",
)


@bench.command("run")
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
    help="Multiply the data size of suites that have one (control-plane, ui: 1 M calls at 1).",
)
@click.option(
    "--results",
    "results_in",
    type=RESULTS_FILE,
    default=None,
    help="Compare this results file instead of running the suites.",
)
@click.option("--list", "list_only", is_flag=True, help="List the suites and exit.")
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    default=1,
    help="Engine worker processes behind a cluster front (calls; needs Redis: AURALINK_REDIS_URL).",
)
@RESULTS_DIR_OPTION
@click.pass_context
def run_suites(
    ctx: click.Context,
    suite: str | None,
    json_out: Path | None,
    baseline: Path | None,
    quick: bool,
    scale: float,
    results_in: Path | None,
    list_only: bool,
    results_dir: Path | None,
    workers: int,
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
        result = suites[name](BenchOptions(quick=quick, scale=scale, workers=workers))
        results.append(result)
        console.print(figures_table(result))
        for note in result.notes:
            console.print(f"  note: {note}")
    payload = {"format": FILE_FORMAT, "results": [r.to_json() for r in results]}
    if json_out is not None:
        json_out.write_text(json.dumps(payload, indent=2))
        console.print(f"wrote {json_out}")
    commit = results[0].machine.get("git_commit") if results else None
    kept = save_run(_results_dir(ctx, results_dir), "bench", payload, commit)
    console.print(f"kept for bench history: {kept}")
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


@bench.command("compare")
@click.argument("suites", nargs=-1, required=True)
@click.option(
    "--base", "rev", required=True, help="The revision to compare the working tree with (HEAD~1, main, a tag)."
)
@click.option("--quick", is_flag=True, help="The suites' gate figures only: cheap and steady (the CI gate).")
@click.option(
    "--rounds", type=click.IntRange(1, 1000), default=None, help="Rounds per side [default: 12 quick, 5 full]."
)
@click.option(
    "--json",
    "json_out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the comparison here.",
)
@click.option(
    "--report", "report_dir", type=RESULTS_DIR, default=None, help="Write index.html and one PNG per figure here."
)
@click.option(
    "--base-env",
    type=click.Choice(["auto", "reuse", "build"]),
    default="auto",
    show_default=True,
    help="The base's Python environment: auto reuses this one when pyproject.toml is the same at REV and builds "
    "one otherwise; reuse or build force either.",
)
@RESULTS_DIR_OPTION
@click.pass_context
def compare_command(
    ctx: click.Context,
    suites: tuple[str, ...],
    rev: str,
    quick: bool,
    rounds: int | None,
    json_out: Path | None,
    report_dir: Path | None,
    base_env: BaseEnvironment,
    results_dir: Path | None,
) -> None:
    """Measure REV and the working tree side by side, AB BA AB … in fresh processes; exit 1 on a regression.

    A figure regresses when head is worse than base by more than the figure's factor (1.10 unless the suite
    says otherwise) and a Mann–Whitney U test says the change is significant (with too few rounds, the 95 %
    confidence intervals do not overlap). Exit 0: no regression; 1: a regression; 2: no comparison could be made.
    """
    console = _wide_console()
    known = load_named_suites(list(suites))
    unknown = [name for name in suites if name not in known]
    if unknown:
        raise click.BadParameter(f"unknown suite '{unknown[0]}'; known: {', '.join(known)}", param_hint="SUITE")
    console.print(
        f"[bold]bench compare[/] base {rev} · head: working tree · {', '.join(suites)}{' (quick)' if quick else ''}"
    )
    try:
        result = compare_revisions(
            rev,
            list(dict.fromkeys(suites)),
            quick=quick,
            rounds=rounds,
            base_env=base_env,
            progress=lambda line: console.print(f"  {line}"),
        )
    except CompareError as error:
        raise ComparisonFailed(str(error)) from None
    console.print(comparison_table(result))
    for note in result.notes:
        console.print(f"  note: {note}")
    payload = result.to_json()
    if json_out is not None:
        json_out.write_text(json.dumps(payload, indent=2), encoding="utf-8")
        console.print(f"wrote {json_out}")
    if report_dir is not None:
        from benchmarks.report import write_report

        console.print(f"report: {write_report(result, report_dir)}")
    kept = save_run(_results_dir(ctx, results_dir), "compare", payload, result.head.commit)
    console.print(f"kept for bench history: {kept}")
    if result.regressed:
        console.print(f"[red bold]regressed: {', '.join(row.name for row in result.regressed)}[/]")
        raise SystemExit(1)
    console.print(f"[green]no regression[/] ({result.wall_s:.0f} s)")


def _wide_console() -> Console:
    """Rich's 80 columns off a terminal would fold the table; CI logs are wide."""
    console = Console()
    return console if console.is_terminal else Console(width=160)


def comparison_table(result: CompareResult) -> Table:
    table = Table(
        "suite",
        "figure",
        "base",
        "head",
        "ratio",
        "factor",
        "test",
        "verdict",
        title=f"base {result.base.label} vs head {result.head.label}, {result.rounds} rounds",
    )
    styles = {"regressed": "red bold", "improved": "green", "undecided": "yellow"}
    for row in result.figures:
        decision = row.decision
        test: str = "" if decision is None else decision.method
        if decision is not None and decision.p_value is not None:
            test += f", p={decision.p_value:.2g}"
        table.add_row(
            row.suite,
            row.name,
            _median_cell(row.base, row.unit),
            _median_cell(row.head, row.unit),
            "" if decision is None else f"{decision.ratio:.3f}",
            "" if decision is None else f"{row.factor:g}",
            test,
            f"[{styles[row.verdict]}]{row.verdict}[/]" if row.verdict in styles else row.verdict,
        )
    return table


def _median_cell(samples: list[float], unit: str) -> str:
    import statistics

    return f"{statistics.median(samples):.4g} {unit} (n={len(samples)})" if samples else "-"


@bench.command("history")
@RESULTS_DIR_OPTION
@click.option("--suite", default=None, help="Only this suite's figures.")
@click.option("--figure", "figure_name", default=None, help="Only this figure.")
@click.option(
    "--report", "report_dir", type=RESULTS_DIR, default=None, help="Write index.html and a plot per figure here."
)
@click.pass_context
def history_command(
    ctx: click.Context, results_dir: Path | None, suite: str | None, figure_name: str | None, report_dir: Path | None
) -> None:
    """Every kept run's figures over commits (a table; plots with --report)."""
    console = Console()
    directory = _results_dir(ctx, results_dir)
    if not directory.is_dir():
        raise click.ClickException(
            f"no results in {directory} yet: `auralink bench` and `bench compare` keep them there"
        )
    history = load_history(directory)
    for line in history.skipped:
        console.print(f"[yellow]skipped {line}[/]")
    history.points = [
        point
        for point in history.points
        if (suite is None or point.suite == suite) and (figure_name is None or point.figure == figure_name)
    ]
    if not history.points:
        raise click.ClickException(
            f"no figures in {directory} match"
            + (f" suite {suite}" if suite else "")
            + (f" figure {figure_name}" if figure_name else "")
        )
    for (suite_name, name), points in history.series().items():
        table = Table("when", "commit", "run", "value", "n", title=f"{suite_name} · {name} [{points[0].unit}]")
        for point in points:
            table.add_row(point.created, point.commit[:10], point.kind, f"{point.value:.4g}", str(len(point.samples)))
        console.print(table)
    if report_dir is not None:
        console.print(f"report: {write_history_report(history, report_dir, head_checkout())}")
