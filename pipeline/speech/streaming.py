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
from typing import Literal

import numpy as np
import numpy.typing as npt

from pipeline.speech.commit import CommitPolicy
from pipeline.speech.language import LanguagePolicy, SpokenLanguage
from pipeline.speech.vad import StreamingVad
from pipeline.speech.whisper import SAMPLE_RATE, Hypothesis, Task, WhisperEngine, Word

SILENCE_KEPT_S = 0.3
"""Audio kept before speech starts, so Whisper hears the onset of the first word."""
HALLUCINATION_MARGIN_S = 0.05
"""Voiced stretches are widened by this much (the VAD decides per 32 ms) before a word must overlap one."""
ONSET_MARGIN_S = 0.5
"""Before a voiced stretch the margin is wider: Whisper squeezes the first words of a buffer towards its start
("Por favor," at 0.0-0.38 s where the VAD heard speech from about 0.4 s), and inventions come after speech."""
MIN_VOICED_S = 0.1
MIN_VOICED_SHARE = 0.4
"""A word must lie over voiced audio for MIN_VOICED_SHARE of its length or MIN_VOICED_S, whichever is less: Whisper
stretches an invented word ("Thank") from the end of the speech into the silence after it."""
VOICED_GAP_S = 0.1
FINAL_LOOKAHEAD_S = 1.0
"""A final pass at a commit boundary hears this much past it: enough to end the last word, and decoding the rest
of the buffer (which the next passes hear anyway) would cost tokens for nothing."""
"""Voiced windows closer than this are one stretch of speech."""

TICK_SAMPLES = 320
"""Decisions are taken every 20 ms of the stream's audio (see :meth:`StreamingTranscriber.push`)."""

CommitReason = Literal["agreement", "pause", "buffer", "end"]


@dataclass(frozen=True)
class StreamingOptions:
    """How a stream is transcribed."""

    language: str | None = None
    """``None``: detected from the speaker's first seconds of speech, then kept (:mod:`pipeline.speech.language`)."""
    task: Task = "transcribe"
    beam_size: int = 3
    """The streaming pass (partials, and the words LocalAgreement commits). Beam search heard the start of
    utterances right where greedy did not, on the same short buffers; beam 3 heard the same words as beam 5 on
    LibriVox at a fixed cadence for ~16 % less compute, which buys the faster cadence."""
    final_beam_size: int = 3
    """The final pass at endpoints: beam search over the utterance being finalised."""
    final_temperatures: tuple[float, ...] = (0.0, 0.2, 0.4)
    """The final pass's fallback ladder: a segment failing Whisper's checks is decoded again, hotter (on the
    LibriVox stream at a steady cadence it never fired: it costs only where a segment fails)."""
    two_pass: bool = True
    """False: no final pass; endpoints commit a decode with the streaming pass's settings."""
    final_at_agreement: bool = False
    """Run the final pass at LocalAgreement's commit boundaries too (for a greedy ``beam_size=1`` streaming pass:
    greedy partials, careful finals). Off: on LibriVox it doubled compute and, the misheard words coming from
    short audio rather than from greedy search, committed the same words as the greedy pass."""
    step_s: float = 0.5
    """Re-read the buffer once this much new audio has arrived (a fixed point of the audio: see :meth:`push`)."""
    max_compute_share: float = 0.8
    """The overload valve: after a decode that took c seconds, wait for at least c / share seconds of new audio,
    so streaming never falls behind real time. A machine that keeps up decodes every ``step_s`` whatever a decode
    took (the cadence, and so the words, do not depend on load); the compute itself is bounded by ``step_s`` and
    the beam widths (RTF ~0.5 for tiny.en on 2 cores)."""
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
    right_context_s: float = 0.0
    """An agreed word is committed only once this much audio follows it: Whisper hears the start of an utterance
    better once it has heard how it goes on ("had he married" was "how do you marry" on 1.4 s of audio)."""
    language_policy: LanguagePolicy = field(default_factory=LanguagePolicy)
    redetect_after_silence_s: float = 10.0
    """A detected language is detected afresh after a silence this long (perhaps someone else speaks)."""


