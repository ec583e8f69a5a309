"""Lossless coding: adaptive Rice codes over prediction residuals.

Pictures use the LOCO-I / JPEG-LS median edge detector (MED) predictor;
PCM audio uses FLAC's fixed linear predictors (orders 0-3, the k-th difference).
Residuals are zigzag-mapped to unsigned values and Rice coded with a parameter
that follows their running mean (LOCO-I's A/N rule), so no side information is
sent. A quotient of ``ESCAPE`` or more is sent raw, which bounds every code word.

The bit reader never reads past its buffer: reads beyond the end yield zeros and
are counted, and callers treat any such read as a truncated stream.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

ESCAPE = 24
RAW_BITS = 32
RESET_COUNT = 64
MAX_ORDER = 3


@njit(cache=True)
def _put_bits(state: npt.NDArray[np.int64], out: npt.NDArray[np.uint8], value: int, nbits: int) -> None:
    """Append ``nbits`` bits of ``value`` (MSB first); ``state`` = [byte position, bit buffer, bits in buffer]."""
    for shift in range(nbits - 1, -1, -1):
        state[1] = (state[1] << 1) | ((value >> shift) & 1)
        state[2] += 1
        if state[2] == 8:
            if state[0] < out.shape[0]:
                out[state[0]] = state[1]
            state[0] += 1
            state[1] = 0
            state[2] = 0


@njit(cache=True)
def _get_bit(state: npt.NDArray[np.int64], data: npt.NDArray[np.uint8]) -> int:
    """``state`` = [bit position, bits read past the end]."""
    pos = state[0]
    state[0] = pos + 1
    byte = pos >> 3
    if byte >= data.shape[0]:
        state[1] += 1
        return 0
    return (np.int64(data[byte]) >> (7 - (pos & 7))) & 1


@njit(cache=True)
def _rice_parameter(total: int, count: int) -> int:
    k = 0
    while (count << k) < total and k < 30:
        k += 1
    return k


@njit(cache=True)
def rice_encode(values: npt.NDArray[np.int64], out: npt.NDArray[np.uint8]) -> int:
    """Rice code non-negative ``values`` into ``out``; returns the bytes needed (more than ``len(out)``: overflow)."""
    state = np.zeros(3, dtype=np.int64)
    total, count = 4, 1
    for i in range(values.shape[0]):
        value = values[i]
        k = _rice_parameter(total, count)
        quotient = value >> k
        if quotient < ESCAPE:
            for _ in range(quotient):
                _put_bits(state, out, 1, 1)
            _put_bits(state, out, 0, 1)
            _put_bits(state, out, value, k)
        else:
            for _ in range(ESCAPE):
                _put_bits(state, out, 1, 1)
            _put_bits(state, out, value, RAW_BITS)
        total += value
        count += 1
        if count >= RESET_COUNT:
            total = (total + 1) >> 1
            count >>= 1
    if state[2] > 0:
        _put_bits(state, out, 0, 8 - state[2])
    return int(state[0])


@njit(cache=True)
def rice_decode(data: npt.NDArray[np.uint8], count: int) -> tuple[npt.NDArray[np.int64], bool]:
    """``count`` values, and whether the data held them all (a short buffer is not well formed)."""
    values = np.zeros(count, dtype=np.int64)
    state = np.zeros(2, dtype=np.int64)
    total, seen = 4, 1
    for i in range(count):
        k = _rice_parameter(total, seen)
        quotient = 0
        while quotient < ESCAPE and _get_bit(state, data) == 1:
            quotient += 1
        value = 0
        if quotient < ESCAPE:
            for _ in range(k):
                value = (value << 1) | _get_bit(state, data)
            value += quotient << k
        else:
            for _ in range(RAW_BITS):
                value = (value << 1) | _get_bit(state, data)
        if state[1] > 0:
            return values, False
        values[i] = value
        total += value
        seen += 1
        if seen >= RESET_COUNT:
            total = (total + 1) >> 1
            seen >>= 1
    return values, True


@njit(cache=True)
def _med(a: int, b: int, c: int) -> int:
    if c >= max(a, b):
        return min(a, b)
    if c <= min(a, b):
        return max(a, b)
    return a + b - c


@njit(cache=True)
def med_residuals(plane: npt.NDArray[np.uint8]) -> npt.NDArray[np.int64]:
    """Zigzag-mapped MED prediction residuals of a plane (mod 256), in raster order."""
    height, width = plane.shape
    out = np.empty(height * width, dtype=np.int64)
    for row in range(height):
        for col in range(width):
            a = np.int64(plane[row, col - 1]) if col > 0 else (np.int64(plane[row - 1, col]) if row > 0 else 128)
            b = np.int64(plane[row - 1, col]) if row > 0 else a
            c = np.int64(plane[row - 1, col - 1]) if row > 0 and col > 0 else b
            diff = (np.int64(plane[row, col]) - _med(a, b, c) + 128) % 256 - 128
            out[row * width + col] = 2 * diff if diff >= 0 else -2 * diff - 1
    return out


@njit(cache=True)
def med_reconstruct(residuals: npt.NDArray[np.int64], height: int, width: int) -> npt.NDArray[np.uint8]:
    plane = np.empty((height, width), dtype=np.uint8)
    for row in range(height):
        for col in range(width):
            a = np.int64(plane[row, col - 1]) if col > 0 else (np.int64(plane[row - 1, col]) if row > 0 else 128)
            b = np.int64(plane[row - 1, col]) if row > 0 else a
            c = np.int64(plane[row - 1, col - 1]) if row > 0 and col > 0 else b
            mapped = residuals[row * width + col]
            diff = mapped >> 1 if mapped % 2 == 0 else -((mapped + 1) >> 1)
            plane[row, col] = (_med(a, b, c) + diff) % 256
    return plane


@njit(cache=True)
def fixed_residuals(samples: npt.NDArray[np.int64], order: int) -> npt.NDArray[np.int64]:
    """Zigzag-mapped residuals of FLAC's fixed predictor of ``order`` (lower orders for the first samples)."""
    out = np.empty(samples.shape[0], dtype=np.int64)
    for n in range(samples.shape[0]):
        x = samples
        used = min(order, n)
        if used == 0:
            residual = x[n]
        elif used == 1:
            residual = x[n] - x[n - 1]
        elif used == 2:
            residual = x[n] - 2 * x[n - 1] + x[n - 2]
        else:
            residual = x[n] - 3 * x[n - 1] + 3 * x[n - 2] - x[n - 3]
        out[n] = 2 * residual if residual >= 0 else -2 * residual - 1
    return out


