"""``auralink bench compare``: a base revision and the working tree, measured side by side in one run.

The base is checked out into a temporary ``git worktree``; it reuses this
environment when its ``pyproject.toml`` is the same, and gets a virtual
environment of its own otherwise. Rounds alternate base and head (AB, BA, AB
…, so that a drift in the machine's speed falls on both sides alike), each in
a fresh process so that imports, caches and JIT state never carry over from one
round to the next. Each figure is then judged by :func:`benchmarks.gate.decide`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import benchmarks
from benchmarks import round_child
from benchmarks.core import machine_info
from benchmarks.engine_gate import INJECT_ENV
from benchmarks.gate import Decision, Verdict, decide

Side = Literal["base", "head"]
Progress = Callable[[str], None]
COMPARE_FORMAT = 1
ROUND_TIMEOUT_S = 1_800


class CompareError(Exception):
    """What stops a comparison, said in words for whoever ran it."""


class BasePredatesGateError(CompareError):
    """The base has no gate figures: a quick comparison has nothing to hold head against."""


@dataclass(frozen=True)
class Tree:
    """One side: where its code is, which interpreter runs it, what it is."""

    side: Side
    path: Path
    python: Path
    commit: str
    label: str
    env: dict[str, str] = field(default_factory=dict)
    """Extra environment for this side's rounds (calibration's injected slowdown)."""


@dataclass
class FigureComparison:
    suite: str
    name: str
    unit: str
    better: str
    factor: float
    base: list[float]
    head: list[float]
    decision: Decision | None
    """None for ``info`` figures and figures only one side has."""

    @property
    def verdict(self) -> str:
        if self.decision is not None:
            return self.decision.verdict.value
        if not self.base or not self.head:
            return "only in " + ("head" if self.head else "base")
        return "info"

    def to_json(self) -> dict[str, Any]:
        decision = self.decision
        return {
            "suite": self.suite,
            "name": self.name,
            "unit": self.unit,
            "better": self.better,
            "factor": self.factor,
            "base": self.base,
            "head": self.head,
            "verdict": self.verdict,
            "ratio": None if decision is None else decision.ratio,
            "method": None if decision is None else decision.method,
            "p_value": None if decision is None else decision.p_value,
        }


@dataclass
class CompareResult:
    base: Tree
    head: Tree
    suites: list[str]
    rounds: int
    quick: bool
    figures: list[FigureComparison]
    wall_s: float
    notes: list[str] = field(default_factory=list)
    created: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))

    @property
    def regressed(self) -> list[FigureComparison]:
        return [row for row in self.figures if row.decision and row.decision.verdict is Verdict.REGRESSED]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": COMPARE_FORMAT,
            "kind": "compare",
            "created": self.created,
            "machine": machine_info(),
            "base": {"commit": self.base.commit, "label": self.base.label},
            "head": {"commit": self.head.commit, "label": self.head.label},
            "suites": self.suites,
            "rounds": self.rounds,
            "quick": self.quick,
            "wall_s": round(self.wall_s, 1),
            "regressed": [row.name for row in self.regressed],
            "notes": self.notes,
            "figures": [row.to_json() for row in self.figures],
        }


def head_checkout() -> Path:
    """The git checkout whose code this process runs: the head of a comparison."""
    return Path(benchmarks.__file__).resolve().parent.parent


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False, timeout=120)
    except FileNotFoundError:
        raise CompareError("git is not installed; bench compare checks the base revision out with git") from None


def resolve_base(repo: Path, rev: str) -> str:
    """The full commit REV names, or a clear error."""
    if _git(repo, "rev-parse", "--is-inside-work-tree").returncode != 0:
        raise CompareError(f"{repo} is not a git checkout: bench compare needs git history to find the base")
    found = _git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
    if rev.startswith("-") or not rev.strip() or found.returncode != 0:
        raise CompareError(f"unknown revision '{rev}': not a commit, branch or tag in {repo}")
    return found.stdout.strip()


def describe_head(repo: Path) -> tuple[str, str]:
    """(commit, label) of the working tree; the label says when uncommitted changes are part of head."""
    commit = _git(repo, "rev-parse", "HEAD").stdout.strip()
    status = _git(repo, "status", "--porcelain")
    if status.returncode != 0:
        raise CompareError(f"cannot read the state of {repo}: {status.stderr.strip()}")
    label = commit[:10] + (" + uncommitted changes" if status.stdout.strip() else "")
    return commit, label


@contextmanager
def base_worktree(repo: Path, commit: str, workdir: Path) -> Iterator[Path]:
    """REV checked out (detached) in a temporary worktree, removed afterwards whatever happens."""
    path = workdir / "base"
    added = _git(repo, "worktree", "add", "--detach", str(path), commit)
    if added.returncode != 0:
        raise CompareError(f"could not check {commit[:10]} out into {path}: {added.stderr.strip()}")
    try:
        yield path
    finally:
        _git(repo, "worktree", "remove", "--force", str(path))
        _git(repo, "worktree", "prune")


BaseEnvironment = Literal["auto", "reuse", "build"]


def base_python(head: Path, base: Path, workdir: Path, choice: BaseEnvironment, progress: Progress) -> tuple[Path, str]:
    """The interpreter for the base's rounds, and a note on which one it is and why.

    ``auto`` reuses this environment when ``pyproject.toml`` is the same at both
    revisions and builds one otherwise; ``reuse`` and ``build`` force either.
    """
    head_project, base_project = head / "pyproject.toml", base / "pyproject.toml"
    same = base_project.is_file() and base_project.read_bytes() == head_project.read_bytes()
    if same and choice != "build":
        return Path(sys.executable), "base reuses this environment (pyproject.toml is the same at both revisions)"
    if choice == "reuse":
        return Path(sys.executable), (
            "base's pyproject.toml differs from head's, but it runs in this environment as asked (--base-env reuse)"
        )
    if choice == "build":
        progress("building the base its own environment, as asked (--base-env build)")
        return build_environment(base, workdir / "base-venv"), "base ran in its own environment (--base-env build)"
    progress("pyproject.toml differs at the base revision: building the base its own environment (a few minutes)")
    return build_environment(base, workdir / "base-venv"), (
        "base ran in its own environment: its pyproject.toml differs from head's"
    )


def build_environment(tree: Path, venv: Path) -> Path:
    """A virtual environment with the tree's dependencies, layered over this one.

    Packages already installed here are seen through a ``.pth`` file, so pip
    installs only what the base needs in other versions, into the new
    environment; nothing in this environment is changed.
    """
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    ours = [Path(path) for path in sys.path if path.endswith("site-packages") and Path(path).is_dir()]
    (site / "zz-head-environment.pth").write_text("".join(f"{path}\n" for path in ours), encoding="utf-8")
    extras = "bench" if "bench" in (tree / "pyproject.toml").read_text(encoding="utf-8") else ""
    target = f"{tree}[{extras}]" if extras else str(tree)
    installed = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--editable", target],
        capture_output=True,
        text=True,
        check=False,
        timeout=1_800,
    )
    if installed.returncode != 0:
        tail = "\n".join(installed.stderr.strip().splitlines()[-5:])
        raise CompareError(f"could not install the base revision's dependencies into {venv}:\n{tail}")
    return python


def prepare_tree(tree: Tree) -> None:
    """Generate what a checkout does not commit (protos/gen) before its first round."""
    if not (tree.path / "protos" / "build.py").is_file():
        return
    built = subprocess.run(
        [tree.python, "-m", "protos.build"], cwd=tree.path, env=_env(tree), capture_output=True, text=True, check=False
    )
    if built.returncode != 0:
        raise CompareError(f"{tree.side} ({tree.label}): protos.build failed: {built.stderr.strip()[-500:]}")


def _env(tree: Tree) -> dict[str, str]:
    # the calibration switch is never inherited by a round, only set on purpose (Tree.env)
    env = {key: value for key, value in os.environ.items() if key != INJECT_ENV}
    if tree.python != Path(sys.executable):
        # a layered environment's own scripts first, then this one's (protoc plugins and the like)
        env["PATH"] = os.pathsep.join([str(tree.python.parent), sysconfig.get_path("scripts"), env.get("PATH", "")])
    env["PYTHONHASHSEED"] = "0"  # the same dict and set layouts in every round
    env["PYTHONPATH"] = str(tree.path)  # this side's code only, never the other's
    env.update(tree.env)
    return env


def run_round(tree: Tree, suites: list[str], flags: list[str], child: Path, out: Path) -> list[dict[str, Any]]:
    """One round on one side, in a fresh process; the suites' results as JSON."""
    command = [str(tree.python), str(child), str(tree.path), str(out), *flags, *suites]
    try:
        done = subprocess.run(
            command, cwd=tree.path, env=_env(tree), capture_output=True, text=True, timeout=ROUND_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        raise CompareError(f"a {tree.side} round ({tree.label}) ran past {ROUND_TIMEOUT_S} s") from None
    if done.returncode == round_child.NO_GATE_EXIT:
        raise BasePredatesGateError(f"{tree.side} ({tree.label}): {done.stderr.strip()}")
    if done.returncode == round_child.UNKNOWN_SUITE_EXIT:
        raise CompareError(f"{tree.side} ({tree.label}): {done.stderr.strip()}")
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-8:])
        raise CompareError(f"a {tree.side} round ({tree.label}) failed (exit {done.returncode}):\n{tail}")
    results: list[dict[str, Any]] = json.loads(out.read_text(encoding="utf-8"))["results"]
    return results


