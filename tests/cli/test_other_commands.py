import json
from pathlib import Path

from tests.cli.helpers import invoke
from tests.pipeline.media import read_audio


def test_demo_plays_the_bundled_speech_through_the_pipeline(tmp_path: Path) -> None:
    result = invoke("demo", "--fast", "--output-dir", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("AuraLink demo: Bundled speech sample")
    meter_lines = [line for line in lines if "dBFS" in line]
    assert len(meter_lines) == 29 and "█" in meter_lines[5]
    recorded, rate = read_audio(tmp_path / "out" / "speech-16k.wav")
    assert rate == 16000 and recorded.shape[0] == 113_600
    assert len((tmp_path / "out" / "events.jsonl").read_text().splitlines()) == 29


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
