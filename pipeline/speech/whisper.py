"""faster-whisper behind one small interface: load once per process, transcribe a buffer into timed words.

Loading is cached per (model directory, device, compute type), so every stage,
WebSocket connection and CLI run in a process shares one copy of the weights.
The device is chosen at run time: ``auto`` takes CUDA when CTranslate2 sees a
GPU, else the CPU.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from pipeline.speech.models import ModelError, resolve_model

Device = Literal["cpu", "cuda", "auto"]
Task = Literal["transcribe", "translate"]
SAMPLE_RATE = 16000

# faster-whisper logs every decode at INFO: several times a second per stream in a live call
logging.getLogger("faster_whisper").setLevel(logging.WARNING)


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word; times are seconds from the start of the stream."""

    start: float
    end: float
    text: str
    probability: float

    def shifted(self, offset: float) -> Word:
        return Word(self.start + offset, self.end + offset, self.text, self.probability)

    def to_json(self) -> dict[str, float | str]:
        return {
            "word": self.text.strip(),
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "probability": round(self.probability, 3),
        }


@dataclass
class Hypothesis:
    """What Whisper heard in one buffer."""

    words: list[Word]
    language: str
    language_probability: float
    segment_ends: list[float] = field(default_factory=list)


def cuda_available() -> bool:
    import ctranslate2

    try:
        return int(ctranslate2.get_cuda_device_count()) > 0
    except RuntimeError:  # a CPU-only build of CTranslate2 may refuse the question
        return False


def choose_device(device: Device) -> Literal["cpu", "cuda"]:
    """``cuda`` when asked for or when ``auto`` finds a GPU; otherwise ``cpu``."""
    if device == "cuda" and not cuda_available():
        raise ModelError("device 'cuda' was asked for, but CTranslate2 sees no CUDA GPU; use device 'auto' or 'cpu'")
    if device == "auto":
        return "cuda" if cuda_available() else "cpu"
    return device


def choose_compute_type(device: Literal["cpu", "cuda"], compute_type: str) -> str:
    """``auto`` means int8 on a CPU (fastest there) and float16 on a GPU."""
    if compute_type != "auto":
        return compute_type
    return "float16" if device == "cuda" else "int8"


MIN_CONTEXT_FRAMES = 1000
"""The encoder reads at least 10 s (mel frames of 10 ms): shorter contexts make Whisper loop on short buffers."""
CONTEXT_MARGIN_FRAMES = 100
"""Mel frames (1 s) of padding kept after the audio."""
TOKENS_PER_SECOND = 8
"""A decode stops after this many tokens per second of audio (speech is 3-5): bounds runaway repetition."""
MAX_COMPRESSION_RATIO = 2.4
"""Segments whose text compresses better than this are repetition loops (Whisper's own test), not speech."""


@functools.cache
def _short_context_model_class() -> Any:
    """faster-whisper (imported on first use: it is heavy) whose encoder reads only the buffer."""
    from faster_whisper import WhisperModel

    class ShortContextWhisperModel(WhisperModel):  # type: ignore[misc]  # faster-whisper has no type hints
        """faster-whisper whose encoder reads the buffer's own length instead of 30 s of padding.

        faster-whisper pads every window to 30 s, so the encoder (most of the cost
        of one decode) costs as much for a 3 s streaming buffer as for a full
        window. The padding is plain zero columns of the log-mel features; this cuts
        them, keeping a one-second margin and at least 10 s. On the LibriVox clips it
        decodes ~2.7x faster with the same words and timestamps (see docs/speech.md).
        """

        def encode(self, features: npt.NDArray[np.float32]) -> Any:
            frames = features if features.ndim == 2 else features[0]
            if features.ndim == 2 or features.shape[0] == 1:
                columns = np.flatnonzero(np.any(frames != 0, axis=0))
                keep = int(columns[-1]) + 1 if len(columns) else 2
                keep = min(frames.shape[-1], max(keep + CONTEXT_MARGIN_FRAMES, MIN_CONTEXT_FRAMES))
                features = features[..., : keep + keep % 2]
            return super().encode(features)

    return ShortContextWhisperModel


class WhisperEngine:
    """A loaded Whisper model."""

    def __init__(self, name: str, path: Path, device: Literal["cpu", "cuda"], compute_type: str) -> None:
        self.name = name
        self.path = path
        self.device = device
        self.compute_type = compute_type
        try:
            self.model = _short_context_model_class()(
                str(path), device=device, compute_type=compute_type, cpu_threads=_threads(), local_files_only=True
            )
        except (RuntimeError, ValueError, OSError) as error:
            raise ModelError(
                f"{path}: cannot load this Whisper model ({error}); if it is a packaged model reinstall its "
                "package, else reconvert it with ct2-transformers-converter (see docs/speech.md)"
            ) from error

    @property
    def multilingual(self) -> bool:
        return bool(self.model.model.is_multilingual)

    @property
    def label(self) -> str:
        """The provider name usage events carry: ``whisper-tiny.en``, ``whisper-base`` …"""
        return f"whisper-{self.name}" if "/" not in self.name else f"whisper-{self.path.name}"

    def transcribe(
        self,
        audio: npt.NDArray[np.float32],
        *,
        language: str | None = None,
        task: Task = "transcribe",
        prompt: str | None = None,
        beam_size: int = 1,
        offset_s: float = 0.0,
    ) -> Hypothesis:
        """Transcribe (or translate into English) a mono 16 kHz buffer, greedy and without fallback retries.

        A single temperature keeps the worst case bounded: Whisper's fallback
        ladder re-decodes short, low-confidence buffers up to five times, which
        is what makes naive streaming tail latency explode.
        """
        if not self.multilingual:
            language = "en"
        segments, info = self.model.transcribe(
            audio,
            language=language,
            task=task,
            beam_size=beam_size,
            temperature=0.0,
            initial_prompt=prompt or None,
            word_timestamps=True,
            condition_on_previous_text=False,
            vad_filter=False,
            max_new_tokens=min(440, int(len(audio) / SAMPLE_RATE * TOKENS_PER_SECOND) + 8),
        )
        words: list[Word] = []
        ends: list[float] = []
        for segment in segments:
            if segment.compression_ratio > MAX_COMPRESSION_RATIO:
                continue
            ends.append(segment.end + offset_s)
            for word in segment.words or ():
                words.append(Word(word.start + offset_s, word.end + offset_s, word.word, word.probability))
        return Hypothesis(words, info.language, info.language_probability, ends)


def _threads() -> int:
    return min(4, os.cpu_count() or 1)


_engines: dict[tuple[Path, str, str], WhisperEngine] = {}
_engines_lock = threading.Lock()


def load_whisper(name: str, models_dir: Path, device: Device = "auto", compute_type: str = "auto") -> WhisperEngine:
    """The process's shared engine for model ``name`` (``tiny.en``, ``base`` or a directory)."""
    path = resolve_model(name, models_dir)
    chosen = choose_device(device)
    compute = choose_compute_type(chosen, compute_type)
    key = (path.resolve(), chosen, compute)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = WhisperEngine(name, path, chosen, compute)
            _engines[key] = engine
        return engine
