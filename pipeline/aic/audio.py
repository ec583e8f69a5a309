"""Lossless PCM audio: FLAC's fixed linear predictors (orders 0-3, chosen per channel) and adaptive Rice codes.

Frames are ``(samples, channels)`` int16 arrays; the decoder returns them bit-exact.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from kernels.lossless import MAX_ORDER, fixed_residuals, fixed_restore, rice_decode, rice_encode
from pipeline.aic import bitstream
from pipeline.aic.bitstream import AudioHeader, BitstreamError


def check_audio(samples: npt.NDArray[np.generic], sample_rate: int) -> None:
    if samples.ndim != 2:
        raise BitstreamError(f"audio must be (samples, channels), got shape {samples.shape}")
    if samples.dtype != np.int16:
        raise BitstreamError(f"lossless audio takes s16 PCM, got {samples.dtype}")
    bitstream.check_audio_shape(sample_rate, samples.shape[1], samples.shape[0])


def _best_order(channel: npt.NDArray[np.int64]) -> int:
    """The fixed predictor whose residuals are smallest (FLAC's heuristic: least absolute sum)."""
    costs = [int(np.abs(np.diff(channel, n=order)).sum()) if order else int(np.abs(channel).sum()) for order in
             range(MAX_ORDER + 1)]  # fmt: skip
    return int(np.argmin(costs))


def encode_audio(samples: npt.NDArray[np.int16], sample_rate: int) -> bytes:
    """One AIC audio frame holding ``samples`` exactly."""
    check_audio(samples, sample_rate)
    orders, parts = [], []
    for column in range(samples.shape[1]):
        channel = samples[:, column].astype(np.int64)
        order = _best_order(channel)
        residuals = fixed_residuals(channel, order)
        out = np.empty(residuals.size * 8 + 16, dtype=np.uint8)
        orders.append(order)
        parts.append(out[: rice_encode(residuals, out)].tobytes())
    header = AudioHeader(
        sample_rate, samples.shape[1], samples.shape[0], tuple(orders), tuple(len(part) for part in parts)
    )
    return bitstream.pack_audio(header, b"".join(parts))


def decode_audio(body: memoryview) -> tuple[AudioHeader, npt.NDArray[np.int16]]:
    header, payload = bitstream.parse_audio(body)
    out = np.empty((header.samples, header.channels), dtype=np.int16)
    start = 0
    for column, (order, size) in enumerate(zip(header.orders, header.sizes, strict=True)):
        part = np.frombuffer(payload[start : start + size], dtype=np.uint8)
        start += size
        residuals, complete = rice_decode(part, header.samples)
        if not complete:
            raise BitstreamError(f"truncated audio channel {column}")
        channel = fixed_restore(residuals, order)
        if channel.min(initial=0) < -32768 or channel.max(initial=0) > 32767:
            raise BitstreamError(f"corrupt audio channel {column}: samples outside 16 bits")
        out[:, column] = channel
    return header, out
