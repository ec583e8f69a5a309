import json
from pathlib import Path

import pytest

from pipeline.webrtc.ice import apply_host_addresses
from tests.cli.helpers import invoke


@pytest.mark.slow
def test_demo_is_a_real_call_that_prints_the_room_pipeline_and_a_browser_url(tmp_path: Path) -> None:
    loopback = {
        "AURALINK_ICE_HOST_ADDRESSES": '["127.0.0.1"]',
        "AURALINK_ICE_REMOTE_NETWORKS": '["127.0.0.0/8"]',
        "AURALINK_DATA_DIR": str(tmp_path / "data"),
        "AURALINK_QUALITY_INTERVAL_S": "2",
        "COLUMNS": "200",
    }
    try:
        result = invoke("demo", "--port", "0", "--output-dir", str(tmp_path / "out"), env=loopback)
    finally:
        apply_host_addresses([])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("AuraLink demo: a call in room 'demo' on http://127.0.0.1:")
    assert "/call/#room=demo&token=" in lines[1]
    meter_lines = [line for line in lines if "narrator:" in line and "dBFS" in line]
    assert len(meter_lines) >= 6 and "█" in meter_lines[3]  # 7.1 s of speech in 1 s windows
    assert any(line.startswith("call quality of narrator: MOS 4.") for line in lines)
    events = [json.loads(line) for line in (tmp_path / "out" / "events.jsonl").read_text().splitlines()]
    assert all(e["speaker"] == "narrator" for e in events)
    # the room's pipeline captions the LibriVox sentence live and translates it into Portuguese
    finals = " ".join(e["text"] for e in events if e["type"] == "transcript" and e["final"]).lower()
    assert "dashwood" in finals and "consider" in finals and "power" in finals, finals
    translations = [e for e in events if e["type"] == "translation"]
    assert translations and translations[0]["language"] == "pt" and "poder" in translations[0]["text"].lower()
    assert (tmp_path / "data" / "join-token.secret").stat().st_mode & 0o777 == 0o600


def test_schema_prints_json_schema_and_writes_a_file(tmp_path: Path) -> None:
    printed = json.loads(invoke("schema").stdout)
    assert printed["title"] == "AuraLink pipeline file"
    assert invoke("schema", "-o", str(tmp_path / "s.json")).exit_code == 0
    assert json.loads((tmp_path / "s.json").read_text()) == printed


def test_config_shows_values_from_the_environment() -> None:
    result = invoke("config", env={"AURALINK_WORKER_THREADS": "3", "COLUMNS": "200"})
    assert result.exit_code == 0
    assert "worker_threads" in result.stdout and "AURALINK_WORKER_THREADS" in result.stdout
    row = next(line for line in result.stdout.splitlines() if "worker_threads" in line)
    assert " 3 " in row


def test_bad_configuration_is_explained(tmp_path: Path) -> None:
    result = CliError.run(["config"], env={"AURALINK_WORKER_THREADS": "many"})
    assert result.exit_code == 1
    assert (
        "invalid configuration (AURALINK_* variables): worker_threads: Input should be a valid integer" in result.output
    )
    broken = tmp_path / "c.toml"
    broken.write_text("log_level = [")
    result = CliError.run(["--config", str(broken), "config"])
    assert result.exit_code == 1 and f"{broken}: invalid TOML" in result.output


class CliError:
    @staticmethod
    def run(args: list[str], env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        from click.testing import CliRunner

        from auralink.cli import cli

        return CliRunner().invoke(cli, args, env=env)


def test_the_demo_stamps_a_translation_with_the_span_of_the_sentence_it_translates() -> None:
    from auralink.cli.demo import message_line

    # as the room pipeline sent it in a demo run: the sentence began with the first word the room heard
    translation = {"pts_ms": 0.0, "text": "o quanto pode haver", "final": True, "language": "pt"}
    translation |= {"type": "translation", "start": 0.0, "end": 5.98, "speaker": "narrator"}
    assert message_line(translation) == " 0.00-5.98 s narrator [translation, pt]: o quanto pode haver"
    transcript = {"pts_ms": 1380.0, "text": "leisure to", "final": True, "language": "en", "type": "transcript"}
    assert message_line(transcript | {"speaker": "narrator", "end": 2.1}).startswith(" 1.38 s narrator [transcript")
