"""How Live reads a room's captions: fragments joined into sentences, a partial only while it is the newest."""

from __future__ import annotations

from typing import Literal

from telemetry.records import Caption
from ui.admin.pages.live import readable


def caption(
    text: str,
    at: float,
    speaker: str = "alice",
    final: bool = True,
    kind: Literal["transcript", "translation"] = "transcript",
    language: str = "en",
) -> Caption:
    return Caption("r", speaker, text, kind=kind, final=final, language=language, at=at)


def test_fragments_join_into_sentences_and_translations_stay_apart() -> None:
    lines = readable(
        [
            caption("we should", 1.0),
            caption("consider the power.", 2.0),
            caption("devemos considerar a energia.", 2.5, kind="translation", language="pt"),
            caption("Next", 3.0),
            caption("hello", 3.5, speaker="bob"),
            caption("item", 4.0),
        ]
    )
    assert [(c.speaker, c.text) for c in lines] == [
        ("alice", "we should consider the power."),
        ("alice", "devemos considerar a energia."),
        ("alice", "Next"),
        ("bob", "hello"),
        ("alice", "item"),
    ]


def test_only_the_newest_partial_after_the_last_final_is_shown() -> None:
    lines = readable(
        [
            caption("we sh", 1.0, final=False),
            caption("we should", 2.0),
            caption("cons", 3.0, final=False),
            caption("consider", 3.5, final=False),
            caption("hi", 3.6, speaker="bob", final=False),
            caption("hi bob", 3.7, speaker="bob"),
        ]
    )
    assert [(c.speaker, c.text, c.final) for c in lines] == [
        ("alice", "we should", True),
        ("alice", "consider", False),
        ("bob", "hi bob", True),
    ]
