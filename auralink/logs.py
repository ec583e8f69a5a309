"""Logging through structlog: readable on a terminal, JSON for machines."""

from __future__ import annotations

import logging
import sys

import structlog

# Libraries that narrate their own internals at info level (alembic lists every plugin it sets up on import).
CHATTY_LOGGERS = ("alembic.runtime.plugins",)


def configure_logging(level: str = "info", fmt: str = "console") -> None:
    """Route stdlib and structlog records to stderr in one format."""
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(),
            # a traceback's local variables hold what must never reach a log: passwords, their hashes, tokens
            exception_formatter=structlog.dev.RichTracebackFormatter(
                color_system="truecolor" if sys.stderr.isatty() else None, show_locals=False, max_frames=20
            ),
        )
    )
    shared: list[structlog.types.Processor] = [
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso"),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        # uncached, so that configuring again (another command in the same process, a test capturing logs)
        # reaches every logger already used; a log line is rare next to the media work
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared, processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer]
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