@dataclass
class StageTimes:
    """Where a stream's compute went (seconds), for the benchmark and for tuning."""

    vad_s: float = 0.0
    first_pass_s: float = 0.0
    final_pass_s: float = 0.0
    language_s: float = 0.0
    first_passes: int = 0
    final_passes: int = 0

    def as_dict(self) -> dict[str, float]:
        return {name: round(float(value), 4) for name, value in vars(self).items()}


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
    reason: CommitReason | None = None
    """Why words were committed (``None``: nothing was)."""


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
    """One audio stream's incremental transcription (not thread-safe: one caller at a time).

    Two passes: every ``step_s`` a streaming decode (beam 5 by default, greedy
    with ``beam_size=1``) gives the partials and LocalAgreement says which
    leading words are stable; at every endpoint (a pause, the buffer bound, the
    end) the utterance being finalised is decoded again with beam search, the
    fallback ladder and the committed text as prompt, and its words are
    committed. With ``final_at_agreement`` the final pass also runs at each
    commit boundary and decides what LocalAgreement's words are.
    """

    def __init__(self, engine: WhisperEngine, options: StreamingOptions | None = None) -> None:
        self.engine = engine
        self.options = options or StreamingOptions()
        self.policy = CommitPolicy(self.options.agreement, self.options.stable_after_s)
        self.spoken = SpokenLanguage(
            self.options.language or (None if engine.multilingual else "en"), self.options.language_policy
        )
        self.times = StageTimes()
        self._buffer = _Buffer()
        self._vad = StreamingVad() if self.options.vad else None
        self._vad_seen_s = 0.0
        self._voiced: list[list[float]] = []
        self._last_speech_end_s: float | None = None
        self._last_voiced_s: float | None = None
        self._decoded_until_s = 0.0
        self._last_compute_s = 0.0
        self._tick_fill = 0
        self.audio_seconds = 0.0
        self.decodes = 0

    @property
    def language(self) -> str | None:
        return self.spoken.language

    @property
    def language_probability(self) -> float:
        return self.spoken.probability

    @property
    def buffer_seconds(self) -> float:
        return len(self._buffer.audio) / SAMPLE_RATE

    def push(self, audio: npt.NDArray[np.float32]) -> list[TranscriptUpdate]:
        """Append mono 16 kHz float samples; returns what any decode it triggered produced.

        Decisions (decode, pause, cut) are taken on a fixed tick of the stream's own time (every
        ``TICK_SAMPLES``), never at the end of whatever chunk the caller happened to pass: a caller that
        fell behind and passes a second at once gets the same decodes of the same audio as one passing
        20 ms packets, so what is committed does not depend on how the audio was chunked.
        """
        samples = audio.astype(np.float32, copy=False)
        updates: list[TranscriptUpdate] = []
        while len(samples):
            room = TICK_SAMPLES - self._tick_fill
            piece, samples = samples[:room], samples[room:]
            self._tick_fill = (self._tick_fill + len(piece)) % TICK_SAMPLES
            self._append(piece)
            if self._tick_fill == 0:
                updates += self._tick()
        return updates

    def _append(self, piece: npt.NDArray[np.float32]) -> None:
        self._buffer.audio = np.concatenate([self._buffer.audio, piece])
        self.audio_seconds += len(piece) / SAMPLE_RATE
        self._listen(piece)

    def _tick(self) -> list[TranscriptUpdate]:
        end = self._buffer.end_s
        if self._last_speech_end_s is None:
            self._buffer.cut_at(end - SILENCE_KEPT_S)
            self._forget_language_after_silence()
            return []
        if self._paused(end):
            return [self._decode(endpoint="pause")]
        if self.buffer_seconds >= self.options.max_buffer_s:
            return [self._decode(endpoint="buffer")]
        if end - self._decoded_until_s < self._step() or self.buffer_seconds < self.options.first_decode_s:
            return []
        update = self._decode(endpoint=None)
        if self.buffer_seconds > self.options.trim_after_s and self.policy.committed:
            # never past the first uncommitted word: a committed word's end may be stretched over it
            cut = min(self.policy.committed_end, update.partial[0].start if update.partial else float("inf"))
            self._buffer.cut_at(cut)
            self.policy.forget_hypotheses()
        return [update]

    def _step(self) -> float:
        """Audio between decodes: ``step_s``, unless the last decode overran the compute budget.

        Decodes land at fixed points of the audio while the machine keeps up, so the words heard do not
        depend on how long a decode took; only an overloaded machine (a decode costing more than
        ``max_compute_share`` of the audio it waits for) stretches the cadence.
        """
        return max(self.options.step_s, self._last_compute_s / self.options.max_compute_share)

    def finish(self) -> list[TranscriptUpdate]:
        """The stream ended: commit whatever is still heard."""
        if self._last_speech_end_s is None or not len(self._buffer.audio):
            return []
        return [self._decode(endpoint="end")]

    def committed_text(self) -> str:
        return "".join(word.text for word in self.policy.committed).strip()

    def _listen(self, audio: npt.NDArray[np.float32]) -> None:
        if self._vad is None:
            self._last_speech_end_s = self._buffer.end_s
            return
        started = time.perf_counter()
        window_s = 512 / SAMPLE_RATE
        for probability in self._vad.feed(audio.astype(np.float32, copy=False)):
            self._vad_seen_s += window_s
            if probability >= self.options.vad_threshold:
                self._voice(self._vad_seen_s - window_s, self._vad_seen_s)
        self.times.vad_s += time.perf_counter() - started

    def _voice(self, start_s: float, end_s: float) -> None:
        if self._voiced and start_s - self._voiced[-1][1] <= VOICED_GAP_S:
            self._voiced[-1][1] = end_s
        else:
            self._voiced.append([start_s, end_s])
        self._last_speech_end_s = self._last_voiced_s = end_s

    def _paused(self, end_s: float) -> bool:
        if self._vad is None or self._last_speech_end_s is None:
            return False
        return end_s - self._last_speech_end_s >= self.options.endpoint_silence_s

    def _forget_language_after_silence(self) -> None:
        silent = self._last_voiced_s is not None and self._vad_seen_s - self._last_voiced_s
        if silent and silent >= self.options.redetect_after_silence_s and self.spoken.kept:
            self.spoken.forget()

    def _prompt(self) -> str:
        before = [word.text for word in self.policy.committed if word.end <= self._buffer.start_s + 0.01]
        return "".join(before)[-self.options.prompt_chars :].strip()

    def _pass(self, *, final: bool, until_s: float | None = None, greedy: bool = False) -> Hypothesis:
        """One decode of the buffer (up to ``until_s`` plus a look-ahead, when only that much is to be committed)."""
        started = time.perf_counter()
        careful = final and self.options.two_pass and not greedy
        audio = self._buffer.audio
        if until_s is not None:
            audio = audio[: max(0, round((until_s + FINAL_LOOKAHEAD_S - self._buffer.start_s) * SAMPLE_RATE))]
        hypothesis = self.engine.transcribe(
            audio,
            language=self.spoken.current,
            task=self.options.task,
            prompt=self._prompt(),
            beam_size=1 if greedy else self.options.final_beam_size if careful else self.options.beam_size,
            temperatures=self.options.final_temperatures if careful else (0.0,),
            offset_s=self._buffer.start_s,
        )
        elapsed = time.perf_counter() - started
        if careful:
            self.times.final_pass_s += elapsed
            self.times.final_passes += 1
        else:
            self.times.first_pass_s += elapsed
            self.times.first_passes += 1
        self.decodes += 1
        if careful and hypothesis.dropped_segments:
            # beam search and the hotter retries can still loop ("good bye, good bye, good bye" over one
            # "Goodbye"); the checks left that segment out, so hear the buffer once more greedily
            retry = self._pass(final=False, until_s=until_s, greedy=True)
            if retry.dropped_segments < hypothesis.dropped_segments:
                return retry
        return hypothesis

    def _settle_language(self, *, final: bool) -> None:
        if self.spoken.kept:
            return
        started = time.perf_counter()
        self.spoken.settle(self.engine, self._buffer.audio, final=final)
        self.times.language_s += time.perf_counter() - started

    def _decode(self, *, endpoint: CommitReason | None) -> TranscriptUpdate:
        started = time.perf_counter()
        end = self._buffer.end_s
        self._decoded_until_s = end
        self._settle_language(final=endpoint is not None)
        if endpoint is not None:
            hypothesis = self._pass(final=True)
            change = self.policy.update(self._heard(hypothesis.words), end, endpoint=True)
            committed, partial = list(change.committed), list(change.partial)
            self._end_utterance(end)
        else:
            hypothesis = self._pass(final=False)
            committed, partial = self._agree(self._heard(hypothesis.words), end)
        compute_s = time.perf_counter() - started
        self._last_compute_s = compute_s
        language = self.spoken.current or hypothesis.language
        probability = self.spoken.current_probability if self.spoken.current else hypothesis.language_probability
        reason = (endpoint or "agreement") if committed else None
        return TranscriptUpdate(committed, partial, language, probability, end, compute_s, endpoint is not None, reason)

    def _agree(self, heard: list[Word], end: float) -> tuple[list[Word], list[Word]]:
        """LocalAgreement on the streaming pass decides when; with ``final_at_agreement`` the final pass what."""
        if not self.spoken.kept:  # nothing is final before the language is: it would be decoded in the wrong one
            return [], self.policy.remember(heard)
        agreed = self._with_right_context(self.policy.agreed(heard, end), end)
        if not agreed:
            return [], self.policy.remember(heard)
        words = heard
        if self.options.two_pass and self.options.final_at_agreement:
            words = self._heard(self._pass(final=True, until_s=agreed[-1].end).words)
        committed = self.policy.commit_through(words, agreed[-1].end)
        return committed, self.policy.remember(heard)

    def _with_right_context(self, agreed: list[Word], end: float) -> list[Word]:
        horizon = end - self.options.right_context_s
        count = 0
        while count < len(agreed) and agreed[count].end <= horizon:
            count += 1
        return agreed[:count]

    def _end_utterance(self, end: float) -> None:
        if self._vad is None:
            self._buffer.cut_at(end)
        else:
            started = time.perf_counter()
            self.spoken.utterance_ended(self.engine, self._buffer.audio)
            self.times.language_s += time.perf_counter() - started
            self._buffer.cut_at(end - SILENCE_KEPT_S)
        self._last_speech_end_s = None

    def _heard(self, words: list[Word]) -> list[Word]:
        """Words over audio the VAD heard as speech.

        Whisper invents text over silence and noise ("Thank you." after the
        last word, stretched from the end of speech to the end of the buffer;
        a word in the gap between two sentences). A word that lies mostly outside
        the voiced stretches (widened by ``HALLUCINATION_MARGIN_S``) was not
        said; in particular nothing that starts after the speech ended.
        """
        if self._vad is None:
            return words
        self._voiced = [span for span in self._voiced if span[1] >= self._buffer.start_s - 1.0]
        return [word for word in words if self._said(word)]

    def _said(self, word: Word) -> bool:
        margin, onset = HALLUCINATION_MARGIN_S, ONSET_MARGIN_S
        if word.end <= word.start:  # Whisper gives some words no duration: keep them where speech was heard
            return any(start - onset <= word.start <= end + margin for start, end in self._voiced)
        overlap = sum(
            max(0.0, min(word.end, end + margin) - max(word.start, start - onset)) for start, end in self._voiced
        )
        return overlap >= min(MIN_VOICED_S, MIN_VOICED_SHARE * (word.end - word.start))
