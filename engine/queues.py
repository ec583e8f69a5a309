"""Bounded frame queues: the links where work changes task, thread or rate.

Two policies, after GStreamer's ``queue``:

* ``block`` never drops. A put past capacity is accepted, and the producing task
  waits (:meth:`FrameQueue.wait_for_room`) before it produces again: the
  overshoot is bounded by what one upstream push can fan out.
* ``leaky`` drops the oldest media frame when full and counts it, so a slow
  consumer never stalls a live call nor grows memory. Control frames are never
  dropped: end-of-stream always arrives.

All methods run on the event loop's thread.
"""

from __future__ import annotations

import asyncio
import enum
from collections import deque

from engine.frames import ControlFrame, Frame


class QueuePolicy(enum.Enum):
    BLOCK = "block"
    LEAKY = "leaky"


class FrameQueue:
    """A bounded FIFO of frames with a drop policy."""

    __slots__ = ("_getter", "_items", "_room", "dropped", "max_size", "policy")

    def __init__(self, max_size: int, policy: QueuePolicy) -> None:
        if max_size < 1:
            raise ValueError("queue max_size must be at least 1")
        self.max_size = max_size
        self.policy = policy
        self.dropped = 0
        self._items: deque[Frame] = deque()
        self._getter: asyncio.Future[None] | None = None
        self._room: asyncio.Future[None] | None = None

    def __len__(self) -> int:
        return len(self._items)

    @property
    def is_full(self) -> bool:
        return len(self._items) >= self.max_size

    def put(self, frame: Frame) -> None:
        """Enqueue without waiting (see the module doc for what full means)."""
        if (
            self.policy is QueuePolicy.LEAKY
            and len(self._items) >= self.max_size
            and not isinstance(frame, ControlFrame)
            and self._drop_oldest_media()
        ):
            self.dropped += 1
        self._items.append(frame)
        getter = self._getter
        if getter is not None and not getter.done():
            getter.set_result(None)

    def _drop_oldest_media(self) -> bool:
        items = self._items
        if not isinstance(items[0], ControlFrame):
            items.popleft()
            return True
        for index, queued in enumerate(items):
            if not isinstance(queued, ControlFrame):
                del items[index]
                return True
        return False

    async def get(self) -> Frame:
        """Dequeue, waiting while empty."""
        while not self._items:
            self._getter = asyncio.get_running_loop().create_future()
            await self._getter
        frame = self._items.popleft()
        room = self._room
        if room is not None and not room.done() and len(self._items) < self.max_size:
            room.set_result(None)
        return frame

    async def wait_for_room(self) -> None:
        """Wait until the queue is below capacity (``block`` producers call this)."""
        while len(self._items) >= self.max_size:
            if self._room is None or self._room.done():
                self._room = asyncio.get_running_loop().create_future()
            await self._room
