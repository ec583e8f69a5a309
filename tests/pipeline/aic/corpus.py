"""A corpus of damaged AIC frames, and a runner that decodes them all (``python -m tests.pipeline.aic.corpus``).

The runner is what the bounds-checked fuzz test starts with ``NUMBA_BOUNDSCHECK=1``:
there any read outside an array inside a kernel raises ``IndexError`` instead
of reading memory silently, so the corpus proves the decoder stays in its buffers.
"""

from __future__ import annotations

import contextlib
import struct
import sys
import zlib
from collections.abc import Iterator

import numpy as np

from benchmarks.aic_media import photo
from pipeline.aic.bitstream import COMMON_SIZE, BitstreamError
from pipeline.aic.codec import AICDecoder, AICEncoder
from pipeline.aic.types import CompressOptions, Mode


def valid_stream() -> list[bytes]:
    """An intra, an inter, a lossless and an audio frame, in decoding order."""
    source = photo("astronaut")
    small = tuple(np.ascontiguousarray(plane[: plane.shape[0] // 4, : plane.shape[1] // 4]) for plane in source)
    moved = tuple(np.ascontiguousarray(np.roll(plane, 2, axis=1)) for plane in small)
    encoder = AICEncoder()
    options = CompressOptions(latency_cap_ms=1000.0)
    frames = [
        encoder.compress_video(small, options).data,  # type: ignore[arg-type]
        encoder.compress_video(moved, options).data,  # type: ignore[arg-type]
        encoder.compress_video(small, CompressOptions(mode=Mode.OFF)).data,  # type: ignore[arg-type]
    ]
    tone = (np.sin(np.arange(960) / 5.0) * 9000).astype(np.int16).reshape(-1, 2)
    frames.append(encoder.compress_audio(tone, 48000, options).data)
    return frames


def reseal(frame: bytes, body: bytes) -> bytes:
    """``frame``'s common header over a new body, with a correct length and CRC (so the payload decoder is reached)."""
    magic_to_flags = frame[:8]
    return magic_to_flags + struct.pack("<II", len(body), zlib.crc32(body)) + body


def damaged(frames: list[bytes], seed: int, count: int) -> Iterator[tuple[int, bytes]]:
    """(index of the frame it came from, damaged frame): truncations and bit flips, CRC repaired."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        index = int(rng.integers(len(frames)))
        body = bytearray(frames[index][COMMON_SIZE:])
        if rng.random() < 0.3:
            del body[int(rng.integers(len(body))) :]
        else:
            for _ in range(int(rng.integers(1, 6))):
                position = int(rng.integers(len(body)))
                body[position] ^= 1 << int(rng.integers(8))
        yield index, reseal(frames[index], bytes(body))


def decode_after(frames: list[bytes], index: int, frame: bytes) -> None:
    """Decode ``frame`` with a decoder that has seen the frames before ``index`` (so inter frames have a reference)."""
    decoder = AICDecoder()
    for earlier in frames[:index]:
        decoder.decompress(earlier)
    with contextlib.suppress(BitstreamError):
        decoder.decompress(frame)


def main() -> int:
    frames = valid_stream()
    for index, frame in damaged(frames, seed=int(sys.argv[1]) if len(sys.argv) > 1 else 5, count=300):
        decode_after(frames, index, frame)
    print("corpus decoded without leaving its buffers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
