"""Frames: the typed messages that travel through a graph.

Every frame carries two clocks:

* ``pts_ns`` — its media timestamp (nanoseconds from the start of its stream);
* ``ingest_ns`` — the ``time.monotonic_ns()`` at which its first byte entered
  the system, so any sink can tell the end-to-end latency of what it emits.

Frames are plain slotted dataclasses: they are created millions of times per
second in a busy process, and attribute access on slots is the cheapest there is.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt


class FrameKind(enum.Enum):
    """The family a frame belongs to; caps are expressed over these."""

    AUDIO = "audio"
    VIDEO = "video"
    TEXT = "text"
    EVENT = "event"
    CONTROL = "control"


def now_ns() -> int:
    """The monotonic clock every ``ingest_ns`` is read from."""
    return time.monotonic_ns()


@dataclass(slots=True)
class Frame:
    """Base of every frame."""

    pts_ns: int
    ingest_ns: int

    kind: ClassVar[FrameKind] = FrameKind.CONTROL

    def latency_ns(self, at_ns: int | None = None) -> int:
        """Nanoseconds since this frame's data entered the system."""
        return (now_ns() if at_ns is None else at_ns) - self.ingest_ns


@dataclass(slots=True)
class AudioFrame(Frame):
    """Interleaved PCM audio.

    ``samples`` has shape ``(n_samples, channels)``; dtype ``int16`` (``s16``)
    or ``float32`` (``f32``, nominal range -1..1).
    """

    samples: npt.NDArray[Any]
    sample_rate: int

    kind: ClassVar[FrameKind] = FrameKind.AUDIO

    @property
    def channels(self) -> int:
        return int(self.samples.shape[1])

    @property
    def n_samples(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration_ns(self) -> int:
        return self.n_samples * 1_000_000_000 // self.sample_rate

    @property
    def sample_format(self) -> str:
        return "s16" if self.samples.dtype == np.int16 else "f32"

    def as_float32(self) -> npt.NDArray[np.float32]:
        """The samples scaled to float32 in -1..1, whatever the stored format."""
        if self.samples.dtype == np.float32:
            return self.samples
        return self.samples.astype(np.float32) * (1.0 / 32768.0)


@dataclass(slots=True)
class VideoFrame(Frame):
    """One picture as planes (for example Y, U, V of ``yuv420p``)."""

    planes: tuple[npt.NDArray[np.uint8], ...]
    width: int
    height: int
    pixel_format: str = "yuv420p"
    keyframe: bool = False

    kind: ClassVar[FrameKind] = FrameKind.VIDEO


class TextRole(enum.Enum):
    """What a text frame is."""

    TRANSCRIPT = "transcript"
    TRANSLATION = "translation"
    PLAIN = "plain"


@dataclass(slots=True)
class TextFrame(Frame):
    """A piece of text: a partial or final transcript, a translation, a message."""

    text: str
    role: TextRole = TextRole.PLAIN
    is_final: bool = True
    language: str | None = None
    duration_ns: int = 0
    attributes: dict[str, Any] = field(default_factory=dict)

    kind: ClassVar[FrameKind] = FrameKind.TEXT


@dataclass(slots=True)
class EventFrame(Frame):
    """A named event with a JSON-serialisable payload (metrics, usage, quality)."""

    name: str
    source: str
    data: dict[str, Any] = field(default_factory=dict)

    kind: ClassVar[FrameKind] = FrameKind.EVENT


class ControlType(enum.Enum):
    STREAM_START = "stream-start"
    FLUSH = "flush"
    END_OF_STREAM = "end-of-stream"


@dataclass(slots=True)
class ControlFrame(Frame):
    """Control that travels downstream in order with the data."""

    control: ControlType = ControlType.END_OF_STREAM

    kind: ClassVar[FrameKind] = FrameKind.CONTROL


def end_of_stream(pts_ns: int = 0) -> ControlFrame:
    """A fresh end-of-stream frame."""
    return ControlFrame(pts_ns=pts_ns, ingest_ns=now_ns(), control=ControlType.END_OF_STREAM)


def is_end_of_stream(frame: Frame) -> bool:
    return isinstance(frame, ControlFrame) and frame.control is ControlType.END_OF_STREAM


def frame_to_json(frame: Frame) -> dict[str, Any]:
    """A JSON-ready summary of a frame; media payloads are summarised, not dumped."""
    base: dict[str, Any] = {"kind": frame.kind.value, "pts_ms": frame.pts_ns / 1e6}
    if isinstance(frame, EventFrame):
        base.update(event=frame.name, source=frame.source, data=frame.data)
    elif isinstance(frame, TextFrame):
        base.update(
            text=frame.text,
            role=frame.role.value,
            final=frame.is_final,
            language=frame.language,
            **frame.attributes,
        )
    elif isinstance(frame, AudioFrame):
        base.update(samples=frame.n_samples, rate=frame.sample_rate, channels=frame.channels)
    elif isinstance(frame, VideoFrame):
        base.update(width=frame.width, height=frame.height, format=frame.pixel_format)
    elif isinstance(frame, ControlFrame):
        base.update(control=frame.control.value)
    return base
