"""Video between participants: fixed slots, switched without renegotiation.

A participant's offer carries the video transceivers it wants to receive on;
each becomes a :class:`VideoSlot`, an aiortc track that forwards the frames of
whichever publisher is assigned to it (through aiortc's ``MediaRelay``, so one
decoded picture serves every viewer). The room tells the browser over the data
channel which identity each slot's ``mid`` shows.
"""

from __future__ import annotations

import asyncio

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack


class VideoSlot(MediaStreamTrack):
    """A video track showing one assigned publisher at a time (or nothing)."""

    kind = "video"

    def __init__(self, mid: str) -> None:
        super().__init__()
        self.mid = mid
        self.identity: str | None = None
        self._source: MediaStreamTrack | None = None
        self._changed = asyncio.Event()

    def assign(self, identity: str | None, source: MediaStreamTrack | None) -> None:
        """Show ``source`` (a relay subscription of ``identity``'s camera); ``None`` shows nothing."""
        previous = self._source
        self.identity, self._source = identity, source
        if previous is not None and previous is not source:
            previous.stop()
        self._changed.set()

    async def recv(self) -> av.VideoFrame:
        while self.readyState == "live":
            source = self._source
            if source is None:
                self._changed.clear()
                await self._changed.wait()
                continue
            try:
                frame = await source.recv()
            except MediaStreamError:
                if self._source is source:
                    self.assign(None, None)
                continue
            if self._source is source and isinstance(frame, av.VideoFrame):
                return frame
        raise MediaStreamError

    def stop(self) -> None:
        self.assign(None, None)
        super().stop()
