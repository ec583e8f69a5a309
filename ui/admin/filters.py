"""Jinja filters: how times, numbers and durations read on the pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any


def when(value: dt.datetime | float | None) -> str:
    """A moment as ``2026-12-03 14:05 UTC`` (``—`` for none)."""
    if value is None:
        return "—"
    moment = dt.datetime.fromtimestamp(value, dt.UTC) if isinstance(value, int | float) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def when_seconds(value: float) -> str:
    """A moment to the second, ``14:05:09 UTC``."""
    return dt.datetime.fromtimestamp(value, dt.UTC).strftime("%H:%M:%S UTC")


def number(value: float | int | None, digits: int = 0) -> str:
    """Thousands separated, ``digits`` decimals (``—`` for none)."""
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def money(value: float | None) -> str:
    return "—" if value is None else f"${value:,.2f}"


def data_size(value: float | None) -> str:
    if value is None:
        return "—"
    size = float(value)
    for unit in ("B", "kB", "MB", "GB"):
        if abs(size) < 1000:
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1000
    return f"{size:,.1f} TB"


ALL: dict[str, Callable[..., Any]] = {
    "when": when,
    "when_seconds": when_seconds,
    "number": number,
    "money": money,
    "data_size": data_size,
}
