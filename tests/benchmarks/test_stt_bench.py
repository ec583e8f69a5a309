import json
from pathlib import Path

import pytest

from benchmarks.anchors import whisperlivekit_la
from benchmarks.stt_suite import simulate
from pipeline.speech.whisper import Word
from tests.cli.helpers import invoke


def test_the_simulated_clock_charges_compute_time_to_every_word_after_it() -> None:
    import time

    import numpy as np

    audio = np.zeros(16000, dtype=np.float32)  # 1 s
    calls = [0]

    def feed(chunk: np.ndarray) -> list[Word]:
        calls[0] += 1
        if calls[0] == 10:  # at 0.2 s of audio: a 0.3 s decode that commits a word ending at 0.1 s
            time.sleep(0.3)
            return [Word(0.0, 0.1, " hi", 1.0)]
        return []

    run = simulate(audio, feed, list)
    assert run.latencies[0] == pytest.approx(0.2 - 0.1 + 0.3, abs=0.05)
    assert calls[0] < 50  # audio that arrived during the decode is fed at once afterwards
    assert run.compute_s >= 0.3


@pytest.mark.slow
def test_stt_suite_reports_latency_wer_rtf_memory_beside_the_anchor(tmp_path: Path) -> None:
    out = tmp_path / "stt.json"
    result = invoke("bench", "stt", "--quick", "--json", str(out))
    assert result.exit_code == 0, result.output
    suite = json.loads(out.read_text())["results"][0]
    figures = {figure["name"]: figure for figure in suite["figures"]}
    for name in ("p50_commit_latency_s", "p90_commit_latency_s", "rtf", "peak_rss_mb"):
        assert figures[name]["value"] > 0, name
    assert 0 <= figures["wer"]["value"] < 0.3  # 0 is a perfect transcript of the quick clip
    assert figures["committed_words"]["value"] > 10
    assert 0 <= figures["offline_wer"]["value"] < 0.3 and figures["offline_rtf"]["value"] > 0
    assert figures["first_pass_rtf"]["value"] > 0 and figures["vad_rtf"]["value"] > 0
    stages = [name for name in figures if name.endswith("_p50_committing_decode_s")]
    assert stages and all(figures[name]["value"] > 0 for name in stages), stages
    if whisperlivekit_la.available():
        assert figures["anchor_committed_words"]["value"] > 0
        assert "p50_latency_vs_anchor" in figures
