"""Entropy coding: an adaptive binary range coder (LZMA's), with the binarisations AIC uses.

The coder keeps its state in a small ``int64`` array so that numba kernels can
pass it around: ``state[LOW]``, ``state[RANGE]``, ``state[CACHE]``,
``state[CACHE_SIZE]`` and ``state[POS]`` (bytes written or read so far), plus
``state[OVERRUN]`` (bytes the decoder had to invent past the end of its input;
a positive value means a truncated or corrupt stream). Probabilities are 11-bit
``int32`` values in ``probs`` that adapt with a shift of 5.

The decoder never reads outside its buffer: a read past the end yields zero
and counts an overrun, which callers turn into an error.

``reference_encode_bits`` / ``reference_decode_bits`` are plain-Python versions
of the same coder that the tests compare the kernels with.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

PROB_BITS = 11
PROB_ONE = 1 << PROB_BITS
PROB_INIT = PROB_ONE // 2
ADAPT_SHIFT = 5
TOP = 1 << 24
MASK32 = 0xFFFFFFFF

LOW, RANGE, CACHE, CACHE_SIZE, POS, OVERRUN = 0, 1, 2, 3, 4, 5
STATE_SIZE = 6

MAX_PREFIX = 30
"""Longest unary prefix a decoder accepts before calling the stream corrupt."""


@njit(cache=True)
def new_probs(count: int) -> npt.NDArray[np.int32]:
    return np.full(count, PROB_INIT, dtype=np.int32)


@njit(cache=True)
def new_encoder_state() -> npt.NDArray[np.int64]:
    state = np.zeros(STATE_SIZE, dtype=np.int64)
    state[RANGE] = MASK32
    state[CACHE_SIZE] = 1
    return state


@njit(cache=True)
def _put_byte(state: npt.NDArray[np.int64], out: npt.NDArray[np.uint8], value: int) -> None:
    pos = state[POS]
    if pos < out.shape[0]:
        out[pos] = value & 0xFF
    else:
        state[OVERRUN] += 1
    state[POS] = pos + 1


@njit(cache=True)
def _shift_low(state: npt.NDArray[np.int64], out: npt.NDArray[np.uint8]) -> None:
    low = state[LOW]
    if (low & MASK32) < 0xFF000000 or (low >> 32) != 0:
        carry = low >> 32
        temp = state[CACHE]
        while True:
            _put_byte(state, out, temp + carry)
            temp = 0xFF
            state[CACHE_SIZE] -= 1
            if state[CACHE_SIZE] == 0:
                break
        state[CACHE] = (low >> 24) & 0xFF
    state[CACHE_SIZE] += 1
    state[LOW] = (low & 0x00FFFFFF) << 8


@njit(cache=True)
def encode_bit(
    state: npt.NDArray[np.int64], out: npt.NDArray[np.uint8], probs: npt.NDArray[np.int32], ctx: int, bit: int
) -> None:
    """Code one binary decision with the adaptive probability ``probs[ctx]``."""
    p = probs[ctx]
    bound = (state[RANGE] >> PROB_BITS) * p
    if bit == 0:
        state[RANGE] = bound
        probs[ctx] = p + ((PROB_ONE - p) >> ADAPT_SHIFT)
    else:
        state[LOW] += bound
        state[RANGE] -= bound
        probs[ctx] = p - (p >> ADAPT_SHIFT)
    while state[RANGE] < TOP:
        state[RANGE] = (state[RANGE] << 8) & MASK32
        _shift_low(state, out)


@njit(cache=True)
def encode_direct(state: npt.NDArray[np.int64], out: npt.NDArray[np.uint8], value: int, nbits: int) -> None:
    """Code the ``nbits`` low bits of ``value``, most significant first, at probability one half."""
    for shift in range(nbits - 1, -1, -1):
        state[RANGE] >>= 1
        if (value >> shift) & 1:
            state[LOW] += state[RANGE]
        while state[RANGE] < TOP:
            state[RANGE] = (state[RANGE] << 8) & MASK32
            _shift_low(state, out)


@njit(cache=True)
def encoder_finish(state: npt.NDArray[np.int64], out: npt.NDArray[np.uint8]) -> int:
    """Flush the coder; returns the number of bytes written (more than ``len(out)`` means it overflowed)."""
    for _ in range(5):
        _shift_low(state, out)
    return int(state[POS])


@njit(cache=True)
def _get_byte(state: npt.NDArray[np.int64], data: npt.NDArray[np.uint8]) -> int:
    pos = state[POS]
    state[POS] = pos + 1
    if pos < data.shape[0]:
        return np.int64(data[pos])
    state[OVERRUN] += 1
    return 0


@njit(cache=True)
def decoder_init(data: npt.NDArray[np.uint8]) -> npt.NDArray[np.int64]:
    """A decoder over ``data``: ``state[LOW]`` holds the code value."""
    state = np.zeros(STATE_SIZE, dtype=np.int64)
    state[RANGE] = MASK32
    _get_byte(state, data)
    for _ in range(4):
        state[LOW] = ((state[LOW] << 8) | _get_byte(state, data)) & MASK32
    return state


@njit(cache=True)
def decode_bit(
    state: npt.NDArray[np.int64], data: npt.NDArray[np.uint8], probs: npt.NDArray[np.int32], ctx: int
) -> int:
    p = probs[ctx]
    bound = (state[RANGE] >> PROB_BITS) * p
    if state[LOW] < bound:
        state[RANGE] = bound
        probs[ctx] = p + ((PROB_ONE - p) >> ADAPT_SHIFT)
        bit = 0
    else:
        state[LOW] -= bound
        state[RANGE] -= bound
        probs[ctx] = p - (p >> ADAPT_SHIFT)
        bit = 1
    while state[RANGE] < TOP:
        state[RANGE] = (state[RANGE] << 8) & MASK32
        state[LOW] = ((state[LOW] << 8) | _get_byte(state, data)) & MASK32
    return bit


@njit(cache=True)
def decode_direct(state: npt.NDArray[np.int64], data: npt.NDArray[np.uint8], nbits: int) -> int:
    value = 0
    for _ in range(nbits):
        state[RANGE] >>= 1
        bit = 0
        if state[LOW] >= state[RANGE]:
            state[LOW] -= state[RANGE]
            bit = 1
        value = (value << 1) | bit
        while state[RANGE] < TOP:
            state[RANGE] = (state[RANGE] << 8) & MASK32
            state[LOW] = ((state[LOW] << 8) | _get_byte(state, data)) & MASK32
    return value


# Signed integers (DC differences, motion vectors, quantiser offsets): a zero flag, a sign and an
# Exp-Golomb-style magnitude whose class prefix is adaptive. Each use has its own 18 contexts.
SIGNED_CONTEXTS = 18


@njit(cache=True)
def encode_signed(
    state: npt.NDArray[np.int64], out: npt.NDArray[np.uint8], probs: npt.NDArray[np.int32], base: int, value: int
) -> None:
    encode_bit(state, out, probs, base, 1 if value != 0 else 0)
    if value == 0:
        return
    encode_bit(state, out, probs, base + 1, 1 if value < 0 else 0)
    magnitude = abs(value)
    bits = 0
    while (magnitude >> (bits + 1)) != 0:
        bits += 1
    for i in range(bits):
        encode_bit(state, out, probs, base + 2 + min(i, 15), 1)
    if bits < MAX_PREFIX:
        encode_bit(state, out, probs, base + 2 + min(bits, 15), 0)
    encode_direct(state, out, magnitude - (1 << bits), bits)


@njit(cache=True)
def decode_signed(
    state: npt.NDArray[np.int64], data: npt.NDArray[np.uint8], probs: npt.NDArray[np.int32], base: int
) -> tuple[int, bool]:
    """The value and whether it was well formed (a prefix longer than ``MAX_PREFIX`` is not)."""
    if decode_bit(state, data, probs, base) == 0:
        return 0, True
    negative = decode_bit(state, data, probs, base + 1)
    bits = 0
    while bits < MAX_PREFIX and decode_bit(state, data, probs, base + 2 + min(bits, 15)) == 1:
        bits += 1
    if bits >= MAX_PREFIX:
        return 0, False
    magnitude = (1 << bits) + decode_direct(state, data, bits)
    return (-magnitude if negative else magnitude), True


def reference_encode_bits(bits: list[int], contexts: list[int], n_contexts: int) -> bytes:
    """The range coder in plain Python: what :func:`encode_bit` must produce, byte for byte."""
    low, rng, cache, cache_size = 0, MASK32, 0, 1
    probs = [PROB_INIT] * n_contexts
    out = bytearray()

    def shift_low() -> None:
        nonlocal low, cache, cache_size
        if (low & MASK32) < 0xFF000000 or (low >> 32) != 0:
            temp = cache
            while True:
                out.append((temp + (low >> 32)) & 0xFF)
                temp = 0xFF
                cache_size -= 1
                if cache_size == 0:
                    break
            cache = (low >> 24) & 0xFF
        cache_size += 1
        low = (low & 0x00FFFFFF) << 8

    for bit, ctx in zip(bits, contexts, strict=True):
        p = probs[ctx]
        bound = (rng >> PROB_BITS) * p
        if bit == 0:
            rng = bound
            probs[ctx] = p + ((PROB_ONE - p) >> ADAPT_SHIFT)
        else:
            low += bound
            rng -= bound
            probs[ctx] = p - (p >> ADAPT_SHIFT)
        while rng < TOP:
            rng = (rng << 8) & MASK32
            shift_low()
    for _ in range(5):
        shift_low()
    return bytes(out)


@njit(cache=True)
def encode_bits(bits: npt.NDArray[np.uint8], contexts: npt.NDArray[np.int32], n_contexts: int) -> npt.NDArray[np.uint8]:
    """Code a sequence of decisions, each with its context (the kernel the tests and benchmarks drive)."""
    probs = np.full(n_contexts, PROB_INIT, dtype=np.int32)
    out = np.empty(bits.shape[0] * 2 + 64, dtype=np.uint8)
    state = np.zeros(STATE_SIZE, dtype=np.int64)
    state[RANGE] = MASK32
    state[CACHE_SIZE] = 1
    for i in range(bits.shape[0]):
        encode_bit(state, out, probs, contexts[i], bits[i])
    size = encoder_finish(state, out)
    return out[:size]


@njit(cache=True)
def decode_bits(data: npt.NDArray[np.uint8], contexts: npt.NDArray[np.int32], n_contexts: int) -> npt.NDArray[np.uint8]:
    probs = np.full(n_contexts, PROB_INIT, dtype=np.int32)
    state = decoder_init(data)
    bits = np.empty(contexts.shape[0], dtype=np.uint8)
    for i in range(contexts.shape[0]):
        bits[i] = decode_bit(state, data, probs, contexts[i])
    return bits
