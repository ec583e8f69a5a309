"""Colour conversion: packed RGB ↔ planar yuv420p (BT.601, limited range, as FFmpeg's default).

Chroma is the mean of each 2x2 block; sides must be even.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

Planes = tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], npt.NDArray[np.uint8]]

# BT.601 limited range: Y in 16..235, Cb/Cr in 16..240.
_RGB_TO_YUV = np.array(
    [[0.256788, 0.504129, 0.097906], [-0.148223, -0.290993, 0.439216], [0.439216, -0.367788, -0.071427]],
    dtype=np.float32,
)
_YUV_TO_RGB = np.linalg.inv(_RGB_TO_YUV.astype(np.float64)).astype(np.float32)


@njit(cache=True)
def _clip_u8(value: float) -> np.uint8:
    rounded = int(value + 0.5) if value > 0 else 0
    return np.uint8(255 if rounded > 255 else rounded)


@njit(cache=True)
def rgb_to_yuv420(rgb: npt.NDArray[np.uint8]) -> Planes:
    """``(h, w, 3)`` uint8 RGB → Y ``(h, w)``, U and V ``(h/2, w/2)``."""
    height, width = rgb.shape[0], rgb.shape[1]
    y = np.empty((height, width), dtype=np.uint8)
    u = np.empty((height // 2, width // 2), dtype=np.uint8)
    v = np.empty((height // 2, width // 2), dtype=np.uint8)
    m = _RGB_TO_YUV
    for cy in range(height // 2):
        for cx in range(width // 2):
            su = np.float32(0.0)
            sv = np.float32(0.0)
            for dy in range(2):
                for dx in range(2):
                    r = np.float32(rgb[2 * cy + dy, 2 * cx + dx, 0])
                    g = np.float32(rgb[2 * cy + dy, 2 * cx + dx, 1])
                    b = np.float32(rgb[2 * cy + dy, 2 * cx + dx, 2])
                    y[2 * cy + dy, 2 * cx + dx] = _clip_u8(m[0, 0] * r + m[0, 1] * g + m[0, 2] * b + 16.0)
                    su += m[1, 0] * r + m[1, 1] * g + m[1, 2] * b
                    sv += m[2, 0] * r + m[2, 1] * g + m[2, 2] * b
            u[cy, cx] = _clip_u8(su * 0.25 + 128.0)
            v[cy, cx] = _clip_u8(sv * 0.25 + 128.0)
    return y, u, v


@njit(cache=True)
def yuv420_to_rgb(
    y: npt.NDArray[np.uint8], u: npt.NDArray[np.uint8], v: npt.NDArray[np.uint8]
) -> npt.NDArray[np.uint8]:
    height, width = y.shape
    rgb = np.empty((height, width, 3), dtype=np.uint8)
    m = _YUV_TO_RGB
    for row in range(height):
        for col in range(width):
            yy = np.float32(y[row, col]) - 16.0
            uu = np.float32(u[row // 2, col // 2]) - 128.0
            vv = np.float32(v[row // 2, col // 2]) - 128.0
            for c in range(3):
                rgb[row, col, c] = _clip_u8(m[c, 0] * yy + m[c, 1] * uu + m[c, 2] * vv)
    return rgb


def _round_clip(values: npt.NDArray[np.floating]) -> npt.NDArray[np.uint8]:
    return np.clip(np.floor(values + 0.5), 0, 255).astype(np.uint8)


def reference_rgb_to_yuv420(rgb: npt.NDArray[np.uint8]) -> Planes:
    height, width = rgb.shape[:2]
    yuv = rgb.astype(np.float32) @ _RGB_TO_YUV.T
    chroma = yuv[:, :, 1:].reshape(height // 2, 2, width // 2, 2, 2).mean(axis=(1, 3))
    return _round_clip(yuv[:, :, 0] + 16.0), _round_clip(chroma[:, :, 0] + 128.0), _round_clip(chroma[:, :, 1] + 128.0)


def reference_yuv420_to_rgb(
    y: npt.NDArray[np.uint8], u: npt.NDArray[np.uint8], v: npt.NDArray[np.uint8]
) -> npt.NDArray[np.uint8]:
    full_u = np.repeat(np.repeat(u, 2, axis=0), 2, axis=1).astype(np.float32) - 128.0
    full_v = np.repeat(np.repeat(v, 2, axis=0), 2, axis=1).astype(np.float32) - 128.0
    yuv = np.stack([y.astype(np.float32) - 16.0, full_u, full_v], axis=-1)
    return _round_clip(yuv @ _YUV_TO_RGB.T)
