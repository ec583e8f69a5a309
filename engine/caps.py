"""Caps: what kinds of frame a stage accepts or emits, with their fixed fields.

GStreamer's idea, reduced: a :class:`Caps` is a union of :class:`Structure`
(a frame kind plus fields such as ``rate`` and ``channels``). A field that is
absent means "any value"; a set of values means "one of these". Two caps are
compatible when their intersection is not empty. Control frames are not part
of caps: every link carries them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from engine.frames import FrameKind

FieldValue = int | str
FieldSet = frozenset[FieldValue]


def _as_set(value: FieldValue | Iterable[FieldValue]) -> FieldSet:
    if isinstance(value, int | str):
        return frozenset((value,))
    return frozenset(value)


@dataclass(frozen=True, slots=True)
class Structure:
    """One frame kind with constraints on its fields."""

    kind: FrameKind
    fields: Mapping[str, FieldSet] = field(default_factory=dict)

    @classmethod
    def of(cls, kind: FrameKind, **fields: FieldValue | Iterable[FieldValue] | None) -> Structure:
        fixed = {name: _as_set(value) for name, value in fields.items() if value is not None}
        return cls(kind, fixed)

    def intersect(self, other: Structure) -> Structure | None:
        if self.kind is not other.kind:
            return None
        merged = dict(self.fields)
        for name, values in other.fields.items():
            common = merged[name] & values if name in merged else values
            if not common:
                return None
            merged[name] = common
        return Structure(self.kind, merged)

    def describe(self) -> str:
        if not self.fields:
            return self.kind.value
        parts = []
        for name in sorted(self.fields):
            values = sorted(self.fields[name], key=str)
            shown = str(values[0]) if len(values) == 1 else "|".join(map(str, values))
            parts.append(f"{name}={shown}")
        return f"{self.kind.value}({', '.join(parts)})"

    def fixed(self, name: str) -> FieldValue | None:
        """The field's value when exactly one is allowed, else ``None``."""
        values = self.fields.get(name)
        if values is not None and len(values) == 1:
            return next(iter(values))
        return None


@dataclass(frozen=True, slots=True)
class Caps:
    """A union of structures."""

    structures: tuple[Structure, ...] = ()

    @classmethod
    def of(cls, *structures: Structure) -> Caps:
        return cls(tuple(structures))

    @classmethod
    def any_of(cls, *kinds: FrameKind) -> Caps:
        return cls(tuple(Structure(kind) for kind in kinds))

    @property
    def is_empty(self) -> bool:
        return not self.structures

    @property
    def kinds(self) -> frozenset[FrameKind]:
        return frozenset(s.kind for s in self.structures)

    def intersect(self, other: Caps) -> Caps:
        found = []
        for mine in self.structures:
            for theirs in other.structures:
                common = mine.intersect(theirs)
                if common is not None:
                    found.append(common)
        return Caps(tuple(found))

    def structure(self, kind: FrameKind) -> Structure | None:
        """The first structure of ``kind``, if any."""
        return next((s for s in self.structures if s.kind is kind), None)

    def replace(self, kind: FrameKind, structure: Structure | None) -> Caps:
        """These caps with the structures of ``kind`` replaced (or dropped when ``None``)."""
        kept = tuple(s for s in self.structures if s.kind is not kind)
        return Caps(kept + ((structure,) if structure is not None else ()))

    def union(self, other: Caps) -> Caps:
        return Caps(self.structures + tuple(s for s in other.structures if s not in self.structures))

    def describe(self) -> str:
        if not self.structures:
            return "nothing"
        return " or ".join(s.describe() for s in self.structures)


def audio(
    rate: int | Iterable[int] | None = None,
    channels: int | Iterable[int] | None = None,
    sample_format: str | Iterable[str] | None = None,
) -> Structure:
    """Audio caps; ``None`` leaves a field open."""
    return Structure.of(FrameKind.AUDIO, rate=rate, channels=channels, format=sample_format)


ANY_AUDIO = Caps.of(audio())
ANY_TEXT = Caps.any_of(FrameKind.TEXT)
ANY_EVENT = Caps.any_of(FrameKind.EVENT)
ANYTHING = Caps.any_of(FrameKind.AUDIO, FrameKind.VIDEO, FrameKind.TEXT, FrameKind.EVENT)
