"""Gathering committed words into sentences, so translation sees whole thoughts."""

from __future__ import annotations

from dataclasses import dataclass

SENTENCE_ENDS = (".", "?", "!", "…", "。", "？", "！")


_NO_SPACE_BEFORE = ("-", ".", ",", "!", "?", ";", ":", "'", "…")


def join_pieces(pieces: list[str]) -> str:
    """Caption pieces as one text: spaced, except before a piece that continues a word (``-hearted``, ``'s``)."""
    text = ""
    for piece in (p.strip() for p in pieces):
        if piece:
            text = f"{text}{piece}" if not text or piece.startswith(_NO_SPACE_BEFORE) else f"{text} {piece}"
    return text


@dataclass(frozen=True)
class Sentence:
    text: str
    start: float
    end: float


class SentenceGatherer:
    """Collects final transcript pieces; gives back a sentence at its end, at a pause or past ``max_chars``."""

    def __init__(self, max_chars: int = 200) -> None:
        self.max_chars = max_chars
        self._pieces: list[str] = []
        self._start = 0.0
        self._end = 0.0

    def add(self, text: str, start: float, end: float, *, pause: bool = False) -> Sentence | None:
        if not text.strip():
            return self.flush() if pause else None
        if not self._pieces:
            self._start = start
        self._pieces.append(text.strip())
        self._end = end
        joined = join_pieces(self._pieces)
        if joined.endswith(SENTENCE_ENDS) or pause or len(joined) >= self.max_chars:
            return self.flush()
        return None

    def flush(self) -> Sentence | None:
        """Whatever is gathered, as a sentence (``None`` when nothing is)."""
        if not self._pieces:
            return None
        sentence = Sentence(join_pieces(self._pieces), self._start, self._end)
        self._pieces = []
        return sentence
