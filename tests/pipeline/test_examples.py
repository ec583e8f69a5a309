"""Every example pipeline in the repository validates, and those that can run here do."""

from pathlib import Path

import jsonschema
import numpy as np
import pytest
import yaml

from engine.runner import GraphRunner
from pipeline.config import ConfigError, load_pipeline
from pipeline.config.schema import pipeline_json_schema
from pipeline.registry import stage_types
from tests.support.media import read_audio
from tests.support.paths import EXAMPLES

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_example_validates_against_loader_and_published_schema(path: Path) -> None:
    load_pipeline(path)
    jsonschema.validate(yaml.safe_load(path.read_text()), pipeline_json_schema())


def test_schema_covers_every_stage_type_and_rejects_unknown_settings() -> None:
    schema = pipeline_json_schema()
    described = {name.removeprefix("Stage_") for name in schema["$defs"] if name.startswith("Stage_")}
    assert described == set(stage_types())
    bad = {"stages": [{"name": "t", "type": "synthetic_source", "settings": {"frequency": 3}}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


async def test_speech_levels_records_the_sample_and_reports_levels(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = await GraphRunner(load_pipeline(EXAMPLES / "speech_levels.yaml").graph).run()
    assert result.ok
    recorded, rate = read_audio(in_tmp / "speech-levels.wav")
    assert rate == 16000 and recorded.shape == (113_600, 1) and np.abs(recorded).max() > 3000
    lines = [line for line in capsys.readouterr().out.splitlines() if '"audio-level"' in line]
    assert len(lines) == 29  # 7.1 s in 250 ms windows


async def test_tone_chain_links_stages_in_order(in_tmp: Path) -> None:
    loaded = load_pipeline(EXAMPLES / "tone_chain.yaml")
    assert [(link.spec.source, link.spec.target) for link in loaded.graph.links] == [
        ("tone", "resample"),
        ("resample", "meter"),
        ("meter", "events"),
    ]
    assert (await GraphRunner(loaded.graph).run()).ok
    assert len((in_tmp / "tone-levels.jsonl").read_text().splitlines()) == 20


async def test_microphone_monitor_stops_with_a_clear_message_where_there_is_no_sound_card() -> None:
    result = await GraphRunner(load_pipeline(EXAMPLES / "microphone_monitor.yaml").graph).run()
    assert result.error is not None and ("no audio" in result.error or "PortAudio" in result.error)


def test_relative_inputs_resolve_against_the_pipeline_file(tmp_path: Path) -> None:
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "a.flac").write_bytes((EXAMPLES.parent / "samples" / "speech_en_16k.flac").read_bytes())
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(
        "stages:\n  - {name: f, type: file_source, settings: {path: media/a.flac}}\n  - {name: m, type: level_meter}\n"
    )
    with pytest.raises(ConfigError):
        load_pipeline(Path("p.yaml"))  # relative to the working directory, which is elsewhere: not found
    assert load_pipeline(pipeline).graph.order == ["f", "m"]
