"""Reconstruction: motion-compensated prediction, and prediction plus residual, clipped to 8 bits.

The codec calls the block helpers from its picture kernels; the plane-level
functions are what the tests and the bandwidth benchmark drive.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit


@njit(cache=True, inline="always")
def clip_u8(value: float) -> np.uint8:
    """Round to nearest and clip to 0..255, without branches (so loops over it vectorise)."""
    return np.uint8(min(max(value, 0.0), 255.0) + 0.5)


@njit(cache=True)
def copy_block(ref: npt.NDArray[np.uint8], y: int, x: int, size: int, out: npt.NDArray[np.float32]) -> None:
    """The ``size`` x ``size`` block of ``ref`` at (y, x), as float32 (the caller keeps it inside ``ref``)."""
    for row in range(size):
        for col in range(size):
            out[row, col] = ref[y + row, x + col]


@njit(cache=True)
def half_pel_fits(position2: int, size: int, limit: int) -> bool:
    """Whether a block at half-pixel ``position2`` (with its interpolation neighbour) lies inside ``0..limit``."""
    start = position2 >> 1
    return start >= 0 and start + size + (position2 & 1) <= limit


@njit(cache=True)
def vector_fits(y: int, x: int, dy: int, dx: int, height: int, width: int) -> bool:
    """Whether the half-pixel vector (dy, dx) of the macroblock at luma (y, x) keeps luma and chroma inside."""
    return (
        half_pel_fits(2 * y + dy, 16, height)
        and half_pel_fits(2 * x + dx, 16, width)
        and half_pel_fits(y + (dy >> 1), 8, height // 2)
        and half_pel_fits(x + (dx >> 1), 8, width // 2)
    )


@njit(cache=True)
def interpolate_block(ref: npt.NDArray[np.uint8], y2: int, x2: int, size: int, out: npt.NDArray[np.float32]) -> None:
    """The block at half-pixel position (y2 / 2, x2 / 2): bilinear with rounding up, as H.263 predicts."""
    y, x, fy, fx = y2 >> 1, x2 >> 1, y2 & 1, x2 & 1
    if fx == 0 and fy == 0:  # one loop per case: no branch inside, so each loop vectorises
        for row in range(size):
            for col in range(size):
                out[row, col] = ref[y + row, x + col]
    elif fy == 0:
        for row in range(size):
            for col in range(size):
                out[row, col] = (np.int32(ref[y + row, x + col]) + np.int32(ref[y + row, x + col + 1]) + 1) >> 1
    elif fx == 0:
        for row in range(size):
            for col in range(size):
                out[row, col] = (np.int32(ref[y + row, x + col]) + np.int32(ref[y + row + 1, x + col]) + 1) >> 1
    else:
        for row in range(size):
            for col in range(size):
                total = np.int32(ref[y + row, x + col]) + np.int32(ref[y + row, x + col + 1])
                total += np.int32(ref[y + row + 1, x + col]) + np.int32(ref[y + row + 1, x + col + 1])
                out[row, col] = (total + 2) >> 2


@njit(cache=True)
def store_block(
    prediction: npt.NDArray[np.float32],
    residual: npt.NDArray[np.float32],
    plane: npt.NDArray[np.uint8],
    y: int,
    x: int,
) -> None:
    for row in range(prediction.shape[0]):
        for col in range(prediction.shape[1]):
            plane[y + row, x + col] = clip_u8(prediction[row, col] + residual[row, col])


@njit(cache=True)
def store_prediction(prediction: npt.NDArray[np.float32], plane: npt.NDArray[np.uint8], y: int, x: int) -> None:
    for row in range(prediction.shape[0]):
        for col in range(prediction.shape[1]):
            plane[y + row, x + col] = np.uint8(prediction[row, col])


@njit(cache=True)
def reconstruct(prediction: npt.NDArray[np.uint8], residual: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
    """``clip(prediction + residual)`` over a whole plane."""
    out = np.empty(prediction.shape, dtype=np.uint8)
    flat_prediction, flat_residual, flat_out = prediction.ravel(), residual.ravel(), out.ravel()
    for i in range(flat_out.shape[0]):
        flat_out[i] = clip_u8(np.float32(flat_prediction[i]) + flat_residual[i])
    return out


MB = 16


@njit(cache=True)
def motion_compensate(ref: npt.NDArray[np.uint8], mvs: npt.NDArray[np.int32]) -> npt.NDArray[np.uint8]:
    """The prediction of a plane from ``ref`` with one (dy, dx) per 16x16 block (clamped inside ``ref``)."""
    height, width = ref.shape
    out = np.empty_like(ref)
    source, target = ref.ravel(), out.ravel()
    for by in range(mvs.shape[0]):
        for bx in range(mvs.shape[1]):
            sy = min(max(by * MB + mvs[by, bx, 0], 0), height - MB)
            sx = min(max(bx * MB + mvs[by, bx, 1], 0), width - MB)
            for row in range(MB):
                # Unsigned offsets and a constant width: each row becomes one 16-byte copy.
                start = np.uint64((sy + row) * width + sx)
                dest = np.uint64((by * MB + row) * width + bx * MB)
                for col in range(np.uint64(MB)):
                    target[dest + col] = source[start + col]
    return out


def reference_reconstruct(
    prediction: npt.NDArray[np.uint8], residual: npt.NDArray[np.float32]
) -> npt.NDArray[np.uint8]:
    total = prediction.astype(np.float32) + residual
    return np.where(total > 0, np.clip(np.floor(total + 0.5), 0, 255), 0).astype(np.uint8)


def reference_motion_compensate(ref: npt.NDArray[np.uint8], mvs: npt.NDArray[np.int32]) -> npt.NDArray[np.uint8]:
    block = MB
    height, width = ref.shape
    out = np.empty_like(ref)
    for by, bx in np.ndindex(mvs.shape[0], mvs.shape[1]):
        sy = min(max(by * block + int(mvs[by, bx, 0]), 0), height - block)
        sx = min(max(bx * block + int(mvs[by, bx, 1]), 0), width - block)
        out[by * block : (by + 1) * block, bx * block : (bx + 1) * block] = ref[sy : sy + block, sx : sx + block]
    return out
