"""Audio frames whose samples say which frame they are, so order and loss show."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from engine.frames import AudioFrame, now_ns


def audio_frame(index: int, samples: int = 320, rate: int = 16000, channels: int = 1) -> AudioFrame:
    """The ``index``-th frame of a stream; every sample holds ``index``, so order and loss are visible."""
    data = np.full((samples, channels), index % 30000, dtype=np.int16)
    return AudioFrame(
        pts_ns=index * samples * 1_000_000_000 // rate, ingest_ns=now_ns(), samples=data, sample_rate=rate
    )


def audio_frames(count: int, samples: int = 320, rate: int = 16000, channels: int = 1) -> list[AudioFrame]:
    """``count`` consecutive frames (see :func:`audio_frame`)."""
    return [audio_frame(index, samples, rate, channels) for index in range(count)]


def frames_of(samples: npt.NDArray[np.int16], rate: int, frame: int) -> list[AudioFrame]:
    """``samples`` (samples × channels) cut into frames of ``frame`` samples, timed from 0."""
    return [
        AudioFrame(
            pts_ns=start * 1_000_000_000 // rate,
            ingest_ns=now_ns(),
            samples=samples[start : start + frame],
            sample_rate=rate,
        )
        for start in range(0, samples.shape[0], frame)
    ]


def pcm_frames(audio: npt.NDArray[np.float32], frame_ms: int = 20, rate: int = 16000) -> list[AudioFrame]:
    """Float mono audio as s16 frames of ``frame_ms``."""
    samples = (np.clip(audio, -1, 1) * 32767).astype(np.int16)
    return frames_of(samples[:, None], rate, rate * frame_ms // 1000)
