"""The documentation stays in step with the code."""

from pathlib import Path

from settings import Settings
from tests.support.paths import REPO


def test_every_setting_is_documented_with_its_variable() -> None:
    text = (REPO / "docs" / "configuration.md").read_text()
    for name in Settings.model_fields:
        assert f"| `{name}` | `AURALINK_{name.upper()}` |" in text, name


def test_readme_opens_with_the_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (REPO / "README.md").read_text()
    block = readme.split("```")[1].splitlines()
    commands = [line.split("#")[0].strip() for line in block if line.startswith("./")]
    assert commands == ["./dev.sh demo", "./dev.sh test"]
    assert "exec ./dev.sh test" in (REPO / ".ci" / "run").read_text()


def test_the_readme_pipeline_example_is_valid(tmp_path: Path) -> None:
    from pipeline.config import load_pipeline

    readme = (REPO / "README.md").read_text()
    example = readme.split("```yaml")[1].split("```")[0]
    path = REPO / "pipeline" / "examples" / "readme_example.yaml"
    assert path.read_text() == example.lstrip("\n"), "README's example must match pipeline/examples/readme_example.yaml"
    load_pipeline(path)
