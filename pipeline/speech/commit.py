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

ANCHOR_SLACK_S = 1.0
"""How far a committed word's start may move between hypotheses and still be recognised as the same word."""

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
        count = len(tail) if endpoint else self._stable(tail, self._agreed(tail), audio_end_s)
        newly = tail[:count]
        self.committed.extend(newly)
        self._remember(tail[count:], endpoint=endpoint)
        return CommitUpdate(tuple(newly), tuple(tail[count:]))

    def agreed(self, hypothesis: Sequence[Word], audio_end_s: float) -> list[Word]:
        """The words of ``hypothesis`` this policy would commit now; nothing is committed or remembered."""
        tail = self._new_words(hypothesis)
        return tail[: self._stable(tail, self._agreed(tail), audio_end_s)]

    def remember(self, hypothesis: Sequence[Word]) -> list[Word]:
        """Keep ``hypothesis``'s uncommitted words for the next agreement; returns them."""
        tail = self._new_words(hypothesis)
        self._remember(tail, endpoint=False)
        return tail

    def commit_through(self, final: Sequence[Word], until_s: float) -> list[Word]:
        """Commit the words of a second-pass hypothesis ``final`` whose middle lies before ``until_s``.

        The first pass decided *when* (its words up to ``until_s`` agreed); the
        second pass, decoded more carefully, decides *what*.
        """
        newly = [word for word in self._new_words(final) if (word.start + word.end) / 2 <= until_s]
        self.committed.extend(newly)
        return newly

    def forget_hypotheses(self) -> None:
        """Drop the hypotheses remembered for agreement (after the audio buffer was cut)."""
        self._previous.clear()

    def _remember(self, rest: list[Word], *, endpoint: bool) -> None:
        if endpoint:
            self._previous.clear()
        else:
            self._previous.append(rest)

    def _new_words(self, hypothesis: Sequence[Word]) -> list[Word]:
        """The words after what is committed.

        Anchored on text first: the committed tail is looked for in the
        hypothesis (longest run first, near where it was heard), and what
        follows it is new. Whisper often stretches the last word of a buffer to
        the buffer's end, so a committed word's end time alone can lie past
        words not yet recognised; only without a text anchor (the buffer was
        cut) does the time decide.
        """
        words = [word for word in hypothesis if normalise(word.text)]
        if not self.committed:
            return words
        spellings = [normalise(word.text) for word in words]
        tail = [normalise(word.text) for word in self.committed[-MAX_OVERLAP_WORDS:]]
        last_start = self.committed[-1].start
        for size in range(min(len(tail), len(words)), 0, -1):
            for index in range(len(words) - size, -1, -1):
                anchored = abs(words[index + size - 1].start - last_start) <= ANCHOR_SLACK_S
                if anchored and spellings[index : index + size] == tail[-size:]:
                    return words[index + size :]
        boundary = self.committed_end
        return [word for word in words if (word.start + word.end) / 2 > boundary]

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
