"""Quality metrics on one plane: PSNR and SSIM, defined exactly as the benchmarks define them.

SSIM follows scikit-image's ``structural_similarity`` with its defaults
(7x7 uniform window, K1=0.01, K2=0.03, sample covariance, ``data_range=255``):
its result is the mean over windows that lie wholly inside the image, which is
what the kernel computes, from integral images in one pass.
PSNR is capped at ``PSNR_IDENTICAL`` dB for identical planes.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit

WINDOW = 7
C1 = (0.01 * 255) ** 2
C2 = (0.03 * 255) ** 2
PSNR_IDENTICAL = 100.0


@njit(cache=True)
def sum_squared_error(a: npt.NDArray[np.uint8], b: npt.NDArray[np.uint8]) -> int:
    total = 0
    for row in range(a.shape[0]):
        for col in range(a.shape[1]):
            diff = np.int64(a[row, col]) - np.int64(b[row, col])
            total += diff * diff
    return total


def psnr_from_sse(sse: float, pixels: int) -> float:
    if sse <= 0:
        return PSNR_IDENTICAL
    return min(PSNR_IDENTICAL, 10.0 * math.log10(255.0 * 255.0 * pixels / sse))


def psnr(a: npt.NDArray[np.uint8], b: npt.NDArray[np.uint8]) -> float:
    """PSNR in dB between two uint8 planes of the same shape."""
    return psnr_from_sse(float(sum_squared_error(a, b)), a.size)


@njit(cache=True)
def _row_ssim(
    px: npt.NDArray[np.float64],
    py: npt.NDArray[np.float64],
    pxx: npt.NDArray[np.float64],
    pyy: npt.NDArray[np.float64],
    pxy: npt.NDArray[np.float64],
    values: npt.NDArray[np.float64],
) -> float:
    """Sum of SSIM over one row of windows, from running sums (``p*``) of the column sums."""
    n = float(WINDOW * WINDOW)
    inv_n = 1.0 / n
    cov_norm = n / (n - 1.0)
    for left in range(values.shape[0]):  # independent iterations: the compiler vectorises this loop
        right = left + WINDOW
        ux = (px[right] - px[left]) * inv_n
        uy = (py[right] - py[left]) * inv_n
        vx = cov_norm * ((pxx[right] - pxx[left]) * inv_n - ux * ux)
        vy = cov_norm * ((pyy[right] - pyy[left]) * inv_n - uy * uy)
        vxy = cov_norm * ((pxy[right] - pxy[left]) * inv_n - ux * uy)
        values[left] = ((2 * ux * uy + C1) * (2 * vxy + C2)) / ((ux * ux + uy * uy + C1) * (vx + vy + C2))
    return float(values.sum())


@njit(cache=True)
def ssim(a: npt.NDArray[np.uint8], b: npt.NDArray[np.uint8]) -> float:
    """Mean SSIM of two uint8 planes at least 7x7 (scikit-image's defaults, ``data_range=255``)."""
    height, width = a.shape
    # Exact integer column sums over the window's rows, slid down row by row.
    columns = np.zeros((5, width), dtype=np.int64)
    prefix = np.zeros((5, width + 1), dtype=np.float64)
    values = np.empty(width - WINDOW + 1, dtype=np.float64)
    total = 0.0
    for row in range(height):
        for col in range(width):
            x, y = np.int64(a[row, col]), np.int64(b[row, col])
            columns[0, col] += x
            columns[1, col] += y
            columns[2, col] += x * x
            columns[3, col] += y * y
            columns[4, col] += x * y
        if row >= WINDOW:
            for col in range(width):
                x, y = np.int64(a[row - WINDOW, col]), np.int64(b[row - WINDOW, col])
                columns[0, col] -= x
                columns[1, col] -= y
                columns[2, col] -= x * x
                columns[3, col] -= y * y
                columns[4, col] -= x * y
        if row < WINDOW - 1:
            continue
        for k in range(5):
            for col in range(width):
                prefix[k, col + 1] = prefix[k, col] + columns[k, col]
        total += _row_ssim(prefix[0], prefix[1], prefix[2], prefix[3], prefix[4], values)
    return total / ((height - WINDOW + 1) * (width - WINDOW + 1))


def reference_ssim(a: npt.NDArray[np.uint8], b: npt.NDArray[np.uint8]) -> float:
    """The same mean SSIM with numpy's sliding windows."""
    from numpy.lib.stride_tricks import sliding_window_view

    x = sliding_window_view(a.astype(np.float64), (WINDOW, WINDOW))
    y = sliding_window_view(b.astype(np.float64), (WINDOW, WINDOW))
    ux, uy = x.mean(axis=(2, 3)), y.mean(axis=(2, 3))
    cov_norm = WINDOW * WINDOW / (WINDOW * WINDOW - 1.0)
    vx = cov_norm * ((x * x).mean(axis=(2, 3)) - ux * ux)
    vy = cov_norm * ((y * y).mean(axis=(2, 3)) - uy * uy)
    vxy = cov_norm * ((x * y).mean(axis=(2, 3)) - ux * uy)
    s = ((2 * ux * uy + C1) * (2 * vxy + C2)) / ((ux**2 + uy**2 + C1) * (vx + vy + C2))
    return float(s.mean())


def reference_sum_squared_error(a: npt.NDArray[np.uint8], b: npt.NDArray[np.uint8]) -> int:
    return int(((a.astype(np.int64) - b.astype(np.int64)) ** 2).sum())
