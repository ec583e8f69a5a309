"""Motion search (predictive diamond search on 16x16 macroblocks, integer pixels) and block activity.

Each macroblock starts from the best of zero, its left, top and top-right
neighbours' vectors, then walks a small diamond until the centre wins. Vectors
keep the block inside the reference frame, so prediction never reads outside it.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

MB = 16
DIAMOND = ((-1, 0), (0, -1), (0, 1), (1, 0))
MAX_STEPS = 32


@njit(cache=True)
def block_sad(
    cur: npt.NDArray[np.uint8], ref: npt.NDArray[np.uint8], y: int, x: int, ry: int, rx: int, best: int
) -> int:
    """Sum of absolute differences of the 16x16 blocks at (y, x) and (ry, rx); stops early past ``best``."""
    total = 0
    for row in range(MB):
        for col in range(MB):
            total += abs(np.int64(cur[y + row, x + col]) - np.int64(ref[ry + row, rx + col]))
        if total >= best:
            return total
    return total


@njit(cache=True)
def _valid(y: int, x: int, dy: int, dx: int, height: int, width: int, search: int) -> bool:
    return abs(dy) <= search and abs(dx) <= search and 0 <= y + dy <= height - MB and 0 <= x + dx <= width - MB


@njit(cache=True)
def motion_search(
    cur: npt.NDArray[np.uint8], ref: npt.NDArray[np.uint8], search: int
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """Per-macroblock vectors ``(rows, cols, 2)`` as (dy, dx) and their SADs; sides must be multiples of 16."""
    height, width = cur.shape
    rows, cols = height // MB, width // MB
    mvs = np.zeros((rows, cols, 2), dtype=np.int32)
    sads = np.zeros((rows, cols), dtype=np.int32)
    big = 1 << 30
    for mby in range(rows):
        for mbx in range(cols):
            y, x = mby * MB, mbx * MB
            best_dy, best_dx = 0, 0
            best = block_sad(cur, ref, y, x, y, x, big)
            for n in range(3):
                ny, nx = (mby, mbx - 1) if n == 0 else ((mby - 1, mbx) if n == 1 else (mby - 1, mbx + 1))
                if ny < 0 or nx < 0 or nx >= cols:
                    continue
                dy, dx = mvs[ny, nx, 0], mvs[ny, nx, 1]
                if (dy != best_dy or dx != best_dx) and _valid(y, x, dy, dx, height, width, search):
                    sad = block_sad(cur, ref, y, x, y + dy, x + dx, best)
                    if sad < best:
                        best, best_dy, best_dx = sad, dy, dx
            for _ in range(MAX_STEPS):
                centre_dy, centre_dx = best_dy, best_dx
                for step in DIAMOND:
                    dy, dx = centre_dy + step[0], centre_dx + step[1]
                    if _valid(y, x, dy, dx, height, width, search):
                        sad = block_sad(cur, ref, y, x, y + dy, x + dx, best)
                        if sad < best:
                            best, best_dy, best_dx = sad, dy, dx
                if best_dy == centre_dy and best_dx == centre_dx:
                    break
            mvs[mby, mbx, 0], mvs[mby, mbx, 1], sads[mby, mbx] = best_dy, best_dx, best
    return mvs, sads


@njit(cache=True)
def block_log_variance(plane: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """log2(1 + variance) of every 16x16 block: the activity that adaptive quantisation follows."""
    rows, cols = plane.shape[0] // MB, plane.shape[1] // MB
    out = np.empty((rows, cols), dtype=np.float32)
    for mby in range(rows):
        for mbx in range(cols):
            total = 0
            squares = 0
            for row in range(mby * MB, mby * MB + MB):
                for col in range(mbx * MB, mbx * MB + MB):
                    value = np.int64(plane[row, col])
                    total += value
                    squares += value * value
            mean = total / (MB * MB)
            out[mby, mbx] = np.log2(1.0 + squares / (MB * MB) - mean * mean)
    return out


def reference_motion_search(
    cur: npt.NDArray[np.uint8], ref: npt.NDArray[np.uint8], search: int
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """The same search with numpy SADs (no early exit, so only the chosen SADs must agree)."""
    height, width = cur.shape
    rows, cols = height // MB, width // MB
    mvs = np.zeros((rows, cols, 2), dtype=np.int32)
    sads = np.zeros((rows, cols), dtype=np.int32)
    signed_cur, signed_ref = cur.astype(np.int32), ref.astype(np.int32)

    def sad(y: int, x: int, dy: int, dx: int) -> int:
        block = signed_cur[y : y + MB, x : x + MB] - signed_ref[y + dy : y + dy + MB, x + dx : x + dx + MB]
        return int(np.abs(block).sum())

    def valid(y: int, x: int, dy: int, dx: int) -> bool:
        return abs(dy) <= search and abs(dx) <= search and 0 <= y + dy <= height - MB and 0 <= x + dx <= width - MB

    for mby in range(rows):
        for mbx in range(cols):
            y, x = mby * MB, mbx * MB
            best_mv, best = (0, 0), sad(y, x, 0, 0)
            for ny, nx in ((mby, mbx - 1), (mby - 1, mbx), (mby - 1, mbx + 1)):
                if ny < 0 or nx < 0 or nx >= cols:
                    continue
                mv = (int(mvs[ny, nx, 0]), int(mvs[ny, nx, 1]))
                if mv != best_mv and valid(y, x, *mv) and (cost := sad(y, x, *mv)) < best:
                    best, best_mv = cost, mv
            for _ in range(MAX_STEPS):
                centre = best_mv
                for sy, sx in DIAMOND:
                    mv = (centre[0] + sy, centre[1] + sx)
                    if valid(y, x, *mv) and (cost := sad(y, x, *mv)) < best:
                        best, best_mv = cost, mv
                if best_mv == centre:
                    break
            mvs[mby, mbx], sads[mby, mbx] = best_mv, best
    return mvs, sads


def reference_block_log_variance(plane: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    rows, cols = plane.shape[0] // MB, plane.shape[1] // MB
    blocks = plane.reshape(rows, MB, cols, MB).transpose(0, 2, 1, 3).astype(np.float64)
    return np.log2(1.0 + blocks.var(axis=(2, 3))).astype(np.float32)
