"""Background tasks of the call plumbing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any


async def cancel_and_wait(task: asyncio.Task[Any] | None) -> None:
    """Cancel ``task`` (if any) and wait until it has finished."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


class BackgroundTasks:
    """Work started and not awaited by its starter: each task is kept until it ends, and a failure is logged."""

    def __init__(self, log: logging.Logger, what: str) -> None:
        self._log = log
        self._what = what
        self.running: set[asyncio.Task[Any]] = set()

    def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self.running.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._log.warning("%s: %r", self._what, task.exception())

    async def wait(self, cancel: bool = False) -> None:
        """Until every task has ended (cancelled first with ``cancel``)."""
        if cancel:
            for task in list(self.running):
                task.cancel()
        await asyncio.gather(*self.running, return_exceptions=True)
