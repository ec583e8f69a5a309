"""CUDA variants (numba-cuda) of the kernels that pay on a GPU: large-frame colour conversion and error sums.

Imported only by ``kernels.dispatch`` when a GPU is present; each computes what its
CPU kernel computes (the same BT.601 matrix and rounding).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import cuda

from kernels.colour import _RGB_TO_YUV, Planes

_THREADS = (16, 16)


@cuda.jit(cache=True)
def _rgb_to_yuv420_kernel(rgb, m, y, u, v):  # type: ignore[no-untyped-def]
    cy, cx = cuda.grid(2)
    if cy >= u.shape[0] or cx >= u.shape[1]:
        return
    su = 0.0
    sv = 0.0
    for dy in range(2):
        for dx in range(2):
            r = np.float32(rgb[2 * cy + dy, 2 * cx + dx, 0])
            g = np.float32(rgb[2 * cy + dy, 2 * cx + dx, 1])
            b = np.float32(rgb[2 * cy + dy, 2 * cx + dx, 2])
            luma = m[0, 0] * r + m[0, 1] * g + m[0, 2] * b + 16.0
            y[2 * cy + dy, 2 * cx + dx] = min(255, max(0, int(luma + 0.5)))
            su += m[1, 0] * r + m[1, 1] * g + m[1, 2] * b
            sv += m[2, 0] * r + m[2, 1] * g + m[2, 2] * b
    u[cy, cx] = min(255, max(0, int(su * 0.25 + 128.5)))
    v[cy, cx] = min(255, max(0, int(sv * 0.25 + 128.5)))


@cuda.jit(cache=True)
def _sse_kernel(a, b, out):  # type: ignore[no-untyped-def]
    row, col = cuda.grid(2)
    if row < a.shape[0] and col < a.shape[1]:
        diff = np.int64(a[row, col]) - np.int64(b[row, col])
        cuda.atomic.add(out, 0, diff * diff)


def _blocks(height: int, width: int) -> tuple[int, int]:
    return (height + _THREADS[0] - 1) // _THREADS[0], (width + _THREADS[1] - 1) // _THREADS[1]


def rgb_to_yuv420(rgb: npt.NDArray[np.uint8]) -> Planes:
    height, width = rgb.shape[:2]
    y = cuda.device_array((height, width), dtype=np.uint8)
    u = cuda.device_array((height // 2, width // 2), dtype=np.uint8)
    v = cuda.device_array((height // 2, width // 2), dtype=np.uint8)
    _rgb_to_yuv420_kernel[_blocks(height // 2, width // 2), _THREADS](
        cuda.to_device(rgb), cuda.to_device(_RGB_TO_YUV), y, u, v
    )
    return y.copy_to_host(), u.copy_to_host(), v.copy_to_host()


def sum_squared_error(a: npt.NDArray[np.uint8], b: npt.NDArray[np.uint8]) -> int:
    out = cuda.to_device(np.zeros(1, dtype=np.int64))
    _sse_kernel[_blocks(*a.shape), _THREADS](cuda.to_device(a), cuda.to_device(b), out)
    return int(out.copy_to_host()[0])
