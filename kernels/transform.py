"""Block transform: the orthonormal 8x8 DCT-II and its inverse, and per-block quantisation.

The DCT is orthonormal, so squared error in the coefficient domain equals
squared error in the pixel domain (before clipping): rate control and the
compression hints use that to predict PSNR without reconstructing.

Quantisation uses a per-block step ``step(qp + offset)`` where the offset comes
from the block's activity and motion (see ``kernels.activity``); DC uses the
frame's own step so that neighbouring DC levels stay comparable for prediction.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit

BLOCK = 8
MAX_QP = 63


def _dct_matrix() -> npt.NDArray[np.float32]:
    matrix = np.empty((BLOCK, BLOCK), dtype=np.float64)
    for k in range(BLOCK):
        scale = math.sqrt(1.0 / BLOCK) if k == 0 else math.sqrt(2.0 / BLOCK)
        for n in range(BLOCK):
            matrix[k, n] = scale * math.cos(math.pi * (2 * n + 1) * k / (2 * BLOCK))
    return matrix.astype(np.float32)


DCT = _dct_matrix()
"""Rows are basis functions: ``coeffs = DCT @ block @ DCT.T``."""


def _zigzag() -> npt.NDArray[np.int32]:
    order = sorted(
        ((r, c) for r in range(BLOCK) for c in range(BLOCK)),
        key=lambda rc: (rc[0] + rc[1], rc[1] if (rc[0] + rc[1]) % 2 == 0 else rc[0]),
    )
    return np.array([r * BLOCK + c for r, c in order], dtype=np.int32)


ZIGZAG = _zigzag()
"""Scan position → raster index within an 8x8 block (JPEG's order)."""

FREQUENCY_WEIGHT = np.array([1.0 + 0.06 * ((i // BLOCK) + (i % BLOCK)) for i in range(BLOCK * BLOCK)], dtype=np.float32)
"""A mild tilt towards coarser high frequencies (raster order), gentler than JPEG's tables: SSIM rewards structure."""

INVERSE_WEIGHT = 1.0 / FREQUENCY_WEIGHT.astype(np.float64)

QSTEP = np.array([0.625 * 2.0 ** (qp / 6.0) for qp in range(MAX_QP + 1)], dtype=np.float32)
"""Quantiser step by qp: doubles every 6, as in H.264."""


_C = DCT.astype(np.float64)
_A4 = np.float32(_C[4, 0])
_E20, _E21, _E60, _E61 = (np.float32(_C[k, n]) for k, n in ((2, 0), (2, 1), (6, 0), (6, 1)))
_ODD = _C[1::2, :4].astype(np.float32).copy()
"""Odd basis rows on the first half: ``DCT[k, 7 - n] = -DCT[k, n]`` for odd k."""
_EVEN = _C[0::2, :4].astype(np.float32).copy()


@njit(cache=True, inline="always")
def _fdct8(
    v0: float, v1: float, v2: float, v3: float, v4: float, v5: float, v6: float, v7: float
) -> tuple[float, float, float, float, float, float, float, float]:
    """One 8-point DCT by even/odd decomposition: 24 multiplications instead of 64."""
    s0, s1, s2, s3 = v0 + v7, v1 + v6, v2 + v5, v3 + v4
    d0, d1, d2, d3 = v0 - v7, v1 - v6, v2 - v5, v3 - v4
    ss0, ss1, sd0, sd1 = s0 + s3, s1 + s2, s0 - s3, s1 - s2
    o = _ODD
    return (
        _A4 * (ss0 + ss1),
        o[0, 0] * d0 + o[0, 1] * d1 + o[0, 2] * d2 + o[0, 3] * d3,
        _E20 * sd0 + _E21 * sd1,
        o[1, 0] * d0 + o[1, 1] * d1 + o[1, 2] * d2 + o[1, 3] * d3,
        _A4 * (ss0 - ss1),
        o[2, 0] * d0 + o[2, 1] * d1 + o[2, 2] * d2 + o[2, 3] * d3,
        _E60 * sd0 + _E61 * sd1,
        o[3, 0] * d0 + o[3, 1] * d1 + o[3, 2] * d2 + o[3, 3] * d3,
    )


@njit(cache=True, inline="always")
def _idct8(
    x0: float, x1: float, x2: float, x3: float, x4: float, x5: float, x6: float, x7: float
) -> tuple[float, float, float, float, float, float, float, float]:
    e, o = _EVEN, _ODD
    e0 = e[0, 0] * x0 + e[1, 0] * x2 + e[2, 0] * x4 + e[3, 0] * x6
    e1 = e[0, 1] * x0 + e[1, 1] * x2 + e[2, 1] * x4 + e[3, 1] * x6
    e2 = e[0, 2] * x0 + e[1, 2] * x2 + e[2, 2] * x4 + e[3, 2] * x6
    e3 = e[0, 3] * x0 + e[1, 3] * x2 + e[2, 3] * x4 + e[3, 3] * x6
    o0 = o[0, 0] * x1 + o[1, 0] * x3 + o[2, 0] * x5 + o[3, 0] * x7
    o1 = o[0, 1] * x1 + o[1, 1] * x3 + o[2, 1] * x5 + o[3, 1] * x7
    o2 = o[0, 2] * x1 + o[1, 2] * x3 + o[2, 2] * x5 + o[3, 2] * x7
    o3 = o[0, 3] * x1 + o[1, 3] * x3 + o[2, 3] * x5 + o[3, 3] * x7
    return e0 + o0, e1 + o1, e2 + o2, e3 + o3, e3 - o3, e2 - o2, e1 - o1, e0 - o0


@njit(cache=True)
def fdct8x8(block: npt.NDArray[np.float32], out: npt.NDArray[np.float32]) -> None:
    """``out = DCT @ block @ DCT.T`` for one 8x8 block (rows, then columns in place)."""
    for r in range(BLOCK):
        b = block[r]
        res = _fdct8(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7])
        for k in range(BLOCK):
            out[r, k] = res[k]
    for c in range(BLOCK):
        res = _fdct8(out[0, c], out[1, c], out[2, c], out[3, c], out[4, c], out[5, c], out[6, c], out[7, c])
        for k in range(BLOCK):
            out[k, c] = res[k]


@njit(cache=True)
def idct8x8(coeffs: npt.NDArray[np.float32], out: npt.NDArray[np.float32]) -> None:
    """``out = DCT.T @ coeffs @ DCT`` for one 8x8 block (rows, then columns in place)."""
    for r in range(BLOCK):
        x = coeffs[r]
        res = _idct8(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7])
        for n in range(BLOCK):
            out[r, n] = res[n]
    for c in range(BLOCK):
        res = _idct8(out[0, c], out[1, c], out[2, c], out[3, c], out[4, c], out[5, c], out[6, c], out[7, c])
        for n in range(BLOCK):
            out[n, c] = res[n]


@njit(cache=True)
def forward_blocks(plane: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """The DCT of every 8x8 block of a plane whose sides are multiples of 8: shape ``(rows, cols, 8, 8)``."""
    rows, cols = plane.shape[0] // BLOCK, plane.shape[1] // BLOCK
    out = np.empty((rows, cols, BLOCK, BLOCK), dtype=np.float32)
    for by in range(rows):
        for bx in range(cols):
            fdct8x8(plane[by * BLOCK : (by + 1) * BLOCK, bx * BLOCK : (bx + 1) * BLOCK], out[by, bx])
    return out


@njit(cache=True)
def inverse_blocks(coeffs: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    rows, cols = coeffs.shape[0], coeffs.shape[1]
    out = np.empty((rows * BLOCK, cols * BLOCK), dtype=np.float32)
    for by in range(rows):
        for bx in range(cols):
            idct8x8(coeffs[by, bx], out[by * BLOCK : (by + 1) * BLOCK, bx * BLOCK : (bx + 1) * BLOCK])
    return out


@njit(cache=True)
def quantise_block(
    coeffs: npt.NDArray[np.float32], dc_step: float, ac_step: float, rounding: float, levels: npt.NDArray[np.int32]
) -> int:
    """Dead-zone quantisation into ``levels`` (zigzag order); returns the count of non-zero levels."""
    nonzero = 0
    inverse_dc, inverse_ac = 1.0 / dc_step, 1.0 / ac_step
    for scan in range(BLOCK * BLOCK):
        index = ZIGZAG[scan]
        value = coeffs[index // BLOCK, index % BLOCK]
        scale = inverse_dc if scan == 0 else inverse_ac * INVERSE_WEIGHT[index]
        magnitude = int(abs(value) * scale + rounding)
        level = -magnitude if value < 0 else magnitude
        levels[scan] = level
        if level != 0:
            nonzero += 1
    return nonzero


@njit(cache=True)
def dequantise_block(
    levels: npt.NDArray[np.int32], dc_step: float, ac_step: float, coeffs: npt.NDArray[np.float32]
) -> None:
    for scan in range(BLOCK * BLOCK):
        index = ZIGZAG[scan]
        step = dc_step if scan == 0 else ac_step * FREQUENCY_WEIGHT[index]
        coeffs[index // BLOCK, index % BLOCK] = levels[scan] * step


@njit(cache=True)
def quantise_blocks(
    coeffs: npt.NDArray[np.float32], steps: npt.NDArray[np.float32], dc_step: float, rounding: float
) -> npt.NDArray[np.int32]:
    """Quantise every block of ``forward_blocks`` output with its own AC step (``steps[row, col]``)."""
    rows, cols = coeffs.shape[0], coeffs.shape[1]
    levels = np.empty((rows, cols, BLOCK * BLOCK), dtype=np.int32)
    for by in range(rows):
        for bx in range(cols):
            quantise_block(coeffs[by, bx], dc_step, steps[by, bx], rounding, levels[by, bx])
    return levels


def reference_forward_blocks(plane: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    rows, cols = plane.shape[0] // BLOCK, plane.shape[1] // BLOCK
    blocks = plane.reshape(rows, BLOCK, cols, BLOCK).transpose(0, 2, 1, 3).astype(np.float64)
    return np.einsum("kn,rcnm,lm->rckl", DCT.astype(np.float64), blocks, DCT.astype(np.float64)).astype(np.float32)


def reference_inverse_blocks(coeffs: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    rows, cols = coeffs.shape[:2]
    dct = DCT.astype(np.float64)
    blocks = np.einsum("kn,rckl,lm->rcnm", dct, coeffs.astype(np.float64), dct)
    return blocks.transpose(0, 2, 1, 3).reshape(rows * BLOCK, cols * BLOCK).astype(np.float32)


def reference_quantise_blocks(
    coeffs: npt.NDArray[np.float32], steps: npt.NDArray[np.float32], dc_step: float, rounding: float
) -> npt.NDArray[np.int32]:
    rows, cols = coeffs.shape[:2]
    raster = coeffs.reshape(rows, cols, BLOCK * BLOCK)[:, :, ZIGZAG].astype(np.float64)
    scales = INVERSE_WEIGHT[ZIGZAG][None, None, :] * (1.0 / steps.astype(np.float64))[:, :, None]
    scales[:, :, 0] = 1.0 / dc_step
    magnitude = np.floor(np.abs(raster) * scales + rounding).astype(np.int32)
    return np.where(raster < 0, -magnitude, magnitude).astype(np.int32)
