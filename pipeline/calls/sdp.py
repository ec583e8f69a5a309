"""Checks on an SDP offer before aiortc sees it: pure text work, no I/O.

aiortc's parser trusts its input; a hostile offer could make it raise anything.
These checks turn the common ways an offer is wrong into one clear message,
and :class:`OfferSummary` tells the server what the client wants to send and
receive.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_OFFER_BYTES = 64 * 1024
MAX_MEDIA_SECTIONS = 16
MEDIA_KINDS = ("audio", "video", "application")
SEND_DIRECTIONS = ("sendrecv", "sendonly")
RECEIVE_DIRECTIONS = ("sendrecv", "recvonly")


class OfferError(ValueError):
    """The offer cannot be used; the message says why."""


@dataclass(frozen=True)
class MediaSection:
    kind: str
    direction: str


@dataclass(frozen=True)
class OfferSummary:
    sections: list[MediaSection] = field(default_factory=list)

    def sends(self, kind: str) -> bool:
        return any(s.kind == kind and s.direction in SEND_DIRECTIONS for s in self.sections)

    def receives(self, kind: str) -> bool:
        return any(s.kind == kind and s.direction in RECEIVE_DIRECTIONS for s in self.sections)

    @property
    def has_data_channel(self) -> bool:
        return any(s.kind == "application" for s in self.sections)

    @property
    def has_media(self) -> bool:
        return any(s.kind in ("audio", "video") for s in self.sections)


def check_offer(raw: bytes) -> tuple[str, OfferSummary]:
    """The offer as text and what it asks for; :class:`OfferError` when it is unusable."""
    if len(raw) > MAX_OFFER_BYTES:
        raise OfferError(f"the offer is {len(raw)} bytes; at most {MAX_OFFER_BYTES} are accepted")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise OfferError("the offer is not UTF-8 text") from None
    lines = [line for line in text.replace("\r\n", "\n").split("\n") if line]
    if not lines or lines[0] != "v=0":
        raise OfferError("not an SDP offer: it must start with 'v=0'")
    for number, line in enumerate(lines, start=1):
        if len(line) < 2 or line[1] != "=" or not line[0].isalpha() or not line.isprintable():
            raise OfferError(f"SDP line {number} is not of the form 'x=value': {line[:40]!r}")
    summary = _summarise(lines)
    if not summary.has_media:
        raise OfferError("the offer has no audio or video section: nothing to send or receive")
    if not any("a=fingerprint:" in line for line in lines):
        raise OfferError("the offer has no DTLS fingerprint (a=fingerprint): WebRTC media must be encrypted")
    if not any(line.startswith("a=ice-ufrag:") for line in lines):
        raise OfferError("the offer has no ICE credentials (a=ice-ufrag)")
    return text, summary


def _summarise(lines: list[str]) -> OfferSummary:
    sections: list[MediaSection] = []
    session_direction = "sendrecv"
    kind: str | None = None
    direction = ""
    for line in lines:
        if line.startswith("m="):
            if kind is not None:
                sections.append(MediaSection(kind, direction))
            parts = line[2:].split()
            if len(parts) < 4 or not parts[1].isdigit():
                raise OfferError(f"malformed media line: {line[:60]!r}")
            kind = parts[0]
            if kind not in MEDIA_KINDS:
                raise OfferError(f"unsupported media kind {kind!r} (audio, video and application are)")
            direction = session_direction
        elif line[2:] in ("sendrecv", "sendonly", "recvonly", "inactive"):
            if kind is None:
                session_direction = line[2:]
            direction = line[2:]
    if kind is not None:
        sections.append(MediaSection(kind, direction))
    if len(sections) > MAX_MEDIA_SECTIONS:
        raise OfferError(f"the offer has {len(sections)} media sections; at most {MAX_MEDIA_SECTIONS} are accepted")
    return OfferSummary(sections)
