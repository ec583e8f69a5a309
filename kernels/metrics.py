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
def _window_ssim(sx: int, sy: int, sxx: int, syy: int, sxy: int) -> float:
    n = float(WINDOW * WINDOW)
    cov_norm = n / (n - 1.0)
    ux, uy = sx / n, sy / n
    vx = cov_norm * (sxx / n - ux * ux)
    vy = cov_norm * (syy / n - uy * uy)
    vxy = cov_norm * (sxy / n - ux * uy)
    return ((2 * ux * uy + C1) * (2 * vxy + C2)) / ((ux * ux + uy * uy + C1) * (vx + vy + C2))


@njit(cache=True)
def ssim(a: npt.NDArray[np.uint8], b: npt.NDArray[np.uint8]) -> float:
    """Mean SSIM of two uint8 planes at least 7x7 (scikit-image's defaults, ``data_range=255``)."""
    height, width = a.shape
    # Exact integer column sums over the window's rows, slid down row by row.
    cx = np.zeros(width, dtype=np.int64)
    cy = np.zeros(width, dtype=np.int64)
    cxx = np.zeros(width, dtype=np.int64)
    cyy = np.zeros(width, dtype=np.int64)
    cxy = np.zeros(width, dtype=np.int64)
    total = 0.0
    for row in range(height):
        for col in range(width):
            x, y = np.int64(a[row, col]), np.int64(b[row, col])
            cx[col] += x
            cy[col] += y
            cxx[col] += x * x
            cyy[col] += y * y
            cxy[col] += x * y
        if row >= WINDOW:
            old = row - WINDOW
            for col in range(width):
                x, y = np.int64(a[old, col]), np.int64(b[old, col])
                cx[col] -= x
                cy[col] -= y
                cxx[col] -= x * x
                cyy[col] -= y * y
                cxy[col] -= x * y
        if row < WINDOW - 1:
            continue
        sx = sy = sxx = syy = sxy = 0
        for col in range(WINDOW):
            sx += cx[col]
            sy += cy[col]
            sxx += cxx[col]
            syy += cyy[col]
            sxy += cxy[col]
        total += _window_ssim(sx, sy, sxx, syy, sxy)
        for left in range(1, width - WINDOW + 1):
            new, old = left + WINDOW - 1, left - 1
            sx += cx[new] - cx[old]
            sy += cy[new] - cy[old]
            sxx += cxx[new] - cxx[old]
            syy += cyy[new] - cyy[old]
            sxy += cxy[new] - cxy[old]
            total += _window_ssim(sx, sy, sxx, syy, sxy)
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
