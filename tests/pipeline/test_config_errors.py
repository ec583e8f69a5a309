from pathlib import Path

import pytest

from pipeline.config import ConfigError, load_pipeline
from tests.pipeline.bad_inputs import CASES, big_file, write_case


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as error:
        load_pipeline(path)
    return [str(problem) for problem in error.value.problems]


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_bad_input_gets_its_precise_message(tmp_path: Path, case: str) -> None:
    path = write_case(tmp_path, case)
    assert problems(path) == [f"{path}:{line}" for line in CASES[case][1]]


def test_a_100_mb_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = big_file(tmp_path)
    assert problems(path) == [f"{path}:1:1: file is 104.9 MB; pipeline files are limited to 1 MiB"]


def test_a_missing_path_and_a_directory_are_named(tmp_path: Path) -> None:
    assert problems(tmp_path / "nope.yaml") == [f"{tmp_path / 'nope.yaml'}:1:1: no such file"]
    assert problems(tmp_path) == [f"{tmp_path}:1:1: is a directory, not a pipeline file"]


def test_binary_garbage_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "garbage.yaml"
    path.write_bytes(b"stages:\n\xff\xfe\x00")
    assert problems(path) == [f"{path}:1:1: not UTF-8 text (byte 8)"]


def test_every_problem_in_a_file_is_reported_together(tmp_path: Path) -> None:
    path = tmp_path / "many.yaml"
    path.write_text(
        "stages:\n"
        "  - name: src\n    type: synthetic_source\n    settings: {frequency_hz: abc, freqency: 3}\n"
        "  - type: resample\n"
        "  - {name: out, type: file_sink, settings: {path: out.mp3}}\n"
    )
    found = problems(path)
    assert [line.split(": ", 1)[0].removeprefix(f"{path}:") for line in found] == [
        "4:16",
        "4:35",
        "5:5",
        "6:34",
    ]
    assert found[-1].endswith("stages[2].settings: path must end in .wav or .flac, not '.mp3'")


def test_a_missing_input_file_names_the_resolved_path(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "stages:\n  - {name: f, type: file_source, settings: {path: media/missing.flac}}\n"
        "  - {name: m, type: level_meter}\n"
    )
    assert problems(path) == [
        f"{path}:2:45: stages[0].settings.path: no such file: '{tmp_path / 'media' / 'missing.flac'}'"
    ]


def test_a_tone_above_nyquist_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "stages:\n  - {name: t, type: synthetic_source, settings: {frequency_hz: 9000, sample_rate: 16000}}\n"
    )
    assert problems(path) == [
        f"{path}:2:39: stages[0].settings: frequency_hz 9000 must be below half the sample rate (8000)"
    ]
