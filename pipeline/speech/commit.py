"""The streaming commit policy: which recognised words become final.

Pure code, no model: it sees successive hypotheses of a growing audio buffer
and decides which words to commit. Committed words never change; the rest is
partial and may.

It is LocalAgreement-n (Macháček et al., 2023: commit the longest prefix on
which the last *n* hypotheses agree) with two additions that cut latency
without giving up stability:

* endpointing — when the voice-activity detector says the speaker paused, the
  whole hypothesis is committed at once, instead of waiting for one more
  hypothesis to agree (the word before a pause is what LocalAgreement holds
  back longest);
* a stability horizon — a word that ended long enough ago (``stable_after_s``)
  with a confident probability is committed even when the newest hypothesis
  spells it differently, so one flickering word cannot hold back a sentence.

Words are compared on their normalised spelling (case and punctuation
ignored), so ``Hello,`` and ``hello`` agree.
"""

from __future__ import annotations

import re
import unicodedata
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.speech.whisper import Word

MAX_OVERLAP_WORDS = 5
"""How many words at the start of a hypothesis are checked against the committed tail (the audio re-heard)."""

_PUNCTUATION = re.compile(r"[^\w']+")


def normalise(text: str) -> str:
    """A word's spelling for comparison: lower case, no punctuation, no surrounding space."""
    return _PUNCTUATION.sub("", unicodedata.normalize("NFKC", text).casefold())


@dataclass(frozen=True, slots=True)
class CommitUpdate:
    """What one hypothesis changed."""

    committed: tuple[Word, ...]
    """Words committed now (never repeated, never changed later)."""
    partial: tuple[Word, ...]
    """The uncommitted rest of the newest hypothesis."""


class CommitPolicy:
    """LocalAgreement-n with endpointing and a stability horizon (see the module docstring)."""

    def __init__(self, agreement: int = 2, stable_after_s: float | None = None, min_probability: float = 0.8) -> None:
        if agreement < 1:
            raise ValueError("agreement must be at least 1")
        self.agreement = agreement
        self.stable_after_s = stable_after_s
        self.min_probability = min_probability
        self.committed: list[Word] = []
        self._previous: deque[list[Word]] = deque(maxlen=max(agreement - 1, 1))

    @property
    def committed_end(self) -> float:
        return self.committed[-1].end if self.committed else 0.0

    def update(self, hypothesis: Sequence[Word], audio_end_s: float, *, endpoint: bool = False) -> CommitUpdate:
        """Take the newest hypothesis of the buffer; ``endpoint`` says the speaker paused (or the stream ended)."""
        tail = self._new_words(hypothesis)
        if endpoint:
            count = len(tail)
        else:
            count = self._agreed(tail)
            count = self._stable(tail, count, audio_end_s)
        newly = tail[:count]
        self.committed.extend(newly)
        rest = tail[count:]
        if endpoint:
            self._previous.clear()
        else:
            self._previous.append(rest)
        return CommitUpdate(tuple(newly), tuple(rest))

    def forget_hypotheses(self) -> None:
        """Drop the hypotheses remembered for agreement (after the audio buffer was cut)."""
        self._previous.clear()

    def _new_words(self, hypothesis: Sequence[Word]) -> list[Word]:
        """The words that lie after what is committed, without the committed tail heard again."""
        boundary = self.committed_end
        words = [word for word in hypothesis if (word.start + word.end) / 2 > boundary and normalise(word.text)]
        tail = [normalise(word.text) for word in self.committed[-MAX_OVERLAP_WORDS:]]
        for size in range(min(len(tail), len(words), MAX_OVERLAP_WORDS), 0, -1):
            if words[0].start - boundary < 1.0 and tail[-size:] == [normalise(w.text) for w in words[:size]]:
                return words[size:]
        return words

    def _agreed(self, tail: list[Word]) -> int:
        if self.agreement == 1:
            return len(tail)
        if len(self._previous) < self.agreement - 1:
            return 0
        count = 0
        for index, word in enumerate(tail):
            spelling = normalise(word.text)
            if all(index < len(old) and normalise(old[index].text) == spelling for old in self._previous):
                count += 1
            else:
                break
        return count

    def _stable(self, tail: list[Word], count: int, audio_end_s: float) -> int:
        if self.stable_after_s is None:
            return count
        horizon = audio_end_s - self.stable_after_s
        while count < len(tail) and tail[count].end <= horizon and tail[count].probability >= self.min_probability:
            count += 1
        return count
