"""Running the real command line, in-process or as a child process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result

from auralink.cli import cli


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run ``auralink ARGS`` in-process; stdout and stderr are kept apart."""
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def spawn(*args: str, cwd: Path) -> subprocess.Popen[str]:
    """Start ``auralink ARGS`` as a child process."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "auralink", *args],
        cwd=cwd,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
