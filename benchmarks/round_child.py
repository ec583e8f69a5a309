"""One round of ``auralink bench compare``, in its own process, on one side's tree.

Run as ``python round_child.py TREE OUT.json [--quick] [--gate] SUITE…`` from a
copy outside either tree, with TREE first on ``PYTHONPATH``. It uses only the
benchmark API that older revisions have too (``load_suites``, ``BenchOptions``,
``SuiteResult.to_json``), so any revision with ``auralink bench`` can be a base.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import json
import sys
from pathlib import Path

UNKNOWN_SUITE_EXIT = 3
NO_GATE_EXIT = 4
"""Gate figures were asked for, and this revision predates them (its ``BenchOptions`` has no ``gate``)."""


def main(argv: list[str]) -> int:
    tree, out, *rest = argv
    sys.path.insert(0, tree)
    # an editable install of another checkout would serve any module this tree lacks from that checkout
    sys.meta_path[:] = [finder for finder in sys.meta_path if not _editable(finder)]
    from benchmarks.core import SUITES, BenchOptions, load_suites

    flags = {arg.removeprefix("--") for arg in rest if arg.startswith("--")}
    names = [arg for arg in rest if not arg.startswith("--")]
    for name in names:  # a suite's own module first: importing every suite costs seconds a round
        with contextlib.suppress(ImportError):
            importlib.import_module(f"benchmarks.{name.replace('-', '_')}_suite")
    suites = SUITES if all(name in SUITES for name in names) else load_suites()
    missing = [name for name in names if name not in suites]
    if missing:
        print(f"no suite {', '.join(missing)} at this revision; it has {', '.join(suites) or 'none'}", file=sys.stderr)
        return UNKNOWN_SUITE_EXIT
    known = {option.name for option in dataclasses.fields(BenchOptions)}
    if "gate" in flags and "gate" not in known:
        print("this revision predates the gate figures (bench compare --quick)", file=sys.stderr)
        return NO_GATE_EXIT
    options = BenchOptions(**{flag: True for flag in flags if flag in known})
    results = [suites[name](options).to_json() for name in names]
    Path(out).write_text(json.dumps({"format": 1, "results": results}), encoding="utf-8")
    return 0


def _editable(finder: object) -> bool:
    return str(getattr(finder, "__module__", "")).startswith("__editable__")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
