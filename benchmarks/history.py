"""Every ``auralink bench`` and ``bench compare`` run, kept as JSON, and each figure over commits.

A results directory holds one file per run (``bench-…json``, ``compare-…json``).
:func:`load_points` reads them back as points: one per figure, commit and run
(a comparison gives a point for its base and one for its head). Files that are
not results are skipped and named, never fatal: a history survives a stray file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import json
import re
import statistics
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULTS_SUBDIR = "bench-results"


def default_results_dir(data_dir: Path) -> Path:
    return data_dir / RESULTS_SUBDIR


def plot_name(suite: str, figure: str) -> str:
    """A file name for a figure's plot (suites and figures are plain identifiers, but never trust that)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{suite}-{figure}") + ".png"


def save_run(directory: Path, kind: str, payload: dict[str, Any], commit: str | None) -> Path:
    """Write one run's results; the name sorts by time and says the kind and commit."""
    directory.mkdir(parents=True, exist_ok=True)
    moment = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = directory / f"{kind}-{moment}-{(commit or 'unknown')[:10]}.json"
    path.write_text(json.dumps({**payload, "kind": kind}, indent=1), encoding="utf-8")
    return path


@dataclass
class Point:
    suite: str
    figure: str
    unit: str
    commit: str
    created: str
    kind: str
    samples: list[float] = field(default_factory=list)

    @property
    def value(self) -> float:
        return statistics.median(self.samples)


@dataclass
class History:
    points: list[Point]
    skipped: list[str]

    def series(self) -> dict[tuple[str, str], list[Point]]:
        """Each (suite, figure)'s points in the order they were measured."""
        grouped: dict[tuple[str, str], list[Point]] = {}
        for point in sorted(self.points, key=lambda point: point.created):
            grouped.setdefault((point.suite, point.figure), []).append(point)
        return grouped


def load_history(directory: Path) -> History:
    points: list[Point] = []
    skipped: list[str] = []
    for path in sorted(directory.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            points += list(_points(data))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            skipped.append(f"{path.name}: {error.__class__.__name__}: {error}")
    return History(points, skipped)


def _points(data: dict[str, Any]) -> Iterable[Point]:
    if data.get("kind") == "compare":
        created = str(data["created"])
        for figure in data["figures"]:
            for side in ("base", "head"):
                if figure[side]:
                    yield Point(
                        figure["suite"],
                        figure["name"],
                        figure["unit"],
                        str(data[side]["commit"]),
                        created,
                        f"compare {side}",
                        [float(value) for value in figure[side]],
                    )
        return
    for result in data["results"]:
        commit = str(result.get("machine", {}).get("git_commit") or "unknown")
        for figure in result["figures"]:
            yield Point(
                result["suite"],
                figure["name"],
                figure["unit"],
                commit,
                str(result.get("created", "")),
                "bench",
                [float(figure["value"])],
            )


def commit_order(points: list[Point], repo: Path | None) -> list[str]:
    """The points' commits (short) oldest first by commit date where ``repo`` knows them, else as first measured."""
    measured: list[str] = []
    for point in sorted(points, key=lambda point: point.created):
        if point.commit[:10] not in measured:
            measured.append(point.commit[:10])
    if repo is None:
        return measured
    dates: dict[str, int] = {}
    for commit in measured:
        with contextlib.suppress(OSError, subprocess.SubprocessError, ValueError):
            shown = subprocess.run(
                ["git", "show", "-s", "--format=%ct", commit], cwd=repo, capture_output=True, text=True, timeout=10
            )
            if shown.returncode == 0:
                dates[commit] = int(shown.stdout.strip())
    known = sorted((commit for commit in measured if commit in dates), key=lambda commit: dates[commit])
    return known + [commit for commit in measured if commit not in dates]


def plot_series(suite: str, figure: str, points: list[Point], path: Path, order: list[str] | None = None) -> None:
    """A figure over commits (``order``: oldest first), each run's samples in its commit's column."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    present = {point.commit[:10] for point in points}
    commits = [commit for commit in (order or commit_order(points, None)) if commit in present]
    chart, axes = plt.subplots(figsize=(max(6.4, 0.6 * len(commits)), 3.6), dpi=100)
    colours = {"bench": "#2ca02c", "compare base": "#1f77b4", "compare head": "#ff7f0e"}
    for kind, colour in colours.items():
        xs, ys = [], []
        for point in points:
            if point.kind == kind:
                xs += [commits.index(point.commit[:10])] * len(point.samples)
                ys += point.samples
        if xs:
            axes.scatter(xs, ys, color=colour, alpha=0.6, s=18, label=kind)
    medians = [statistics.median([v for p in points if p.commit[:10] == c for v in p.samples]) for c in commits]
    axes.plot(range(len(commits)), medians, color="#444", linewidth=1, label="median")
    axes.set_xticks(range(len(commits)), commits, rotation=45, ha="right", fontsize=8)
    axes.set_ylabel(f"{figure} [{points[0].unit}]" if points[0].unit else figure)
    axes.set_title(f"{suite} · {figure} over commits", fontsize=10)
    axes.legend(fontsize=8)
    axes.grid(axis="y", alpha=0.3)
    chart.tight_layout()
    chart.savefig(path)
    plt.close(chart)


def write_history_report(history: History, directory: Path, repo: Path | None = None) -> Path:
    """index.html with one plot per figure over commits (in commit order where ``repo`` knows them)."""
    directory.mkdir(parents=True, exist_ok=True)
    sections = []
    order = commit_order(history.points, repo)
    for (suite, figure), points in history.series().items():
        image = plot_name(suite, figure)
        plot_series(suite, figure, points, directory / image, order)
        sections.append(
            f'<figure><img src="{image}" alt="{html.escape(suite)} {html.escape(figure)}">'
            f"<figcaption>{html.escape(suite)} · {html.escape(figure)}: {len(points)} runs</figcaption></figure>"
        )
    skipped = "".join(f"<li>{html.escape(line)}</li>" for line in history.skipped)
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>auralink bench history</title>'
        "<style>body{font-family:system-ui,sans-serif;margin:2em}figure{display:inline-block;margin:1em}"
        "</style></head><body><h1>auralink bench history</h1>"
        f"<p>{len(history.points)} points from the results directory.</p>{''.join(sections)}"
        + (f"<h2>Skipped files</h2><ul>{skipped}</ul>" if skipped else "")
        + "</body></html>\n"
    )
    index = directory / "index.html"
    index.write_text(page, encoding="utf-8")
    return index
