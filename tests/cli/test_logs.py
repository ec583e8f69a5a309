"""The process's log: one format for every library, and tracebacks without the values of local variables."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import structlog

from auralink.logs import configure_logging


@pytest.fixture
def own_logging() -> Iterator[None]:
    """The root logger as it was, after a test that configures logging onto its captured stderr."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


def test_a_logged_traceback_never_shows_local_values(capsys: pytest.CaptureFixture[str], own_logging: None) -> None:
    configure_logging("info")
    password = "-".join(["hunter2", "correct", "horse"])  # built at run time: the shown source cannot hold it
    try:
        raise ValueError("the check failed")
    except ValueError:
        structlog.get_logger("test").exception("login failed")
        logging.getLogger("stdlib.test").exception("login failed again")
    err = capsys.readouterr().err
    assert "login failed" in err and "login failed again" in err and "the check failed" in err
    assert password not in err and "\x1b[" not in err  # no locals, and no colour codes in a log that is not a terminal
