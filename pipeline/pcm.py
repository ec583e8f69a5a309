"""Conversions between AuraLink's PCM frames and PyAV's audio frames."""

from __future__ import annotations

import av
import numpy as np
import numpy.typing as npt

from engine.stage import StageError

_LAYOUTS = {1: "mono", 2: "stereo", 3: "3.0", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}
AV_FORMATS = {"s16": "s16", "f32": "flt"}


def layout_for(channels: int) -> str:
    """PyAV's channel-layout name for a channel count."""
    try:
        return _LAYOUTS[channels]
    except KeyError:
        raise StageError(f"{channels} channels are not supported (1 to 8 are)") from None


def to_av_frame(samples: npt.NDArray[np.generic], sample_rate: int) -> av.AudioFrame:
    """Interleaved ``(n, channels)`` int16 or float32 samples as a packed PyAV frame."""
    sample_format = "s16" if samples.dtype == np.int16 else "f32"
    packed = np.ascontiguousarray(samples).reshape(1, -1)
    frame = av.AudioFrame.from_ndarray(packed, format=AV_FORMATS[sample_format], layout=layout_for(samples.shape[1]))
    frame.sample_rate = sample_rate
    return frame


def from_av_frame(frame: av.AudioFrame) -> npt.NDArray[np.generic]:
    """A packed PyAV frame's samples as ``(n, channels)``."""
    return frame.to_ndarray().reshape(-1, frame.layout.nb_channels)
