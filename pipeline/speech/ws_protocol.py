"""The speech WebSocket protocol: the client's start message, its audio, and the close codes.

Client -> server:

* optionally first, a text message ``{"type": "start", "format": "pcm16" | "opus",
  "sample_rate": 16000, "language": "en" | null, "targets": ["pt"], "model": "tiny.en",
  "partials": true}`` (every field optional; a binary first message means all defaults);
* binary messages of audio: little-endian 16-bit mono PCM at ``sample_rate``
  (8000 to 48000 Hz, resampled here), or one Opus packet each;
* ``{"type": "stop"}``: flush, send the last finals and translations, ``{"type": "end"}``, close.

Server -> client: ``ready``, ``partial``, ``final``, ``translation``,
``language`` (once detected), ``error`` (non-fatal) and ``end`` messages.
Misuse closes the connection with a code and a reason (RFC 6455):
1003 unsupported message, 1007 invalid data, 1008 policy (backlog, unknown
model, untranslatable pair), 1009 message too big, 1011 server failure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

import av
import numpy as np
import numpy.typing as npt
from av.audio.resampler import AudioResampler

from pipeline.speech.whisper import SAMPLE_RATE

CLOSE_UNSUPPORTED = 1003
CLOSE_INVALID = 1007
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_SERVER_ERROR = 1011
START_FIELDS = {"type", "format", "sample_rate", "language", "targets", "model", "partials"}


class ProtocolError(Exception):
    """The client broke the protocol; the connection closes with ``code`` and ``reason``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason[:120]  # a close frame's reason must fit in 123 bytes


@dataclass(frozen=True)
class StreamStart:
    """What the client asked for."""

    format: Literal["pcm16", "opus"] = "pcm16"
    sample_rate: int = SAMPLE_RATE
    language: str | None = None
    targets: list[str] = field(default_factory=list)
    model: str | None = None
    partials: bool = True


def parse_control(text: str) -> dict[str, Any]:
    try:
        message = json.loads(text)
    except json.JSONDecodeError:
        raise ProtocolError(CLOSE_INVALID, "text messages must be JSON objects") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ProtocolError(CLOSE_INVALID, 'text messages must be JSON objects with a "type"')
    return message


def parse_start(message: dict[str, Any]) -> StreamStart:
    """A start message, checked field by field."""
    if message.get("type") != "start":
        raise ProtocolError(CLOSE_UNSUPPORTED, f"expected a start message or audio, got type '{message.get('type')}'")
    unknown = sorted(set(message) - START_FIELDS)
    if unknown:
        raise ProtocolError(CLOSE_INVALID, f"unknown start fields: {', '.join(unknown)}")
    audio_format = message.get("format", "pcm16")
    if audio_format not in ("pcm16", "opus"):
        raise ProtocolError(CLOSE_INVALID, "format must be 'pcm16' or 'opus'")
    rate = message.get("sample_rate", 48000 if audio_format == "opus" else SAMPLE_RATE)
    if not isinstance(rate, int) or not 8000 <= rate <= 48000:
        raise ProtocolError(CLOSE_INVALID, "sample_rate must be an integer from 8000 to 48000")
    language = message.get("language")
    targets = message.get("targets", [])
    if language is not None and not (isinstance(language, str) and 2 <= len(language) <= 3):
        raise ProtocolError(CLOSE_INVALID, "language must be an ISO 639-1 code or null")
    if not isinstance(targets, list) or not all(isinstance(t, str) and 2 <= len(t) <= 3 for t in targets):
        raise ProtocolError(CLOSE_INVALID, "targets must be a list of ISO 639-1 codes")
    model = message.get("model")
    if model is not None and not isinstance(model, str):
        raise ProtocolError(CLOSE_INVALID, "model must be a string")
    return StreamStart(
        audio_format, rate, language, [t.lower() for t in targets], model, bool(message.get("partials", True))
    )


class AudioDecoder:
    """Client audio messages to 16 kHz mono float32."""

    def __init__(self, start: StreamStart) -> None:
        self.start = start
        self._opus = av.CodecContext.create("opus", "r") if start.format == "opus" else None
        needs_resampling = start.format == "opus" or start.sample_rate != SAMPLE_RATE
        self._resampler = AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE) if needs_resampling else None

    def decode(self, payload: bytes) -> npt.NDArray[np.float32]:
        frames = self._opus_frames(payload) if self._opus is not None else self._pcm_frames(payload)
        if self._resampler is None:
            return np.frombuffer(payload, dtype="<i2").astype(np.float32) / 32768.0
        chunks = [out.to_ndarray().reshape(-1) for frame in frames for out in self._resampler.resample(frame)]
        return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, dtype=np.float32)

    def _pcm_frames(self, payload: bytes) -> list[av.AudioFrame]:
        if len(payload) % 2:
            raise ProtocolError(CLOSE_INVALID, "PCM16 messages must hold whole 16-bit samples (an even byte count)")
        if self._resampler is None:
            return []
        samples = np.frombuffer(payload, dtype="<i2").reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = self.start.sample_rate
        return [frame]

    def _opus_frames(self, payload: bytes) -> list[av.AudioFrame]:
        assert self._opus is not None
        try:
            return list(self._opus.decode(av.Packet(payload)))
        except av.error.FFmpegError:
            raise ProtocolError(CLOSE_INVALID, "a binary message is not a valid Opus packet") from None