@njit(cache=True)
def fixed_restore(residuals: npt.NDArray[np.int64], order: int) -> npt.NDArray[np.int64]:
    x = np.empty(residuals.shape[0], dtype=np.int64)
    for n in range(residuals.shape[0]):
        mapped = residuals[n]
        residual = mapped >> 1 if mapped % 2 == 0 else -((mapped + 1) >> 1)
        used = min(order, n)
        if used == 0:
            x[n] = residual
        elif used == 1:
            x[n] = residual + x[n - 1]
        elif used == 2:
            x[n] = residual + 2 * x[n - 1] - x[n - 2]
        else:
            x[n] = residual + 3 * x[n - 1] - 3 * x[n - 2] + x[n - 3]
    return x


def _zigzag(values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    return np.where(values >= 0, 2 * values, -2 * values - 1)


def reference_med_residuals(plane: npt.NDArray[np.uint8]) -> npt.NDArray[np.int64]:
    p = plane.astype(np.int64)
    a = np.empty_like(p)
    a[:, 1:] = p[:, :-1]
    a[1:, 0] = p[:-1, 0]
    a[0, 0] = 128
    b = np.empty_like(p)
    b[1:] = p[:-1]
    b[0] = a[0]
    c = np.empty_like(p)
    c[1:, 1:] = p[:-1, :-1]
    c[0] = b[0]
    c[1:, 0] = b[1:, 0]
    low, high = np.minimum(a, b), np.maximum(a, b)
    prediction = np.where(c >= high, low, np.where(c <= low, high, a + b - c))
    return _zigzag((p - prediction + 128) % 256 - 128).ravel()


def reference_fixed_residuals(samples: npt.NDArray[np.int64], order: int) -> npt.NDArray[np.int64]:
    residual = np.diff(samples, n=order) if order else samples.copy()
    head = [np.diff(samples[: n + 1], n=n)[-1] if n else samples[0] for n in range(min(order, len(samples)))]
    return _zigzag(np.concatenate([np.asarray(head, dtype=np.int64), residual]).astype(np.int64))


def reference_rice_encode(values: npt.NDArray[np.int64]) -> bytes:
    bits: list[str] = []
    total, count = 4, 1
    for value in (int(v) for v in values):
        k = 0
        while (count << k) < total and k < 30:
            k += 1
        quotient = value >> k
        if quotient < ESCAPE:
            bits.append("1" * quotient + "0" + (format(value & ((1 << k) - 1), f"0{k}b") if k else ""))
        else:
            bits.append("1" * ESCAPE + format(value, f"0{RAW_BITS}b"))
        total += value
        count += 1
        if count >= RESET_COUNT:
            total, count = (total + 1) >> 1, count >> 1
    stream = "".join(bits)
    stream += "0" * (-len(stream) % 8)
    return bytes(int(stream[i : i + 8], 2) for i in range(0, len(stream), 8))
