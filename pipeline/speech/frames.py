"""Transcript and translation frames, self-describing so any sink can render them as captions.

Every speech frame is a :class:`~engine.frames.TextFrame` whose attributes say
what it is without special cases downstream: ``type`` (``partial``, ``final``,
``translation``), ``start``/``end`` (seconds in the stream), ``words`` (each
with its own times and probability), ``confidence`` and the ``model``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.frames import TextFrame, TextRole
from pipeline.speech.whisper import Word


def words_text(words: Sequence[Word]) -> str:
    return "".join(word.text for word in words).strip()


def confidence(words: Sequence[Word]) -> float:
    return round(sum(word.probability for word in words) / len(words), 3) if words else 0.0


def transcript_frame(
    words: Sequence[Word],
    *,
    final: bool,
    language: str,
    model: str,
    ingest_ns: int,
    role: TextRole = TextRole.TRANSCRIPT,
    **extra: Any,
) -> TextFrame:
    """A partial or final transcript (or Whisper translation) of ``words``."""
    start = words[0].start if words else 0.0
    end = words[-1].end if words else 0.0
    kind = "final" if final else "partial"
    return TextFrame(
        pts_ns=int(start * 1e9),
        ingest_ns=ingest_ns,
        text=words_text(words),
        role=role,
        is_final=final,
        language=language,
        duration_ns=int((end - start) * 1e9),
        attributes={
            "type": kind if role is TextRole.TRANSCRIPT else "translation",
            "start": round(start, 3),
            "end": round(end, 3),
            "words": [word.to_json() for word in words],
            "confidence": confidence(words),
            "model": model,
            **extra,
        },
    )
