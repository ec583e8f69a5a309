"""The standard codecs AIC is measured against, all fed and judged the same way (yuv420p in, Y plane compared).

* libjpeg-turbo through Pillow: intra pictures, 4:2:0, Huffman tables optimised.
* libvpx VP8 through PyAV, configured as aiortc 1.16 configures it (realtime deadline,
  cpu-used -6, CBR at the target bitrate, no lag, one thread at 640x480 on 2 cores).
* libx264 through PyAV: preset ultrafast, tune zerolatency, CRF, one thread.
"""

from __future__ import annotations

import fractions
import io
import time
from collections.abc import Sequence
from dataclasses import dataclass

import av
import numpy as np
from av.video.codeccontext import VideoCodecContext
from PIL import Image

from kernels.colour import Planes


@dataclass
class CodedSequence:
    """One codec run over a sequence: total bytes, and the decoded Y planes with encode/decode times."""

    sizes: list[int]
    decoded_luma: list[np.ndarray]
    encode_s: float
    decode_s: float


def jpeg(picture: Planes, quality: int) -> CodedSequence:
    y, u, v = picture
    height, width = y.shape
    up = [np.repeat(np.repeat(plane, 2, axis=0), 2, axis=1)[:height, :width] for plane in (u, v)]
    image = Image.fromarray(np.dstack([y, *up]), mode="YCbCr")
    started = time.perf_counter()
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality, subsampling=2, optimize=True)
    encoded = time.perf_counter()
    data = buffer.getvalue()
    decoded = Image.open(io.BytesIO(data))
    decoded.draft("YCbCr", decoded.size)  # no colour conversion: the decoder's own Y plane
    luma = np.asarray(decoded.convert("YCbCr"))[:, :, 0].copy()
    done = time.perf_counter()
    return CodedSequence([len(data)], [luma], encoded - started, done - encoded)


def _to_frame(picture: Planes, index: int) -> av.VideoFrame:
    y, u, v = picture
    frame = av.VideoFrame.from_ndarray(
        np.concatenate([y.ravel(), u.ravel(), v.ravel()]).reshape(-1, y.shape[1]), format="yuv420p"
    )
    frame.pts = index
    return frame


def _run(context: VideoCodecContext, pictures: Sequence[Planes], decoder_name: str) -> CodedSequence:
    packets: list[bytes] = []
    started = time.perf_counter()
    for index, picture in enumerate(pictures):
        packets.extend(bytes(packet) for packet in context.encode(_to_frame(picture, index)))
    packets.extend(bytes(packet) for packet in context.encode(None))
    encoded = time.perf_counter()
    decoder = av.CodecContext.create(decoder_name, "r")
    assert isinstance(decoder, VideoCodecContext)
    decoder.thread_count = 1
    luma = []
    for data in packets:
        for frame in decoder.decode(av.Packet(data)):
            luma.append(frame.to_ndarray(format="yuv420p")[: frame.height].copy())
    for frame in decoder.decode(None):
        luma.append(frame.to_ndarray(format="yuv420p")[: frame.height].copy())
    return CodedSequence([len(p) for p in packets], luma, encoded - started, time.perf_counter() - encoded)


def _context(name: str, width: int, height: int, fps: int) -> VideoCodecContext:
    context = av.CodecContext.create(name, "w")
    assert isinstance(context, VideoCodecContext)
    context.width, context.height = width, height
    context.pix_fmt = "yuv420p"
    context.time_base = fractions.Fraction(1, fps)
    context.framerate = fractions.Fraction(fps, 1)
    context.thread_count = 1
    return context


def vp8(pictures: Sequence[Planes], bitrate: int, fps: int = 30) -> CodedSequence:
    height, width = pictures[0][0].shape
    context = _context("libvpx", width, height, fps)
    context.bit_rate = bitrate
    context.gop_size = 3000
    context.qmin, context.qmax = 2, 56
    context.options = {
        "bufsize": str(bitrate),
        "cpu-used": "-6",
        "deadline": "realtime",
        "lag-in-frames": "0",
        "minrate": str(bitrate),
        "maxrate": str(bitrate),
        "noise-sensitivity": "4",
        "overshoot-pct": "15",
        "partitions": "0",
        "static-thresh": "1",
        "undershoot-pct": "100",
    }
    return _run(context, pictures, "libvpx")


def x264(pictures: Sequence[Planes], crf: int, fps: int = 30) -> CodedSequence:
    height, width = pictures[0][0].shape
    context = _context("libx264", width, height, fps)
    context.options = {"preset": "ultrafast", "tune": "zerolatency", "crf": str(crf)}
    return _run(context, pictures, "h264")
