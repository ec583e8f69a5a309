"""Which language a speaker speaks: detected once from their first seconds of speech, then kept.

Whisper guesses the language of every buffer it decodes, and on a short
buffer it guesses badly: an 8 kHz Mexican-Spanish telephone prompt is
Portuguese (p = 0.9) after its first second and Spanish only after three.
Letting every decode choose drifted a stream between the two. Instead the
speech heard so far (across utterances) is scored until it is long enough to
trust, the language is then kept, and it changes only after a long silence
(perhaps someone else speaks) or when several whole utterances clearly say so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from pipeline.speech.whisper import SAMPLE_RATE

MAX_HEARD_S = 30.0
"""Whisper's detector reads one 30 s window; more speech adds nothing."""

WELL_RESOURCED_RELATIVE = {"yi": "de", "lb": "de", "nn": "no"}
"""Languages Whisper saw little of, each with the close relative it saw plenty of and mistakes for it.

Whisper's detector picks these on short or unusual speech of the relative: two German sentences from
espeak-ng, 3 s each, are German at 0.60 and Yiddish at 0.49 (then Georgian, Hebrew; German at 0.02).
Decoded as Yiddish the German comes out in Hebrew script. Only pairs that are one language family and
near-mutually intelligible are listed (Yiddish and Luxembourgish are High German varieties; Nynorsk is
written Norwegian), so merging them loses little even when the speaker really speaks the smaller one.
"""
SURE_OF_SMALLER = 0.9
"""Below this the smaller language of a pair is taken as its relative, with both their probabilities."""


class LanguageDetector(Protocol):
    def detect_language(self, audio: npt.NDArray[np.float32]) -> list[tuple[str, float]]: ...


@dataclass(frozen=True)
class LanguagePolicy:
    detect_after_s: float = 3.0
    """Speech heard before the language is first decided."""
    lock_probability: float = 0.6
    """Decided once the detector is this sure…"""
    force_after_s: float = 8.0
    """…or once this much speech was heard, whatever it says."""
    change_probability: float = 0.9
    """An utterance says another language "clearly" at this probability…"""
    change_utterances: int = 2
    """…and the language changes after this many such utterances in a row."""
    change_min_s: float = 2.0
    """Utterances shorter than this are not scored for a change (too short to trust)."""


@dataclass
class SpokenLanguage:
    """One speaker's language: fixed by the caller, or detected and kept (see the module docstring)."""

    fixed: str | None = None
    policy: LanguagePolicy = field(default_factory=LanguagePolicy)
    language: str | None = None
    """The language kept; ``None`` while still listening."""
    probability: float = 0.0
    guess: str | None = None
    """The best guess before the language is kept (decodes use it meanwhile)."""
    guess_probability: float = 0.0
    detections: int = 0
    _heard: list[npt.NDArray[np.float32]] = field(default_factory=list)
    _changes: int = 0

    def __post_init__(self) -> None:
        if self.fixed is not None:
            self.language, self.probability = self.fixed, 1.0

    @property
    def kept(self) -> bool:
        return self.language is not None

    @property
    def current(self) -> str | None:
        """What a decode should use now."""
        return self.language or self.guess

    @property
    def current_probability(self) -> float:
        return self.probability if self.kept else self.guess_probability

    def settle(self, detector: LanguageDetector, speech: npt.NDArray[np.float32], *, final: bool = False) -> None:
        """Score the speech heard so far plus ``speech`` (the current utterance) and keep the language if sure.

        ``final`` (an utterance ends before the language is kept): at least
        make a guess from everything heard, so its words are decoded in it.
        """
        if self.kept:
            return
        heard = self._heard_with(speech)
        seconds = len(heard) / SAMPLE_RATE
        if seconds < self.policy.detect_after_s and not final:
            return
        language, probability = self._detect(detector, heard)
        self.guess, self.guess_probability = language, probability
        sure = probability >= self.policy.lock_probability and seconds >= self.policy.detect_after_s
        if sure or seconds >= self.policy.force_after_s:
            self.language, self.probability = language, probability

    def utterance_ended(self, detector: LanguageDetector, utterance: npt.NDArray[np.float32]) -> None:
        """Remember an utterance's speech; when the language is kept, check it for a clear change."""
        if not self.kept:
            self._heard.append(utterance)
            return
        if self.fixed is not None or len(utterance) / SAMPLE_RATE < self.policy.change_min_s:
            return
        language, probability = self._detect(detector, utterance)
        if language != self.language and probability >= self.policy.change_probability:
            self._changes += 1
            if self._changes >= self.policy.change_utterances:
                self.language, self.probability, self._changes = language, probability, 0
        else:
            self._changes = 0

    def forget(self) -> None:
        """After a long silence: listen afresh (a fixed language stays)."""
        if self.fixed is not None:
            return
        self.language, self.probability, self.guess, self.guess_probability = None, 0.0, None, 0.0
        self._heard, self._changes = [], 0

    def _heard_with(self, speech: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        heard = np.concatenate([*self._heard, speech]) if self._heard else speech
        return heard[: int(MAX_HEARD_S * SAMPLE_RATE)]

    def _detect(self, detector: LanguageDetector, audio: npt.NDArray[np.float32]) -> tuple[str, float]:
        self.detections += 1
        return with_relatives(detector.detect_language(audio))


def with_relatives(ranked: list[tuple[str, float]]) -> tuple[str, float]:
    """The detector's best language, a poorly resourced one taken as its relative unless it is sure.

    See :data:`WELL_RESOURCED_RELATIVE`: the merged language's probability is
    the two languages' together (the speech is one of them).
    """
    language, probability = ranked[0]
    relative = WELL_RESOURCED_RELATIVE.get(language)
    if relative is None or probability >= SURE_OF_SMALLER:
        return language, probability
    return relative, probability + dict(ranked).get(relative, 0.0)
