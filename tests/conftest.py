"""Fixtures every test may use (helpers to import live in :mod:`tests.support`)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# The default data directory is the user's (platformdirs, XDG_DATA_HOME on Linux): the suite and the
# commands it starts keep theirs in a scratch directory, never in the home of whoever runs the tests.
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="auralink-tests-xdg-")


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Run the test with a fresh, empty working directory."""
    monkeypatch.chdir(tmp_path)
    yield tmp_path