Samples = dict[tuple[str, str], list[float]]


def interleave(
    base: Tree, head: Tree, suites: list[str], rounds: int, quick: bool, workdir: Path, progress: Progress
) -> tuple[dict[Side, Samples], dict[tuple[str, str], dict[str, Any]]]:
    """All rounds, AB BA AB …; per side the samples of each (suite, figure), and each figure's definition."""
    child = workdir / "round_child.py"
    shutil.copyfile(round_child.__file__, child)
    flags = ["--quick", "--gate"] if quick else []
    samples: dict[Side, Samples] = {"base": {}, "head": {}}
    definitions: dict[tuple[str, str], dict[str, Any]] = {}
    sides = [base, head]
    for number in range(rounds):
        for tree in list(sides) if number % 2 == 0 else sides[::-1]:
            started = time.perf_counter()
            try:
                results = run_round(tree, suites, flags, child, workdir / f"round-{number}-{tree.side}.json")
            except BasePredatesGateError as error:
                # nothing to compare with: head's figures are still shown, as "only in head"
                progress(f"{error}: head's figures are measured alone")
                sides.remove(tree)
                continue
            progress(f"round {number + 1}/{rounds} {tree.side}: {time.perf_counter() - started:.1f} s")
            for result in results:
                for figure in result["figures"]:
                    key = (result["suite"], figure["name"])
                    samples[tree.side].setdefault(key, []).append(float(figure["value"]))
                    if tree.side == "head" or key not in definitions:
                        definitions[key] = figure
    return samples, definitions


