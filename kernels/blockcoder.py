"""Context-adaptive coding of quantised 8x8 blocks (a small CABAC) on the range coder.

A block's class is ``2 * chroma + inter``; each class has its own contexts. A
block is a coded flag, then a significance map in zigzag order (with a "last"
flag after each significant position), each level right after its position:
a greater-than-one flag, a unary remainder with its own contexts up to
``UNARY_LIMIT``, an Exp-Golomb escape past it, and a bypass sign.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from kernels.entropy import (
    MAX_PREFIX,
    SIGNED_CONTEXTS,
    decode_bit,
    decode_direct,
    encode_bit,
    encode_direct,
)

COEFFS = 64
CLASSES = 4
UNARY_LIMIT = 14
MAX_LEVEL = 1 << 16
"""Larger decoded levels mean a corrupt stream (8-bit residuals never quantise above 2^12)."""

CTX_CODED = 0
CTX_SIG = CTX_CODED + CLASSES
CTX_LAST = CTX_SIG + CLASSES * COEFFS
CTX_GT1 = CTX_LAST + CLASSES * COEFFS
CTX_LEVEL = CTX_GT1 + CLASSES * 5
CTX_DC_LUMA = CTX_LEVEL + CLASSES * 16
CTX_DC_CHROMA = CTX_DC_LUMA + SIGNED_CONTEXTS
CTX_MV_Y = CTX_DC_CHROMA + SIGNED_CONTEXTS
CTX_MV_X = CTX_MV_Y + SIGNED_CONTEXTS
CTX_QP_OFFSET = CTX_MV_X + SIGNED_CONTEXTS
CTX_SKIP = CTX_QP_OFFSET + SIGNED_CONTEXTS
CTX_INTRA = CTX_SKIP + 3
N_CONTEXTS = CTX_INTRA + 3


@njit(cache=True)
def _encode_exp_golomb(state: npt.NDArray[np.int64], out: npt.NDArray[np.uint8], value: int) -> None:
    shifted = value + 1
    bits = 0
    while (shifted >> (bits + 1)) != 0:
        bits += 1
    for _ in range(bits):
        encode_direct(state, out, 1, 1)
    encode_direct(state, out, 0, 1)
    encode_direct(state, out, shifted - (1 << bits), bits)


@njit(cache=True)
def _decode_exp_golomb(state: npt.NDArray[np.int64], data: npt.NDArray[np.uint8]) -> int:
    """The value, or -1 for a prefix longer than any real stream has."""
    bits = 0
    while bits < MAX_PREFIX and decode_direct(state, data, 1) == 1:
        bits += 1
    if bits >= MAX_PREFIX:
        return -1
    return (1 << bits) + decode_direct(state, data, bits) - 1


@njit(cache=True)
def _gt1_context(cls: int, ones: int, big: int) -> int:
    return CTX_GT1 + cls * 5 + (4 if big > 0 else min(ones, 3))


@njit(cache=True)
def encode_block(
    state: npt.NDArray[np.int64],
    out: npt.NDArray[np.uint8],
    probs: npt.NDArray[np.int32],
    levels: npt.NDArray[np.int32],
    start: int,
    cls: int,
) -> None:
    """Code ``levels[start:]`` (zigzag order)."""
    last = -1
    for i in range(start, COEFFS):
        if levels[i] != 0:
            last = i
    encode_bit(state, out, probs, CTX_CODED + cls, 1 if last >= 0 else 0)
    if last < 0:
        return
    ones, big = 0, 0
    for i in range(start, last + 1):
        level = levels[i]
        if i < COEFFS - 1:
            encode_bit(state, out, probs, CTX_SIG + cls * COEFFS + i, 1 if level != 0 else 0)
            if level == 0:
                continue
            encode_bit(state, out, probs, CTX_LAST + cls * COEFFS + i, 1 if i == last else 0)
        magnitude = abs(level)
        encode_bit(state, out, probs, _gt1_context(cls, ones, big), 1 if magnitude > 1 else 0)
        if magnitude > 1:
            big += 1
            remainder = magnitude - 2
            for j in range(min(remainder, UNARY_LIMIT)):
                encode_bit(state, out, probs, CTX_LEVEL + cls * 16 + min(j, 15), 1)
            if remainder < UNARY_LIMIT:
                encode_bit(state, out, probs, CTX_LEVEL + cls * 16 + min(remainder, 15), 0)
            else:
                _encode_exp_golomb(state, out, remainder - UNARY_LIMIT)
        else:
            ones += 1
        encode_direct(state, out, 1 if level < 0 else 0, 1)


@njit(cache=True)
def decode_block(
    state: npt.NDArray[np.int64],
    data: npt.NDArray[np.uint8],
    probs: npt.NDArray[np.int32],
    levels: npt.NDArray[np.int32],
    start: int,
    cls: int,
) -> bool:
    """Fill ``levels[start:]``; False when the stream cannot be a real block."""
    for i in range(start, COEFFS):
        levels[i] = 0
    if decode_bit(state, data, probs, CTX_CODED + cls) == 0:
        return True
    ones, big = 0, 0
    for i in range(start, COEFFS):
        is_last = i == COEFFS - 1
        if not is_last:
            if decode_bit(state, data, probs, CTX_SIG + cls * COEFFS + i) == 0:
                continue
            is_last = decode_bit(state, data, probs, CTX_LAST + cls * COEFFS + i) == 1
        magnitude = 1
        if decode_bit(state, data, probs, _gt1_context(cls, ones, big)) == 1:
            big += 1
            remainder = 0
            while remainder < UNARY_LIMIT and decode_bit(state, data, probs, CTX_LEVEL + cls * 16 + min(remainder, 15)):
                remainder += 1
            if remainder == UNARY_LIMIT:
                escape = _decode_exp_golomb(state, data)
                if escape < 0 or escape > MAX_LEVEL:
                    return False
                remainder += escape
            magnitude = remainder + 2
        else:
            ones += 1
        levels[i] = -magnitude if decode_direct(state, data, 1) == 1 else magnitude
        if is_last:
            return True
    return True
