"""The AIC codec for one stream of frames (video or audio): the contract every caller uses.

:class:`AICEncoder` turns frames into self-describing AIC frames and reports
status, sizes, quality and per-step latency; :class:`AICDecoder` turns them back.
Both keep per-stream state (the reference picture), so one pair serves one stream.
"""

from __future__ import annotations

import time

import numpy as np
import numpy.typing as npt

from pipeline.aic import bitstream
from pipeline.aic.audio import decode_audio, encode_audio
from pipeline.aic.bitstream import BitstreamError, FrameKind
from pipeline.aic.types import CompressOptions, CompressResult, DecodedAudio, DecodedVideo, Mode, Status
from pipeline.aic.video import Planes, VideoDecoder, VideoEncoder


class AICEncoder:
    """Compresses one stream's frames."""

    def __init__(self) -> None:
        self.video = VideoEncoder()

    def compress_video(self, planes: Planes, options: CompressOptions) -> CompressResult:
        return self.video.encode(planes, options)

    def compress_audio(
        self, samples: npt.NDArray[np.int16], sample_rate: int, options: CompressOptions
    ) -> CompressResult:
        """Audio is always lossless: the floor holds trivially and nothing falls back."""
        started = time.perf_counter()
        data = encode_audio(samples, sample_rate)
        elapsed = (time.perf_counter() - started) * 1000.0
        status = Status.TIMEOUT if elapsed > options.latency_cap_ms else Status.SUCCESS
        latency = {"encode_ms": elapsed, "total_ms": elapsed}
        return CompressResult(data, status, samples.nbytes, 1.0, 100.0, latency, "", 0, "audio")


class AICDecoder:
    """Decompresses one stream's frames, in order."""

    def __init__(self) -> None:
        self.video = VideoDecoder()

    def decompress(self, data: bytes) -> DecodedVideo | DecodedAudio:
        """Raises :class:`BitstreamError` with a reason for anything that is not a valid next frame."""
        kind, flags, body = bitstream.open_frame(data)
        if kind is FrameKind.AUDIO:
            header, samples = decode_audio(body)
            return DecodedAudio(samples, header.sample_rate)
        video_header, planes = self.video.decode(kind, flags, body)
        return DecodedVideo(
            planes,
            video_header.width,
            video_header.height,
            video_header.keyframe,
            video_header.sequence,
            kind.name.lower(),
        )


def warm_up() -> None:
    """Load (or compile, on first use) every kernel a stream touches, so the first real frame is not charged for it."""
    rng = np.random.default_rng(0)
    luma = rng.integers(0, 256, (32, 32), dtype=np.uint8)
    chroma = np.full((16, 16), 128, dtype=np.uint8)
    encoder, decoder = AICEncoder(), AICDecoder()
    for picture in ((luma, chroma, chroma), (np.roll(luma, 1, axis=1), chroma, chroma)):
        decoder.decompress(encoder.compress_video(picture, CompressOptions(latency_cap_ms=1e6)).data)
    decoder.decompress(encoder.compress_video((luma, chroma, chroma), CompressOptions(mode=Mode.OFF)).data)
    tone = rng.integers(-1000, 1000, (160, 1)).astype(np.int16)
    decoder.decompress(encoder.compress_audio(tone, 16000, CompressOptions()).data)


__all__ = ["AICDecoder", "AICEncoder", "BitstreamError", "DecodedAudio", "DecodedVideo"]
