"""Path fields for stage settings.

Input files resolve against the pipeline file's directory (so a pipeline and
its media can move together); output files resolve against the working
directory, as command-line tools' outputs do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, ValidationInfo


def _resolve_input(value: Path, info: ValidationInfo) -> Path:
    base = (info.context or {}).get("base_dir")
    path = value if value.is_absolute() or base is None else Path(base) / value
    if path.is_dir():
        raise ValueError(f"'{path}' is a directory, not a file")
    if not path.exists():
        raise ValueError(f"no such file: '{path}'")
    return path


def _check_output(value: Path) -> Path:
    if str(value) == "-":
        return value
    if value.is_dir():
        raise ValueError(f"'{value}' is a directory; name a file")
    return value


InputPath = Annotated[Path, AfterValidator(_resolve_input)]
"""An existing file, relative to the pipeline file's directory."""

OutputPath = Annotated[Path, AfterValidator(_check_output)]
"""A file to write, relative to the working directory."""


def _resolve_input_directory(value: Path, info: ValidationInfo) -> Path:
    base = (info.context or {}).get("base_dir")
    path = value if value.is_absolute() or base is None else Path(base) / value
    if not path.is_dir():
        raise ValueError(f"no such directory: '{path}'")
    return path


InputDirectory = Annotated[Path, AfterValidator(_resolve_input_directory)]
"""An existing directory (a model, say), relative to the pipeline file's directory."""
