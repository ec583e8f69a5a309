"""The AIC bitstream: a versioned, self-describing container for one compressed frame (no I/O here).

Every frame starts with the same 16-byte header::

    magic "AIC" | version u8 | kind u8 | flags u8 | reserved u16 | payload length u32 | CRC-32 u32

(little-endian; the CRC covers the kind-specific header and the payload), then a
kind-specific header, then the payload:

* video (``INTRA``, ``INTER``, ``LOSSLESS``): width u16, height u16, pixel format
  u8, qp u8, sequence number u32, the sequence number of the reference u32;
  ``LOSSLESS`` payloads start with the three planes' sizes (u32 each);
* ``AUDIO``: sample rate u32, channels u8, samples per channel u32, then one
  predictor order (u8) and one payload size (u32) per channel.

Parsing checks every size against the limits below before anything is
allocated, so a hostile header can never make a decoder allocate without bound.
"""

from __future__ import annotations

import enum
import struct
import zlib
from dataclasses import dataclass

MAGIC = b"AIC"
VERSION = 1
MAX_SIDE = 8192
MAX_PIXELS = 8192 * 4320
MIN_SIDE = 16
MAX_CHANNELS = 8
MAX_AUDIO_SAMPLES = 1 << 20
SAMPLE_RATES = range(8000, 192_001)

_COMMON = struct.Struct("<3sBBBHII")
_VIDEO = struct.Struct("<HHBBII")
_AUDIO = struct.Struct("<IBI")
_CHANNEL = struct.Struct("<BI")
_PLANE_SIZES = struct.Struct("<III")
COMMON_SIZE = _COMMON.size
FLAG_KEYFRAME = 1


class FrameKind(enum.IntEnum):
    INTRA = 1
    INTER = 2
    LOSSLESS = 3
    AUDIO = 4


class PixelFormat(enum.IntEnum):
    YUV420P = 0


