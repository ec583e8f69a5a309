"""Streaming transcription: audio in, committed and partial words out, with a bounded buffer.

:class:`StreamingTranscriber` is what the ``stt`` stage, the WebSocket endpoints
and the benchmark drive. Audio is appended as it arrives; a voice-activity
detector decides whether there is speech at all (silence is never sent to
Whisper and is dropped from the buffer), Whisper re-reads the buffer every
``step_s`` of new speech, and :class:`~pipeline.speech.commit.CommitPolicy`
decides what is final. The buffer is cut at every pause once its words are
committed, and at the last committed word when it grows past ``trim_after_s``,
so memory and decode time stay bounded however long someone talks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from pipeline.speech.commit import CommitPolicy
from pipeline.speech.vad import StreamingVad
from pipeline.speech.whisper import SAMPLE_RATE, Task, WhisperEngine, Word

SILENCE_KEPT_S = 0.3
"""Audio kept before speech starts, so Whisper hears the onset of the first word."""
LANGUAGE_LOCK_PROBABILITY = 0.7
HALLUCINATION_MARGIN_S = 0.25
"""A word may start this long after the last voiced window (the VAD decides per 32 ms, and onsets are soft)."""


@dataclass(frozen=True)
class StreamingOptions:
    """How a stream is transcribed."""

    language: str | None = None
    """``None``: detected (and then kept once confident)."""
    task: Task = "transcribe"
    beam_size: int = 1
    step_s: float = 0.4
    """Re-read the buffer once this much new audio has arrived."""
    max_compute_share: float = 0.5
    """After a decode that took c seconds, wait for c / share seconds of new audio: streaming never spends more
    than this share of real time decoding, whatever the machine (pauses still commit at once)."""
    vad: bool = True
    vad_threshold: float = 0.5
    endpoint_silence_s: float = 0.5
    """A pause this long commits everything heard before it."""
    trim_after_s: float = 10.0
    max_buffer_s: float = 20.0
    """Hard bound: past this, everything heard is committed and the buffer cut."""
    first_decode_s: float = 1.0
    """An utterance is first decoded once this much of it is buffered: Whisper guesses on shorter audio."""
    agreement: int = 2
    stable_after_s: float | None = None
    """The commit policy's stability horizon; off by default: on LibriVox it traded words for little latency."""
    prompt_chars: int = 200


@dataclass
class TranscriptUpdate:
    """The outcome of one decode."""

    committed: list[Word]
    partial: list[Word]
    language: str
    language_probability: float
    audio_end_s: float
    compute_s: float
    endpoint: bool
    """True when a pause (or the end of the stream) closed an utterance."""


@dataclass
class _Buffer:
    audio: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    start_s: float = 0.0

    @property
    def end_s(self) -> float:
        return self.start_s + len(self.audio) / SAMPLE_RATE

    def cut_at(self, at_s: float) -> None:
        drop = max(0, min(len(self.audio), round((at_s - self.start_s) * SAMPLE_RATE)))
        self.audio = self.audio[drop:]
        self.start_s += drop / SAMPLE_RATE


