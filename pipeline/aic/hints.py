"""Compression hints: predicted ratio, quality and latency for a frame, without compressing it.

Video: the planes are transformed and quantised at the qp rate control would
start from (no entropy coding, no motion search). Size follows the ρ-domain
model — bits are nearly proportional to the count of non-zero levels; AIC
spends about ``BITS_PER_NONZERO`` bits on each — and quality is the SSIM of the
luma rebuilt from those levels. Latency is the stream's measured encode time
per pixel (or a default measured on the project's 2-core machines). Audio:
the bits of Rice codes at each channel's residual level; quality is exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kernels.metrics import ssim
from kernels.transform import FREQUENCY_WEIGHT, QSTEP, ZIGZAG, forward_blocks, inverse_blocks, quantise_blocks
from pipeline.aic.ratecontrol import RateController
from pipeline.aic.types import CompressOptions, Mode
from pipeline.aic.video import Planes, adaptive_offsets, check_planes, pad_planes, raw_size

BITS_PER_NONZERO = 4.5
HEADER_BYTES = 40
DEFAULT_NS_PER_PIXEL = 40.0
"""Encode plus SSIM check, measured on 640x480 pictures here; replaced by each stream's own figure."""


@dataclass(frozen=True, slots=True)
class Hints:
    predicted_ratio: float
    predicted_ssim: float
    predicted_psnr: float
    predicted_latency_ms: float
    qp: int
    predicted_size: int


def _block_steps(offsets: npt.NDArray[np.int32], qp: int, blocks_per_mb: int) -> npt.NDArray[np.float32]:
    qps = np.clip(qp + offsets, 0, len(QSTEP) - 1)
    steps = QSTEP[qps]
    return np.repeat(np.repeat(steps, blocks_per_mb, axis=0), blocks_per_mb, axis=1).astype(np.float32)


def video_hints(planes: Planes, options: CompressOptions, rate: RateController, ns_per_pixel: float) -> Hints:
    height, width = planes[0].shape
    check_planes(planes, width, height)
    latency = width * height * ns_per_pixel / 1e6
    if options.mode is Mode.OFF:
        return Hints(2.0, 1.0, 100.0, latency, 0, raw_size(width, height) // 2)
    qp = rate.first_qp(options)
    padded = pad_planes(planes)
    offsets = adaptive_offsets(padded[0], None)
    nonzero = 0
    luma_levels = None
    for index, plane in enumerate(padded):
        coeffs = forward_blocks(plane.astype(np.float32) - 128.0)
        steps = _block_steps(offsets, qp, 2 if index == 0 else 1)
        levels = quantise_blocks(coeffs, steps, float(QSTEP[qp]), 1.0 / 3.0)
        nonzero += int(np.count_nonzero(levels))
        if index == 0:
            luma_levels, luma_steps = levels, steps
    assert luma_levels is not None
    rebuilt = _dequantised_luma(luma_levels, luma_steps, float(QSTEP[qp]))
    quality = float(ssim(planes[0], rebuilt[:height, :width]))
    error = float(((rebuilt[:height, :width].astype(np.float64) - planes[0]) ** 2).mean())
    size = int(nonzero * BITS_PER_NONZERO / 8) + HEADER_BYTES
    psnr = 100.0 if error == 0 else min(100.0, 10 * math.log10(255.0**2 / error))
    return Hints(raw_size(width, height) / size, quality, psnr, latency, qp, size)


def _dequantised_luma(
    levels: npt.NDArray[np.int32], steps: npt.NDArray[np.float32], dc_step: float
) -> npt.NDArray[np.uint8]:
    rows, cols = levels.shape[:2]
    scales = FREQUENCY_WEIGHT[ZIGZAG][None, None, :] * steps[:, :, None]
    scales[:, :, 0] = dc_step
    raster = np.zeros((rows, cols, 64), dtype=np.float32)
    raster[:, :, ZIGZAG] = levels * scales
    pixels = inverse_blocks(raster.reshape(rows, cols, 8, 8)) + 128.0
    rebuilt: npt.NDArray[np.uint8] = np.clip(np.rint(pixels), 0, 255).astype(np.uint8)
    return rebuilt


def audio_hints(samples: npt.NDArray[np.int16], ns_per_sample: float = 30.0) -> Hints:
    bits = 0.0
    for column in range(samples.shape[1]):
        residual = np.diff(samples[:, column].astype(np.int64), n=2)
        mean = float(np.abs(residual).mean()) if residual.size else 0.0
        bits += samples.shape[0] * (math.log2(mean + 1.0) + 1.5)
    size = int(bits / 8) + 32
    return Hints(samples.nbytes / size, 1.0, 100.0, samples.size * ns_per_sample / 1e6, 0, size)