class BitstreamError(ValueError):
    """The data is not a well-formed AIC frame; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class VideoHeader:
    kind: FrameKind
    width: int
    height: int
    qp: int
    sequence: int
    reference: int
    keyframe: bool
    pixel_format: PixelFormat = PixelFormat.YUV420P


@dataclass(frozen=True, slots=True)
class AudioHeader:
    sample_rate: int
    channels: int
    samples: int
    orders: tuple[int, ...]
    sizes: tuple[int, ...]


def check_video_size(width: int, height: int) -> None:
    """Raise :class:`BitstreamError` unless ``width`` x ``height`` is a picture AIC codes."""
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE) or width * height > MAX_PIXELS:
        raise BitstreamError(
            f"unsupported picture size {width}x{height}: sides must be {MIN_SIDE}..{MAX_SIDE} "
            f"and the area at most {MAX_PIXELS} pixels"
        )
    if width % 2 or height % 2:
        raise BitstreamError(f"yuv420p needs even sides, got {width}x{height}")


def check_audio_shape(sample_rate: int, channels: int, samples: int) -> None:
    if sample_rate not in SAMPLE_RATES:
        raise BitstreamError(f"unsupported sample rate {sample_rate} Hz (8000..192000)")
    if not 1 <= channels <= MAX_CHANNELS:
        raise BitstreamError(f"unsupported channel count {channels} (1..{MAX_CHANNELS})")
    if not 1 <= samples <= MAX_AUDIO_SAMPLES:
        raise BitstreamError(f"unsupported frame length {samples} samples (1..{MAX_AUDIO_SAMPLES} per channel)")


def _seal(kind: FrameKind, flags: int, body: bytes) -> bytes:
    """``body`` is the kind-specific header followed by the payload."""
    return _COMMON.pack(MAGIC, VERSION, kind, flags, 0, len(body), zlib.crc32(body)) + body


def pack_video(header: VideoHeader, payload: bytes) -> bytes:
    fields = _VIDEO.pack(header.width, header.height, header.pixel_format, header.qp, header.sequence, header.reference)
    return _seal(header.kind, FLAG_KEYFRAME if header.keyframe else 0, fields + payload)


def pack_lossless_planes(sizes: tuple[int, int, int]) -> bytes:
    return _PLANE_SIZES.pack(*sizes)


def pack_audio(header: AudioHeader, payload: bytes) -> bytes:
    fields = _AUDIO.pack(header.sample_rate, header.channels, header.samples)
    fields += b"".join(_CHANNEL.pack(order, size) for order, size in zip(header.orders, header.sizes, strict=True))
    return _seal(FrameKind.AUDIO, FLAG_KEYFRAME, fields + payload)


def open_frame(data: bytes) -> tuple[FrameKind, int, memoryview]:
    """Check the common header and the CRC; returns the kind, flags and the kind-specific bytes."""
    if len(data) < COMMON_SIZE:
        raise BitstreamError(f"truncated frame: {len(data)} bytes is shorter than the {COMMON_SIZE}-byte header")
    magic, version, kind, flags, _, length, crc = _COMMON.unpack_from(data)
    if magic != MAGIC:
        raise BitstreamError("not an AIC frame (bad magic)")
    if version != VERSION:
        raise BitstreamError(f"unsupported AIC bitstream version {version} (this decoder reads {VERSION})")
    if kind not in FrameKind._value2member_map_:
        raise BitstreamError(f"unknown frame kind {kind}")
    body = memoryview(data)[COMMON_SIZE:]
    if len(body) != length:
        raise BitstreamError(f"truncated frame: header announces {length} bytes, {len(body)} present")
    if zlib.crc32(body) != crc:
        raise BitstreamError("corrupt frame: CRC-32 mismatch")
    return FrameKind(kind), flags, body


def parse_video(kind: FrameKind, flags: int, body: memoryview) -> tuple[VideoHeader, memoryview]:
    if len(body) < _VIDEO.size:
        raise BitstreamError("truncated video header")
    width, height, pixel_format, qp, sequence, reference = _VIDEO.unpack_from(body)
    check_video_size(width, height)
    if pixel_format not in PixelFormat._value2member_map_:
        raise BitstreamError(f"unknown pixel format {pixel_format}")
    if qp > 63:
        raise BitstreamError(f"qp {qp} out of range 0..63")
    header = VideoHeader(kind, width, height, qp, sequence, reference, bool(flags & FLAG_KEYFRAME))
    return header, body[_VIDEO.size :]


def parse_lossless_planes(payload: memoryview) -> tuple[memoryview, memoryview, memoryview]:
    if len(payload) < _PLANE_SIZES.size:
        raise BitstreamError("truncated lossless payload")
    sizes = _PLANE_SIZES.unpack_from(payload)
    if sum(sizes) != len(payload) - _PLANE_SIZES.size:
        raise BitstreamError("lossless plane sizes do not add up to the payload")
    start = _PLANE_SIZES.size
    parts = []
    for size in sizes:
        parts.append(payload[start : start + size])
        start += size
    return parts[0], parts[1], parts[2]


def parse_audio(body: memoryview) -> tuple[AudioHeader, memoryview]:
    if len(body) < _AUDIO.size:
        raise BitstreamError("truncated audio header")
    sample_rate, channels, samples = _AUDIO.unpack_from(body)
    check_audio_shape(sample_rate, channels, samples)
    offset = _AUDIO.size
    if len(body) < offset + channels * _CHANNEL.size:
        raise BitstreamError("truncated audio channel table")
    table = [_CHANNEL.unpack_from(body, offset + i * _CHANNEL.size) for i in range(channels)]
    offset += channels * _CHANNEL.size
    orders = tuple(order for order, _ in table)
    sizes = tuple(size for _, size in table)
    if any(order > 3 for order in orders):
        raise BitstreamError("audio predictor order out of range 0..3")
    if sum(sizes) != len(body) - offset:
        raise BitstreamError("audio channel sizes do not add up to the payload")
    return AudioHeader(sample_rate, channels, samples, orders, sizes), body[offset:]
