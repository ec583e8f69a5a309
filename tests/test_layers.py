"""The top-level packages import each other only downwards (ARCHITECTURE.md draws the layers).

``auralink`` is the shell that composes the services; nothing below imports it. ``settings``
and ``telemetry`` are neutral contracts every service may share; ``engine`` is the graph
runtime alone.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ALLOWED = {
    "settings": set(),
    "kernels": set(),
    "protos": set(),
    "engine": set(),
    "telemetry": {"protos"},
    "pipeline": {"engine", "kernels", "protos", "settings", "telemetry"},
    "control_plane": {"pipeline", "protos", "settings", "telemetry"},
    "ui": {"control_plane", "pipeline", "protos", "settings", "telemetry"},
}
PRODUCT = {*ALLOWED, "auralink", "benchmarks"}


def imported_packages(package: str) -> dict[str, set[str]]:
    """Each other top-level package ``package`` imports, with the modules that import it."""
    found: dict[str, set[str]] = {}
    for path in (REPO / package).rglob("*.py"):
        if "gen" in path.relative_to(REPO).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in PRODUCT and top != package:
                    found.setdefault(top, set()).add(str(path.relative_to(REPO)))
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_the_layers_below_it(package: str) -> None:
    wrong = {top: sorted(modules) for top, modules in imported_packages(package).items() if top not in ALLOWED[package]}
    assert not wrong, f"{package} must not import {wrong}"


def module_imports() -> dict[str, set[str]]:
    """Every product module and the product modules it imports (at any depth of the file)."""
    files = {}
    for package in ALLOWED:
        for path in (REPO / package).rglob("*.py"):
            parts = path.relative_to(REPO).with_suffix("").parts
            if "gen" not in parts:
                files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            graph[name] |= {t for t in targets if t in files and t != name and not name.startswith(f"{t}.")}
    return graph


def test_no_module_imports_itself_through_others() -> None:
    graph = module_imports()
    for start in graph:
        seen: set[str] = set()
        stack = list(graph[start])
        while stack:
            module = stack.pop()
            assert module != start, f"{start} imports itself through {sorted(seen)}"
            if module not in seen:
                seen.add(module)
                stack.extend(graph[module])


def test_tests_share_helpers_through_tests_support_only() -> None:
    offenders = []
    for path in (REPO / "tests").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tests."):
                last = node.module.rsplit(".", 1)[-1]
                if last.startswith("test_") or (last == "conftest" and path.name != "conftest.py"):
                    offenders.append(f"{path.relative_to(REPO)} imports {node.module}")
    assert not offenders, offenders
