"""``auralink bench ui --quick`` runs end to end (PostgreSQL, the admin UI, chromium) and writes its figures."""

import json
from pathlib import Path

import pytest

from tests.cli.helpers import invoke
from tests.support.browser import CHROMIUM


@pytest.mark.slow
def test_ui_suite_runs_and_writes_json(tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is installed by dev.sh")
    out = tmp_path / "ui.json"
    result = invoke("bench", "ui", "--quick", "--json", str(out))
    assert result.exit_code == 0, result.output
    suite = json.loads(out.read_text())["results"][0]
    figures = {figure["name"]: figure for figure in suite["figures"]}
    for page in ("overview", "calls", "call"):
        assert figures[f"{page}_server_p95_ms"]["value"] > 0 and figures[f"{page}_server_p95_ms"]["target"] == 150
        assert figures[f"{page}_lcp_p95_ms"]["value"] > 0 and figures[f"{page}_lcp_p95_ms"]["target"] == 1000
    assert "10,000 calls" in suite["notes"][0]
