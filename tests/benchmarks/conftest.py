from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Benchmark runs keep their results in the data dir: a fresh one per test, never the user's."""
    path = tmp_path / "data"
    monkeypatch.setenv("AURALINK_DATA_DIR", str(path))
    return path
