"""AIC's vocabulary: modes and their quality floors, statuses, options and results."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt


class Mode(enum.Enum):
    """How hard AIC compresses; each lossy mode has a quality floor (SSIM on Y) every frame must hold."""

    OFF = "off"
    """No lossy coding: frames are coded losslessly."""
    CONSERVATIVE = "conservative"
    ADAPTIVE = "adaptive"
    AGGRESSIVE = "aggressive"


QUALITY_FLOOR = {Mode.OFF: 1.0, Mode.CONSERVATIVE: 0.95, Mode.ADAPTIVE: 0.85, Mode.AGGRESSIVE: 0.70}
QUALITY_TARGET_MARGIN = 0.3
"""Without a size target, rate control aims this share of the way from the floor towards 1.0."""


def quality_target(mode: Mode) -> float:
    floor = QUALITY_FLOOR[mode]
    return floor + (1.0 - floor) * QUALITY_TARGET_MARGIN


class Status(enum.Enum):
    SUCCESS = "success"
    FALLBACK = "fallback"
    """Coded losslessly because the lossy coder could not meet the floor within the latency cap."""
    ERROR = "error"
    TIMEOUT = "timeout"
    """The frame was coded and meets its floor, but took longer than the latency cap."""
    QUALITY_NOT_MET = "quality-not-met"
    """The floor was missed and the caller disabled the lossless fallback."""


DEFAULT_LATENCY_CAP_MS = 20.0


@dataclass(frozen=True, slots=True)
class CompressOptions:
    mode: Mode = Mode.ADAPTIVE
    target_ratio: float = 0.0
    """original / compressed size to reach (0: none); the quality floor always wins."""
    target_bitrate_kbps: float = 0.0
    """Bits per second to stay under at ``fps`` (0: none)."""
    fps: float = 30.0
    latency_cap_ms: float = DEFAULT_LATENCY_CAP_MS
    allow_fallback: bool = True
    keyframe: bool = False
    """Force an intra frame (video)."""
    fixed_qp: int | None = None
    """Code at this qp in one attempt, without rate control (for rate-distortion curves)."""


@dataclass(slots=True)
class CompressResult:
    data: bytes
    status: Status
    original_size: int
    ssim: float
    psnr: float
    latency_ms: dict[str, float] = field(default_factory=dict)
    fallback_reason: str = ""
    qp: int = 0
    kind: str = ""
    attempts: int = 1

    @property
    def compressed_size(self) -> int:
        return len(self.data)

    @property
    def ratio(self) -> float:
        return self.original_size / max(1, len(self.data))

    @property
    def bytes_saved(self) -> int:
        return max(0, self.original_size - len(self.data))


@dataclass(frozen=True, slots=True)
class DecodedVideo:
    planes: tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], npt.NDArray[np.uint8]]
    width: int
    height: int
    keyframe: bool
    sequence: int
    kind: str
    """intra, inter or lossless"""


@dataclass(frozen=True, slots=True)
class DecodedAudio:
    samples: npt.NDArray[np.int16]
    sample_rate: int
