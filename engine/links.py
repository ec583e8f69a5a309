"""Links: how a frame gets from one stage to the next.

A :class:`DirectLink` is a plain function call — the frame travels on in the
same task, as GStreamer pushes buffers through elements until a ``queue``. A
:class:`QueueLink` puts the frame on the target's input queue, where the
target's own worker picks it up. Both pass only the frame kinds that the
negotiated caps allow; control frames always pass.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.frames import Frame, FrameKind
from engine.node import Node
from engine.queues import FrameQueue


class DirectLink:
    __slots__ = ("kinds", "target")

    def __init__(self, target: Node, kinds: frozenset[FrameKind]) -> None:
        self.target = target
        self.kinds = kinds

    def deliver(self, frame: Frame) -> None:
        if frame.kind in self.kinds:
            self.target.receive(frame)


class QueueLink:
    __slots__ = ("kinds", "queue")

    def __init__(self, queue: FrameQueue, kinds: frozenset[FrameKind]) -> None:
        self.queue = queue
        self.kinds = kinds

    def deliver(self, frame: Frame) -> None:
        if frame.kind in self.kinds:
            self.queue.put(frame)


class ProbeLink:
    """A pad probe: lets the application watch what a stage emits, in line."""

    __slots__ = ("callback", "kinds")

    def __init__(self, callback: Callable[[Frame], None], kinds: frozenset[FrameKind]) -> None:
        self.callback = callback
        self.kinds = kinds

    def deliver(self, frame: Frame) -> None:
        if frame.kind in self.kinds:
            self.callback(frame)
