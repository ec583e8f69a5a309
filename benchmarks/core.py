"""The benchmark framework: named suites, figures with a direction and tolerance,
results as JSON that record the machine, and comparison against a baseline."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal

Direction = Literal["lower", "higher", "info"]
"""Which way is better; ``info`` figures are recorded but never compared."""


@dataclass
class Figure:
    """One measured number."""

    name: str
    value: float
    unit: str
    better: Direction = "lower"
    tolerance: float = 0.25
    """Relative change past which ``--compare`` (against a saved baseline) calls it a regression."""
    target: float | None = None
    """The figure the product promises (``better`` says which side passes)."""
    note: str = ""
    factor: float = 1.10
    """Ratio past which ``bench compare`` (base and head side by side) calls a significant change a regression."""

    @property
    def meets_target(self) -> bool | None:
        if self.target is None or self.better == "info":
            return None
        return self.value <= self.target if self.better == "lower" else self.value >= self.target


@dataclass
class SuiteResult:
    suite: str
    figures: list[Figure]
    machine: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    created: str = ""
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for figure, raw in zip(self.figures, data["figures"], strict=True):
            raw["meets_target"] = figure.meets_target
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SuiteResult:
        figures = [Figure(**{k: v for k, v in raw.items() if k != "meets_target"}) for raw in data["figures"]]
        return cls(
            data["suite"],
            figures,
            data.get("machine", {}),
            data.get("versions", {}),
            data.get("created", ""),
            data.get("notes", []),
        )


@dataclass(frozen=True)
class BenchOptions:
    quick: bool = False
    """Fewer iterations: for CI smoke runs, not for release numbers."""
    gate: bool = False
    """Only the figures a regression gate compares, one round of them (``bench compare --quick``): cheap and
    steady; a suite without such figures runs as ``quick``."""
    workers: int = 1
    """Engine worker processes, for the suites that can spread their load (``calls``: a cluster on Redis)."""
    scale: float = 1.0
    """A multiple of a suite's data size, for suites that have one: ``--scale 3`` is three times the calls over
    three times the days (the same calls a day, a longer history)."""


Suite = Callable[[BenchOptions], SuiteResult]
SUITES: dict[str, Suite] = {}


def register_suite(name: str) -> Callable[[Suite], Suite]:
    def decorate(suite: Suite) -> Suite:
        SUITES[name] = suite
        return suite

    return decorate


def load_suites() -> dict[str, Suite]:
    """Every registered suite: each ``benchmarks/*_suite.py`` module, then the ``auralink.bench`` entry points."""
    import pkgutil
    from importlib import import_module
    from importlib.metadata import entry_points

    import benchmarks

    for module in pkgutil.iter_modules(benchmarks.__path__):
        if module.name.endswith("_suite"):
            import_module(f"benchmarks.{module.name}")
    for entry in entry_points(group="auralink.bench"):
        SUITES.setdefault(entry.name, entry.load())
    return dict(sorted(SUITES.items()))


def load_named_suites(names: list[str]) -> dict[str, Suite]:
    """The suites NAMES, importing only their own modules when they follow the ``NAME_suite.py`` rule
    (importing every suite costs seconds); every suite when one does not, so that the caller can say which exist."""
    from importlib import import_module

    for name in names:
        try:
            import_module(f"benchmarks.{name.replace('-', '_')}_suite")
        except ImportError:
            break
    if all(name in SUITES for name in names):
        return {name: SUITES[name] for name in names}
    return load_suites()


def machine_info() -> dict[str, Any]:
    """What the numbers were measured on."""
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
    }
    try:
        import psutil

        info["memory_gb"] = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:  # pragma: no cover - psutil is a dependency
        pass
    info["git_commit"] = _git_commit()
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).parent,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def package_versions(*names: str) -> dict[str, str]:
    found = {}
    for name in ("auralink", "numpy", *names):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def stamp(result: SuiteResult, *packages: str) -> SuiteResult:
    result.machine = machine_info()
    result.versions = package_versions(*packages)
    result.created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return result


@dataclass
class Comparison:
    name: str
    unit: str
    baseline: float | None
    current: float
    change: float | None
    regressed: bool


def compare(current: SuiteResult, baseline: SuiteResult) -> list[Comparison]:
    """Each current figure against the baseline's figure of the same name."""
    previous = {figure.name: figure for figure in baseline.figures}
    rows = []
    for figure in current.figures:
        before = previous.get(figure.name)
        if before is None or before.value == 0:
            rows.append(
                Comparison(
                    figure.name, figure.unit, None if before is None else before.value, figure.value, None, False
                )
            )
            continue
        change = (figure.value - before.value) / abs(before.value)
        worse = change if figure.better == "lower" else -change
        regressed = figure.better != "info" and worse > figure.tolerance
        rows.append(Comparison(figure.name, figure.unit, before.value, figure.value, change, regressed))
    return rows


def read_result(path: Path) -> SuiteResult:
    return SuiteResult.from_json(json.loads(path.read_text(encoding="utf-8")))
