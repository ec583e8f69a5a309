"""Audio frames whose samples say which frame they are, so order and loss show."""

from __future__ import annotations

import numpy as np

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
