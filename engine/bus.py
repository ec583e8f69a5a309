"""The bus: messages from a graph to the application.

Stages post events here (not downstream); the runner posts state changes and
errors. Subscribers are plain callables run synchronously on the event loop,
so they must be quick: a slow consumer should hand off to a queue.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from engine.frames import EventFrame

Subscriber = Callable[[EventFrame], None]


class Bus:
    """Fan-out of :class:`EventFrame` messages, with a short memory of recent ones."""

    def __init__(self, history: int = 256) -> None:
        self._subscribers: list[Subscriber] = []
        self.recent: deque[EventFrame] = deque(maxlen=history)

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call ``subscriber`` for every message; returns the unsubscribe function."""
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    def post(self, message: EventFrame) -> None:
        self.recent.append(message)
        for subscriber in tuple(self._subscribers):
            subscriber(message)
