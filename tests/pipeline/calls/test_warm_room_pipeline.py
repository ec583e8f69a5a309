"""A cluster worker loads its room pipeline's models before it takes rooms (``CallServer.warm_room_pipeline``)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from pipeline.calls.server import CallServer
from pipeline.speech.models import models_dir
from pipeline.speech.whisper import load_whisper
from telemetry.records import MemoryReporter
from tests.support.engine import engine_options
from tests.support.paths import EXAMPLES

pytestmark = pytest.mark.slow


async def test_warming_the_captions_pipeline_loads_whisper_once_for_the_rooms_to_come() -> None:
    server = CallServer(engine_options("s" * 32, room_pipeline=EXAMPLES / "room_captions.yaml"), MemoryReporter())
    await server.warm_room_pipeline()
    started = time.monotonic()
    engine = load_whisper("tiny.en", models_dir())  # what a room's stt stage asks for at its start
    assert time.monotonic() - started < 0.05 and engine.name == "tiny.en"


async def test_a_pipeline_that_cannot_be_warmed_is_a_warning_not_a_failed_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = tmp_path / "room.yaml"
    broken.write_text("version: 1\nname: broken\nstages:\n  - {name: stt, type: stt, settings: {model: nowhere}}\n")
    server = CallServer(engine_options("s" * 32, room_pipeline=broken), MemoryReporter())
    with caplog.at_level(logging.WARNING, logger="pipeline.calls.server"):
        await server.warm_room_pipeline()
    assert "could not warm the room pipeline" in caplog.text