class StreamingTranscriber:
    """One audio stream's incremental transcription (not thread-safe: one caller at a time)."""

    def __init__(self, engine: WhisperEngine, options: StreamingOptions | None = None) -> None:
        self.engine = engine
        self.options = options or StreamingOptions()
        self.policy = CommitPolicy(self.options.agreement, self.options.stable_after_s)
        self._buffer = _Buffer()
        self._vad = StreamingVad() if self.options.vad else None
        self._vad_seen_s = 0.0
        self._last_speech_end_s: float | None = None
        self._decoded_until_s = 0.0
        self._last_compute_s = 0.0
        self.language = self.options.language or ("en" if not engine.multilingual else None)
        self.language_probability = 1.0 if self.language else 0.0
        self.audio_seconds = 0.0
        self.decodes = 0

    @property
    def buffer_seconds(self) -> float:
        return len(self._buffer.audio) / SAMPLE_RATE

    def push(self, audio: npt.NDArray[np.float32]) -> list[TranscriptUpdate]:
        """Append mono 16 kHz float samples; returns what any decode it triggered produced."""
        self._buffer.audio = np.concatenate([self._buffer.audio, audio.astype(np.float32, copy=False)])
        self.audio_seconds += len(audio) / SAMPLE_RATE
        self._listen(audio)
        end = self._buffer.end_s
        if self._last_speech_end_s is None:
            self._buffer.cut_at(end - SILENCE_KEPT_S)
            return []
        if self._paused(end):
            return [self._decode(endpoint=True)]
        if self.buffer_seconds >= self.options.max_buffer_s:
            return [self._decode(endpoint=True)]
        step = max(self.options.step_s, self._last_compute_s / self.options.max_compute_share)
        if end - self._decoded_until_s < step or self.buffer_seconds < self.options.first_decode_s:
            return []
        update = self._decode(endpoint=False)
        if not update.endpoint and self.buffer_seconds > self.options.trim_after_s and self.policy.committed:
            # never past the first uncommitted word: a committed word's end may be stretched over it
            cut = min(self.policy.committed_end, update.partial[0].start if update.partial else float("inf"))
            self._buffer.cut_at(cut)
            self.policy.forget_hypotheses()
        return [update]

    def finish(self) -> list[TranscriptUpdate]:
        """The stream ended: commit whatever is still heard."""
        if self._last_speech_end_s is None or not len(self._buffer.audio):
            return []
        return [self._decode(endpoint=True)]

    def committed_text(self) -> str:
        return "".join(word.text for word in self.policy.committed).strip()

    def _listen(self, audio: npt.NDArray[np.float32]) -> None:
        if self._vad is None:
            self._last_speech_end_s = self._buffer.end_s
            return
        window_s = 512 / SAMPLE_RATE
        for probability in self._vad.feed(audio.astype(np.float32, copy=False)):
            self._vad_seen_s += window_s
            if probability >= self.options.vad_threshold:
                self._last_speech_end_s = self._vad_seen_s

    def _paused(self, end_s: float) -> bool:
        if self._vad is None or self._last_speech_end_s is None:
            return False
        return end_s - self._last_speech_end_s >= self.options.endpoint_silence_s

    def _prompt(self) -> str:
        before = [word.text for word in self.policy.committed if word.end <= self._buffer.start_s + 0.01]
        return "".join(before)[-self.options.prompt_chars :].strip()

    def _decode(self, *, endpoint: bool) -> TranscriptUpdate:
        started = time.perf_counter()
        hypothesis = self.engine.transcribe(
            self._buffer.audio,
            language=self.language,
            task=self.options.task,
            prompt=self._prompt(),
            beam_size=self.options.beam_size,
            offset_s=self._buffer.start_s,
        )
        compute_s = time.perf_counter() - started
        self._last_compute_s = compute_s
        self.decodes += 1
        end = self._buffer.end_s
        self._decoded_until_s = end
        self._keep_language(hypothesis.language, hypothesis.language_probability)
        change = self.policy.update(self._heard(hypothesis.words), end, endpoint=endpoint)
        if endpoint:
            self._buffer.cut_at(end - SILENCE_KEPT_S if self._vad else end)
            self._last_speech_end_s = None
        return TranscriptUpdate(
            list(change.committed),
            list(change.partial),
            self.language or hypothesis.language,
            self.language_probability if self.language else hypothesis.language_probability,
            end,
            compute_s,
            endpoint,
        )

    def _heard(self, words: list[Word]) -> list[Word]:
        """Words that start where the VAD heard speech: Whisper invents text ("Thank you.") in trailing silence."""
        if self._vad is None or self._last_speech_end_s is None:
            return words
        limit = self._last_speech_end_s + HALLUCINATION_MARGIN_S
        return [word for word in words if word.start < limit]

    def _keep_language(self, language: str, probability: float) -> None:
        if self.language is None and probability >= LANGUAGE_LOCK_PROBABILITY:
            self.language = language
            self.language_probability = probability
