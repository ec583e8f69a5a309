"""Motion search (predictive diamond search on 16x16 macroblocks, refined to half pixels) and block activity.

Each macroblock starts from the best of zero, its left, top and top-right
neighbours' vectors, walks a small diamond of whole pixels until the centre
wins, then tries the eight half-pixel positions around it (bilinear, as the
decoder predicts). Vectors are returned in half pixels and keep luma and chroma
blocks inside the reference, so prediction never reads outside it.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from kernels.reconstruct import vector_fits

MB = 16
DIAMOND = ((-1, 0), (0, -1), (0, 1), (1, 0))
MAX_STEPS = 32
GOOD_ENOUGH = MB * MB
"""A predicted vector within one grey level per pixel on average ends the whole-pixel walk (static, slow areas)."""
HALF_STEPS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))


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
def half_pel_sad(
    cur: npt.NDArray[np.uint8], ref: npt.NDArray[np.uint8], y: int, x: int, y2: int, x2: int, best: int
) -> int:
    """SAD of the block at (y, x) against ``ref`` at half-pixel (y2 / 2, x2 / 2); stops early past ``best``."""
    ry, rx, fy, fx = y2 >> 1, x2 >> 1, y2 & 1, x2 & 1
    total = 0
    for row in range(MB):
        if fx and fy:
            for col in range(MB):
                corners = np.int32(ref[ry + row, rx + col]) + np.int32(ref[ry + row, rx + col + 1])
                corners += np.int32(ref[ry + row + 1, rx + col]) + np.int32(ref[ry + row + 1, rx + col + 1])
                total += abs(np.int32(cur[y + row, x + col]) - ((corners + 2) >> 2))
        else:  # one neighbour (or none: then it is the pixel itself and the average is exact)
            for col in range(MB):
                pair = np.int32(ref[ry + row, rx + col]) + np.int32(ref[ry + row + fy, rx + col + fx])
                total += abs(np.int32(cur[y + row, x + col]) - ((pair + 1) >> 1))
        if total >= best:
            return total
    return total


@njit(cache=True)
def _valid(y: int, x: int, dy: int, dx: int, height: int, width: int, search: int) -> bool:
    return abs(dy) <= search and abs(dx) <= search and vector_fits(y, x, 2 * dy, 2 * dx, height, width)


@njit(cache=True)
def motion_search(
    cur: npt.NDArray[np.uint8], ref: npt.NDArray[np.uint8], search: int, previous: npt.NDArray[np.int32]
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """Per-macroblock half-pixel vectors ``(rows, cols, 2)`` as (dy, dx) and their SADs; sides multiples of 16.

    ``previous`` holds the last picture's whole-pixel vectors (same shape; zeros when there are none): the
    co-located one is a candidate, so steady motion (a pan) is found without walking.
    """
    height, width = cur.shape
    rows, cols = height // MB, width // MB
    whole = np.zeros((rows, cols, 2), dtype=np.int32)
    mvs = np.zeros((rows, cols, 2), dtype=np.int32)
    sads = np.zeros((rows, cols), dtype=np.int32)
    big = 1 << 30
    for mby in range(rows):
        for mbx in range(cols):
            y, x = mby * MB, mbx * MB
            best_dy, best_dx = 0, 0
            best = block_sad(cur, ref, y, x, y, x, big)
            for n in range(4):
                ny, nx = (mby, mbx - 1) if n == 0 else ((mby - 1, mbx) if n == 1 else (mby - 1, mbx + 1))
                if n < 3 and (ny < 0 or nx < 0 or nx >= cols):
                    continue
                dy, dx = (
                    (whole[ny, nx, 0], whole[ny, nx, 1]) if n < 3 else (previous[mby, mbx, 0], previous[mby, mbx, 1])
                )
                if (dy != best_dy or dx != best_dx) and _valid(y, x, dy, dx, height, width, search):
                    sad = block_sad(cur, ref, y, x, y + dy, x + dx, best)
                    if sad < best:
                        best, best_dy, best_dx = sad, dy, dx
            for _ in range(MAX_STEPS if best > GOOD_ENOUGH else 0):
                centre_dy, centre_dx = best_dy, best_dx
                for step in DIAMOND:
                    dy, dx = centre_dy + step[0], centre_dx + step[1]
                    if _valid(y, x, dy, dx, height, width, search):
                        sad = block_sad(cur, ref, y, x, y + dy, x + dx, best)
                        if sad < best:
                            best, best_dy, best_dx = sad, dy, dx
                if best_dy == centre_dy and best_dx == centre_dx:
                    break
            whole[mby, mbx, 0], whole[mby, mbx, 1] = best_dy, best_dx
            half_dy, half_dx = 2 * best_dy, 2 * best_dx
            for step in HALF_STEPS:
                dy, dx = 2 * best_dy + step[0], 2 * best_dx + step[1]
                if vector_fits(y, x, dy, dx, height, width):
                    sad = half_pel_sad(cur, ref, y, x, 2 * y + dy, 2 * x + dx, best)
                    if sad < best:
                        best, half_dy, half_dx = sad, dy, dx
            mvs[mby, mbx, 0], mvs[mby, mbx, 1], sads[mby, mbx] = half_dy, half_dx, best
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


def _reference_half_pel_block(ref: npt.NDArray[np.int32], y2: int, x2: int) -> npt.NDArray[np.int32]:
    y, x, fy, fx = y2 >> 1, x2 >> 1, y2 & 1, x2 & 1
    a = ref[y : y + MB, x : x + MB]
    b = ref[y : y + MB, x + fx : x + fx + MB]
    c = ref[y + fy : y + fy + MB, x : x + MB]
    d = ref[y + fy : y + fy + MB, x + fx : x + fx + MB]
    if fx and fy:
        return (a + b + c + d + 2) >> 2
    return (a + (b if fx else c) + 1) >> 1 if (fx or fy) else a


def reference_motion_search(
    cur: npt.NDArray[np.uint8], ref: npt.NDArray[np.uint8], search: int, previous: npt.NDArray[np.int32]
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """The same search with numpy SADs (no early exit, so only the chosen SADs must agree)."""
    height, width = cur.shape
    rows, cols = height // MB, width // MB
    whole = np.zeros((rows, cols, 2), dtype=np.int32)
    mvs = np.zeros((rows, cols, 2), dtype=np.int32)
    sads = np.zeros((rows, cols), dtype=np.int32)
    signed_cur, signed_ref = cur.astype(np.int32), ref.astype(np.int32)

    def sad(y: int, x: int, dy2: int, dx2: int) -> int:
        block = signed_cur[y : y + MB, x : x + MB] - _reference_half_pel_block(signed_ref, 2 * y + dy2, 2 * x + dx2)
        return int(np.abs(block).sum())

    def valid(y: int, x: int, dy: int, dx: int) -> bool:
        return abs(dy) <= search and abs(dx) <= search and vector_fits(y, x, 2 * dy, 2 * dx, height, width)

    for mby in range(rows):
        for mbx in range(cols):
            y, x = mby * MB, mbx * MB
            best_mv, best = (0, 0), sad(y, x, 0, 0)
            for n, (ny, nx) in enumerate(((mby, mbx - 1), (mby - 1, mbx), (mby - 1, mbx + 1), (mby, mbx))):
                if n < 3 and (ny < 0 or nx < 0 or nx >= cols):
                    continue
                source = whole if n < 3 else previous
                mv = (int(source[ny, nx, 0]), int(source[ny, nx, 1]))
                if mv != best_mv and valid(y, x, *mv) and (cost := sad(y, x, 2 * mv[0], 2 * mv[1])) < best:
                    best, best_mv = cost, mv
            for _ in range(MAX_STEPS if best > GOOD_ENOUGH else 0):
                centre = best_mv
                for sy, sx in DIAMOND:
                    mv = (centre[0] + sy, centre[1] + sx)
                    if valid(y, x, *mv) and (cost := sad(y, x, 2 * mv[0], 2 * mv[1])) < best:
                        best, best_mv = cost, mv
                if best_mv == centre:
                    break
            whole[mby, mbx] = best_mv
            half = (2 * best_mv[0], 2 * best_mv[1])
            for sy, sx in HALF_STEPS:
                mv = (2 * best_mv[0] + sy, 2 * best_mv[1] + sx)
                if vector_fits(y, x, *mv, height, width) and (cost := sad(y, x, *mv)) < best:
                    best, half = cost, mv
            mvs[mby, mbx], sads[mby, mbx] = half, best
    return mvs, sads


def reference_block_log_variance(plane: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    rows, cols = plane.shape[0] // MB, plane.shape[1] // MB
    blocks = plane.reshape(rows, MB, cols, MB).transpose(0, 2, 1, 3).astype(np.float64)
    return np.log2(1.0 + blocks.var(axis=(2, 3))).astype(np.float32)