def judge(samples: dict[Side, Samples], definitions: dict[tuple[str, str], dict[str, Any]]) -> list[FigureComparison]:
    rows = []
    for key, figure in definitions.items():
        base, head = samples["base"].get(key, []), samples["head"].get(key, [])
        better = figure.get("better", "lower")
        factor = float(figure.get("factor", 1.10))
        decision = decide(base, head, better, factor) if base and head and better in ("lower", "higher") else None
        rows.append(FigureComparison(key[0], key[1], figure.get("unit", ""), better, factor, base, head, decision))
    return rows


def compare_revisions(
    rev: str,
    suites: list[str],
    *,
    quick: bool = False,
    rounds: int | None = None,
    head_env: dict[str, str] | None = None,
    base_env: BaseEnvironment = "auto",
    progress: Progress = lambda _: None,
) -> CompareResult:
    """Measure REV and the working tree side by side and judge every figure."""
    with _exit_on_terminate():
        return _compare_revisions(rev, suites, quick, rounds, head_env, base_env, progress)


@contextmanager
def _exit_on_terminate() -> Iterator[None]:
    """SIGTERM as SystemExit while a comparison runs, so that its worktree is removed all the same."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _compare_revisions(
    rev: str,
    suites: list[str],
    quick: bool,
    rounds: int | None,
    head_env: dict[str, str] | None,
    base_env: BaseEnvironment,
    progress: Progress,
) -> CompareResult:
    started = time.perf_counter()
    repo = head_checkout()
    base_commit = resolve_base(repo, rev)
    head_commit, head_label = describe_head(repo)
    rounds = rounds if rounds is not None else (12 if quick else 5)
    if rounds < 1:
        raise CompareError("--rounds must be at least 1")
    with tempfile.TemporaryDirectory(prefix="auralink-bench-compare-") as scratch:
        workdir = Path(scratch)
        with base_worktree(repo, base_commit, workdir) as base_path:
            python, environment_note = base_python(repo, base_path, workdir, base_env, progress)
            progress(environment_note)
            base = Tree("base", base_path, python, base_commit, f"{rev} ({base_commit[:10]})")
            head = Tree("head", repo, Path(sys.executable), head_commit, head_label, dict(head_env or {}))
            for tree in (base, head):
                prepare_tree(tree)
            samples, definitions = interleave(base, head, suites, rounds, quick, workdir, progress)
    notes = [environment_note, "rounds alternate AB, BA, …, each side's round in a fresh process"]
    if base_commit == head_commit and "uncommitted" not in head_label:
        notes.append("base and head are the same code: an A/A comparison")
    figures = judge(samples, definitions)
    if not any(row.decision is not None for row in figures):
        notes.append(
            "no figure both sides measure with a direction: nothing was judged (does the base predate these figures?)"
        )
    return CompareResult(base, head, suites, rounds, quick, figures, time.perf_counter() - started, notes)
