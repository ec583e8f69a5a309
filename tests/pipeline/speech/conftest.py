"""Real speech for the speech tests: Debian's LibriVox and Asterisk recordings, espeak-ng sentences."""

from __future__ import annotations

import pytest

from pipeline.speech.models import configure_models_dir
from pipeline.speech.whisper import WhisperEngine, load_whisper
from tests.support.recordings import MODELS_CACHE


@pytest.fixture(autouse=True)
def _models_cache() -> None:
    """Every speech test uses the shared cache (an in-process CLI run may have pointed the process elsewhere)."""
    configure_models_dir(MODELS_CACHE)


@pytest.fixture(scope="session")
def tiny() -> WhisperEngine:
    return load_whisper("tiny.en", MODELS_CACHE, "cpu", "int8")
