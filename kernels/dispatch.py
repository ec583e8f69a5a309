"""Run-time choice between the CPU kernels and their CUDA variants.

The CUDA variants (``kernels.cuda``, numba-cuda) are imported only when a GPU
is present, so the CPU path never loads the CUDA toolchain. ``AURALINK_DEVICE``
(``cpu`` | ``cuda`` | ``auto``, default ``auto``) overrides the choice.
"""

from __future__ import annotations

import functools
import os
from types import ModuleType

import numpy as np
import numpy.typing as npt

from kernels import colour, metrics

CUDA_MIN_PIXELS = 1280 * 720
"""Below this a frame's transfer to the GPU costs more than the kernel saves."""


@functools.cache
def _cuda() -> ModuleType | None:
    wanted = os.environ.get("AURALINK_DEVICE", "auto")
    if wanted == "cpu":
        return None
    try:
        from numba import cuda

        available = bool(cuda.is_available())  # type: ignore[no-untyped-call]
    except (ImportError, OSError):
        available = False
    if not available:
        if wanted == "cuda":
            raise RuntimeError("AURALINK_DEVICE=cuda but no CUDA GPU (or numba-cuda) is available")
        return None
    from kernels import cuda as cuda_kernels

    return cuda_kernels


def device_name() -> str:
    """``cuda`` when the CUDA variants are in use, else ``cpu``."""
    return "cuda" if _cuda() is not None else "cpu"


def rgb_to_yuv420(rgb: npt.NDArray[np.uint8]) -> colour.Planes:
    gpu = _cuda()
    if gpu is not None and rgb.shape[0] * rgb.shape[1] >= CUDA_MIN_PIXELS:
        return gpu.rgb_to_yuv420(rgb)
    return colour.rgb_to_yuv420(rgb)


def sum_squared_error(a: npt.NDArray[np.uint8], b: npt.NDArray[np.uint8]) -> int:
    gpu = _cuda()
    if gpu is not None and a.size >= CUDA_MIN_PIXELS:
        return int(gpu.sum_squared_error(a, b))
    return int(metrics.sum_squared_error(a, b))
