"""``bench compare --report DIR``: an HTML page and one PNG per figure, readable without a terminal."""

from __future__ import annotations

import html
import statistics
from collections.abc import Sequence
from pathlib import Path

from benchmarks.history import plot_name
from benchmarks.side_by_side import CompareResult, FigureComparison

VERDICT_COLOURS = {"regressed": "#c62828", "improved": "#2e7d32", "same": "#555", "undecided": "#ef6c00"}
BASE_COLOUR, HEAD_COLOUR = "#1f77b4", "#ff7f0e"


def plot_distributions(row: FigureComparison, path: Path) -> None:
    """Each side's per-round samples as points over a box, and the line past which head would regress."""
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    sides = [("base", row.base, BASE_COLOUR), ("head", row.head, HEAD_COLOUR)]
    present = [(index, name, values, colour) for index, (name, values, colour) in enumerate(sides) if values]
    axes.boxplot([values for _, _, values, _ in present], positions=[index for index, *_ in present], widths=0.5)
    for index, _, values, colour in present:
        spread = [index + 0.18 * ((n % 5) - 2) / 2 for n in range(len(values))]
        axes.scatter(spread, values, color=colour, alpha=0.8, zorder=3, s=22)
    if row.base and row.decision is not None:
        base_median = statistics.median(row.base)
        limit = base_median * row.factor if row.better == "lower" else base_median / row.factor
        axes.axhline(limit, color="#c62828", linestyle="--", linewidth=1, label=f"regression past x{row.factor:g}")
        axes.legend(loc="best", fontsize=8)
    axes.set_xticks([0, 1], [f"base (n={len(row.base)})", f"head (n={len(row.head)})"])
    axes.set_xlim(-0.6, 1.6)
    axes.set_ylabel(f"{row.name} [{row.unit}]" if row.unit else row.name)
    judged = f"{row.better} is better" if row.better in ("lower", "higher") else "recorded, not judged"
    axes.set_title(f"{row.suite} · {row.name} ({judged}): {row.verdict}", fontsize=10)
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def _median(values: Sequence[float]) -> str:
    return f"{statistics.median(values):.4g}" if values else "–"


def write_report(result: CompareResult, directory: Path) -> Path:
    """index.html and the plots in DIRECTORY (created); returns the page."""
    directory.mkdir(parents=True, exist_ok=True)
    rows = []
    for row in result.figures:
        image = plot_name(row.suite, row.name)
        plot_distributions(row, directory / image)
        decision = row.decision
        colour = VERDICT_COLOURS.get(row.verdict, "#555")
        ratio = "–" if decision is None else f"{decision.ratio:.3f}"
        factor = "–" if decision is None else f"x{row.factor:g}"
        test = (
            "–"
            if decision is None
            else decision.method + ("" if decision.p_value is None else f", p={decision.p_value:.3g}")
        )
        rows.append(
            f"<tr><td>{html.escape(row.suite)}</td><td>{html.escape(row.name)}</td>"
            f"<td>{html.escape(row.unit)}</td><td>{html.escape(row.better)}</td>"
            f"<td class=num>{_median(row.base)}</td><td class=num>{_median(row.head)}</td>"
            f"<td class=num>{ratio}</td><td class=num>{factor}</td><td>{html.escape(test)}</td>"
            f'<td style="color:{colour};font-weight:bold">{html.escape(row.verdict)}</td></tr>'
        )
    plots = "\n".join(
        f'<figure><img src="{plot_name(row.suite, row.name)}" alt="{html.escape(row.suite)} {html.escape(row.name)}">'
        f"<figcaption>{html.escape(row.suite)} · {html.escape(row.name)}: base {_median(row.base)}, "
        f"head {_median(row.head)} {html.escape(row.unit)} — {html.escape(row.verdict)}</figcaption></figure>"
        for row in result.figures
    )
    regressed = result.regressed
    summary = (
        f"<p class=bad>Regressed: {html.escape(', '.join(row.name for row in regressed))}</p>"
        if regressed
        else "<p class=good>No regression.</p>"
    )
    notes = "".join(f"<li>{html.escape(note)}</li>" for note in result.notes)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bench compare: {html.escape(result.base.label)} vs head</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; }} th, td {{ border: 1px solid #ccc; padding: .3em .6em; }}
th {{ background: #f3f3f3; }} td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
.bad {{ color: #c62828; font-weight: bold; }} .good {{ color: #2e7d32; font-weight: bold; }}
figure {{ display: inline-block; margin: 1em 1em 0 0; }} figcaption {{ font-size: .85em; }}
</style></head><body>
<h1>auralink bench compare</h1>
<p>base <b>{html.escape(result.base.label)}</b> · head <b>{html.escape(result.head.label)}</b> ·
suites {html.escape(", ".join(result.suites))} · {result.rounds} rounds{" (quick)" if result.quick else ""} ·
{result.wall_s:.0f} s · {html.escape(result.created)}</p>
{summary}
<table><tr><th>suite</th><th>figure</th><th>unit</th><th>better</th><th>base (median)</th><th>head (median)</th>
<th>ratio</th><th>factor</th><th>test</th><th>verdict</th></tr>
{"".join(rows)}
</table>
<ul>{notes}</ul>
{plots}
</body></html>
"""
    index = directory / "index.html"
    index.write_text(page, encoding="utf-8")
    return index
