"""Where pipeline stages meet the calls: rooms register here, stages look them up.

A pipeline file names no server object, so the call server registers each
room's media under a key and hands that key to the room's ``webrtc_source`` and
``datachannel_sink`` stages as a setting. One process may run several call
servers (tests, benchmarks), hence keys rather than bare room names.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from engine.stage import StageError

if TYPE_CHECKING:  # aiortc takes a second to import; pipeline files that use no call stage never need it
    from aiortc.mediastreams import MediaStreamTrack

MIX_RATE = 48000
CHUNK_SAMPLES = 960
"""20 ms at 48 kHz: Opus's frame, and the room's mixing quantum."""

Chunk = tuple[npt.NDArray[np.int16], int]
"""A 20 ms mono chunk and the monotonic time (ns) its packet arrived."""


class RoomMedia(Protocol):
    """What stages may do with a room."""

    def audio(self, participant: str | None) -> AsyncIterator[Chunk]:
        """20 ms chunks of 48 kHz mono audio: one participant's, or the room's mix for ``None``."""
        ...

    def video(self, participant: str) -> MediaStreamTrack:
        """A subscription to ``participant``'s camera (a relay proxy; stop it when done)."""
        ...

    def send_data(self, message: dict[str, Any]) -> int:
        """Send ``message`` as JSON to every participant allowed data; returns how many got it."""
        ...


_rooms: dict[str, RoomMedia] = {}


def register_room(key: str, room: RoomMedia) -> None:
    if key in _rooms:
        raise ValueError(f"a room is already registered as {key!r}")
    _rooms[key] = room


def unregister_room(key: str) -> None:
    _rooms.pop(key, None)


def find_room(key: str, stage: str) -> RoomMedia:
    """The room registered as ``key``; a :class:`StageError` that says how to run the stage otherwise."""
    room = _rooms.get(key)
    if room is None:
        if not key:
            raise StageError(
                f"stage '{stage}' belongs to a call: it runs in a room's pipeline under `auralink serve engine`, "
                "which fills in its room"
            )
        raise StageError(f"stage '{stage}': room {key!r} is not open in this process")
    return room
