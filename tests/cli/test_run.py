import json
import signal
import time
from pathlib import Path

from tests.cli.helpers import spawn
from tests.support.paths import EXAMPLES


def test_run_executes_a_pipeline_to_the_end(tmp_path: Path) -> None:
    process = spawn("run", str(EXAMPLES / "tone_chain.yaml"), cwd=tmp_path)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "tone-chain: finished in" in err
    assert "resample" in err and "latency p50 ms" in err  # the summary table
    levels = [json.loads(line) for line in (tmp_path / "tone-levels.jsonl").read_text().splitlines()]
    assert len(levels) == 20 and levels[0]["data"]["peak_dbfs"] > -7


def test_run_refuses_an_invalid_file_with_exit_2(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("stages:\n  - {name: x, type: nope}\n")
    process = spawn("run", "bad.yaml", cwd=tmp_path)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert err.startswith("bad.yaml:2:15: stages[0].type: unknown stage type 'nope'")
    assert "Traceback" not in err


def test_ctrl_c_drains_then_stops_cleanly(tmp_path: Path) -> None:
    (tmp_path / "live.yaml").write_text(
        "stages:\n"
        "  - {name: tone, type: synthetic_source, settings: {duration_s: null, realtime: true}}\n"
        "  - {name: meter, type: level_meter}\n"
        "  - {name: rec, type: file_sink, settings: {path: live.wav}}\n"
    )
    process = spawn("run", "live.yaml", cwd=tmp_path)
    recording = tmp_path / "live.wav"
    deadline = time.monotonic() + 60
    while not (recording.exists() and recording.stat().st_size > 48000) and time.monotonic() < deadline:
        time.sleep(0.1)  # a loaded machine may take seconds to start Python; wait for the graph, not the clock
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "live: finished" in err or "pipeline: finished" in err
    assert recording.stat().st_size > 48000  # the recording was closed properly, not cut off


def test_a_runtime_failure_exits_1_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "mic.yaml").write_text(
        "stages:\n  - {name: mic, type: microphone_source}\n  - {name: meter, type: level_meter}\n"
    )
    process = spawn("run", "mic.yaml", cwd=tmp_path)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 1
    said = ("stage 'mic' failed: no audio input device", "stage 'mic' failed: the PortAudio")
    assert any(reason in err for reason in said) and "Traceback" not in err, err


def test_run_serves_prometheus_metrics_while_it_runs(tmp_path: Path) -> None:
    import socket
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (tmp_path / "live.yaml").write_text(
        "stages:\n"
        "  - {name: tone, type: synthetic_source, settings: {duration_s: null, realtime: true}}\n"
        "  - {name: meter, type: level_meter}\n"
    )
    process = spawn("run", "--quiet", "--metrics-port", str(port), "live.yaml", cwd=tmp_path)
    try:
        text = ""
        deadline = time.monotonic() + 20
        wanted = (
            'auralink_stage_frames_in_total{graph="pipeline",stage="meter"}',
            "auralink_stage_processing_seconds_bucket",
        )
        while not all(family in text for family in wanted):
            assert time.monotonic() < deadline, text
            time.sleep(0.2)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
                    text = response.read().decode()
            except OSError:
                continue
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    assert process.returncode == 0
