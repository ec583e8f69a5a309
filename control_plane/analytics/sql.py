"""SQL building blocks that read the same on PostgreSQL and SQLite: time buckets over Unix seconds."""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import Float, Integer, cast, func, literal_column
from sqlalchemy.sql.elements import ColumnElement

Granularity = Literal["day", "week", "month"]
DAY_S = 86400
_MONDAY_OFFSET_S = 4 * DAY_S
"""1970-01-01 was a Thursday; the first Monday came four days later."""


def floor_div(value: Any, divisor: int, dialect: str) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return func.floor(value / divisor)
    return cast(value / divisor, Integer)  # SQLite: truncation is floor for the positive times stored


def bucket(at: Any, granularity: Granularity, dialect: str) -> ColumnElement[Any]:
    """The start (Unix seconds, UTC) of the day, ISO week or month holding ``at``."""
    if granularity == "day":
        return floor_div(at, DAY_S, dialect) * DAY_S
    if granularity == "week":
        return floor_div(at - _MONDAY_OFFSET_S, 7 * DAY_S, dialect) * 7 * DAY_S + _MONDAY_OFFSET_S
    if dialect == "postgresql":
        month = func.date_trunc("month", func.to_timestamp(at).op("AT TIME ZONE")(literal_column("'UTC'")))
        return func.extract("epoch", month.op("AT TIME ZONE")(literal_column("'UTC'")))
    return cast(func.strftime("%s", at, "unixepoch", "start of month"), Float)
