"""Rate-distortion curves for the AIC benchmark, with one set of definitions for every codec.

Pictures are yuv420p; quality is SSIM on Y (``ssim_y``) of what the codec's own
decoder returns; bits per pixel = total bits / (frames x width x height); and
"bits at equal SSIM" compares two curves by interpolating log(bpp) against SSIM
between measured points, over the SSIM range both curves cover.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from benchmarks.aic_media import ssim_y
from benchmarks.anchors.aic_codecs import CodedSequence
from kernels.colour import Planes
from pipeline.aic.codec import AICDecoder, AICEncoder, DecodedVideo
from pipeline.aic.types import CompressOptions, Mode

GRID_POINTS = 12


@dataclass(frozen=True)
class Point:
    bpp: float
    ssim: float


def point(pictures: Sequence[Planes], coded: CodedSequence) -> Point:
    if len(coded.decoded_luma) != len(pictures):
        raise RuntimeError(f"decoder returned {len(coded.decoded_luma)} pictures for {len(pictures)}")
    height, width = pictures[0][0].shape
    bpp = sum(coded.sizes) * 8 / (len(pictures) * width * height)
    quality = float(np.mean([ssim_y(p[0], luma) for p, luma in zip(pictures, coded.decoded_luma, strict=True)]))
    return Point(bpp, quality)


def aic(pictures: Sequence[Planes], qp: int) -> CodedSequence:
    """AIC at a fixed qp (intra first, then inter), decoded by its own decoder."""
    encoder, decoder = AICEncoder(), AICDecoder()
    options = CompressOptions(mode=Mode.AGGRESSIVE, fixed_qp=qp, allow_fallback=False, latency_cap_ms=1e6)
    started = time.perf_counter()
    frames = [encoder.compress_video(picture, options).data for picture in pictures]
    encoded = time.perf_counter()
    luma = []
    for data in frames:
        decoded = decoder.decompress(data)
        assert isinstance(decoded, DecodedVideo)
        luma.append(decoded.planes[0])
    return CodedSequence([len(f) for f in frames], luma, encoded - started, time.perf_counter() - encoded)


def curve(
    pictures: Sequence[Planes], run: Callable[[Sequence[Planes], int], CodedSequence], settings: Sequence[int]
) -> list[Point]:
    return sorted((point(pictures, run(pictures, setting)) for setting in settings), key=lambda p: p.ssim)


def bits_ratio_at_equal_ssim(ours: list[Point], theirs: list[Point]) -> float | None:
    """Mean of our bits over theirs at equal SSIM (log-bpp interpolation); None when the curves do not overlap."""
    low = max(ours[0].ssim, theirs[0].ssim)
    high = min(ours[-1].ssim, theirs[-1].ssim)
    if high <= low:
        return None
    grid = np.linspace(low, high, GRID_POINTS)
    differences = _log_bpp(ours, grid) - _log_bpp(theirs, grid)
    return math.exp(float(differences.mean()))


def _log_bpp(points: list[Point], grid: np.ndarray) -> np.ndarray:
    ssims = np.maximum.accumulate([p.ssim for p in points])  # np.interp needs increasing x
    logs: np.ndarray = np.interp(grid, ssims, [math.log(p.bpp) for p in points])
    return logs
