"""``auralink bench control-plane --quick`` runs end to end on the machine's PostgreSQL and writes its figures."""

import json
from pathlib import Path

import pytest

from tests.cli.helpers import invoke


@pytest.mark.slow
def test_control_plane_suite_runs_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "cp.json"
    result = invoke("bench", "control-plane", "--quick", "--json", str(out))
    assert result.exit_code == 0, result.output
    suite = json.loads(out.read_text())["results"][0]
    figures = {figure["name"]: figure for figure in suite["figures"]}
    for endpoint in ("overview", "quality", "usage", "usage_timeline", "report"):
        assert figures[f"{endpoint}_p99_ms"]["value"] > 0
        assert figures[f"{endpoint}_api_overhead_ratio"]["target"] == 1.5
    assert figures["ingest_reporter_samples_per_s"]["value"] > 0
    assert "10,000 calls, 100,000 quality samples" in suite["notes"][0]
