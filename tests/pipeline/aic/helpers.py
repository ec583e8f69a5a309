"""Shared checks for the AIC tests."""

from __future__ import annotations

import numpy as np

from benchmarks.aic_media import ssim_y
from kernels.colour import Planes
from pipeline.aic.codec import AICDecoder, DecodedVideo
from pipeline.aic.types import QUALITY_FLOOR, CompressResult, Mode, Status


def decode_video(decoder: AICDecoder, data: bytes) -> DecodedVideo:
    decoded = decoder.decompress(data)
    assert isinstance(decoded, DecodedVideo)
    return decoded


def assert_floor_held(source: Planes, result: CompressResult, decoded: DecodedVideo, mode: Mode) -> None:
    """The receiver's picture meets the mode's floor, measured independently; a fallback is bit-exact."""
    independent = ssim_y(source[0], decoded.planes[0])
    assert independent >= QUALITY_FLOOR[mode], (result.status, result.fallback_reason)
    assert abs(independent - result.ssim) < 1e-6, "the reported SSIM is the receiver's"
    if result.status is Status.FALLBACK or mode is Mode.OFF:
        assert result.fallback_reason or mode is Mode.OFF
        for ours, theirs in zip(source, decoded.planes, strict=True):
            assert np.array_equal(ours, theirs)
    else:
        assert result.status in (Status.SUCCESS, Status.TIMEOUT)
