from pathlib import Path

import pytest

from tests.cli.helpers import invoke
from tests.pipeline.bad_inputs import CASES, big_file, write_case
from tests.support.paths import EXAMPLES


def test_valid_files_are_summarised() -> None:
    result = invoke("validate", str(EXAMPLES / "speech_levels.yaml"), str(EXAMPLES / "tone_chain.yaml"))
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"{EXAMPLES / 'speech_levels.yaml'}: ok (5 stages, 4 links)",
        f"{EXAMPLES / 'tone_chain.yaml'}: ok (4 stages, 3 links)",
    ]


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_bad_file_gets_one_line_per_problem_and_no_traceback(tmp_path: Path, case: str) -> None:
    path = write_case(tmp_path, case)
    result = invoke("validate", str(path))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"{path}:{line}" for line in CASES[case][1]]
    assert "Traceback" not in result.output


def test_files_that_cannot_be_read_are_named(tmp_path: Path) -> None:
    big = big_file(tmp_path)
    result = invoke(
        "validate", str(big), str(tmp_path / "missing.yaml"), str(tmp_path), str(EXAMPLES / "tone_chain.yaml")
    )
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{big}:1:1: file is 104.9 MB; pipeline files are limited to 1 MiB",
        f"{tmp_path / 'missing.yaml'}:1:1: no such file",
        f"{tmp_path}:1:1: is a directory, not a pipeline file",
    ]
    assert result.stdout.endswith("ok (4 stages, 3 links)\n")
