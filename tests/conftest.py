"""Shared fixtures: frames, the bundled speech sample, a scratch working directory."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from engine.frames import AudioFrame, now_ns

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "pipeline" / "examples"
SPEECH_SAMPLE = REPO / "pipeline" / "samples" / "speech_en_16k.flac"

# The default data directory is the user's (platformdirs, XDG_DATA_HOME on Linux): the suite and the
# commands it starts keep theirs in a scratch directory, never in the home of whoever runs the tests.
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="auralink-tests-xdg-")


def audio_frame(index: int, samples: int = 320, rate: int = 16000, channels: int = 1) -> AudioFrame:
    """The ``index``-th frame of a stream; every sample holds ``index``, so order and loss are visible."""
    data = np.full((samples, channels), index % 30000, dtype=np.int16)
    return AudioFrame(
        pts_ns=index * samples * 1_000_000_000 // rate, ingest_ns=now_ns(), samples=data, sample_rate=rate
    )


def audio_frames(count: int, samples: int = 320, rate: int = 16000, channels: int = 1) -> list[AudioFrame]:
    """``count`` consecutive frames (see :func:`audio_frame`)."""
    return [audio_frame(index, samples, rate, channels) for index in range(count)]


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Run the test with a fresh, empty working directory."""
    monkeypatch.chdir(tmp_path)
    yield tmp_path
