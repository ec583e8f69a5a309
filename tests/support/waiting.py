"""Waiting for something asynchronous to become true, with a deadline that names what was awaited."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


async def eventually(check: Callable[[], bool], timeout_s: float = 20.0, what: str = "condition") -> None:
    """Return once ``check()`` is true; :class:`AssertionError` naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def eventually_async(
    check: Callable[[], Awaitable[bool]], timeout_s: float = 20.0, what: str = "condition"
) -> None:
    """:func:`eventually` for a check that must await (a Redis read)."""
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


def eventually_sync(check: Callable[[], bool], timeout_s: float = 20.0, what: str = "condition") -> None:
    """:func:`eventually` for a test without an event loop (a thread serving what is awaited)."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
