"""Where a period's figures come from: the hourly rollups for its whole hours, raw rows for its open edges.

:func:`source` is one ``UNION ALL`` with the columns of a rollup table: the rollup rows of the
hours wholly inside the period, and the same columns aggregated from the raw rows of the partial
hours at either end. Every analytics query aggregates over it, so its cost grows with the
length of the period asked for, not with the history stored. ``use_rollups=False`` reads the
raw rows for the whole period: the reference the tests compare the rollups against.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Select, Subquery, cast, func, select, union_all
from sqlmodel import Session

from control_plane.analytics.schemas import Period
from control_plane.telemetry.rollups import HOUR_S, RollupSpec, Window, hour_of, raw_source

FLOAT_MARGIN_S = 1.0
"""More than the rounding of ``at / 3600`` can move a time across an hour's edge (about 1e-6 s today)."""


@dataclass(frozen=True)
class Span:
    """``since <= at < until`` (``None``: unbounded), and whether rollups may answer its whole hours."""

    since: float | None
    until: float | None
    use_rollups: bool = True

    def whole_hours(self) -> tuple[int | None, int | None] | None:
        """``[first, end)``: the hours wholly inside the span, or ``None`` when there are none to use."""
        if not self.use_rollups:
            return None
        first = None if self.since is None else _ceil(self.since)
        end = None if self.until is None else hour_of(self.until)
        if first is not None and end is not None and first >= end:
            return None
        return first, end

    def raw_windows(self) -> list[Window]:
        """The parts of the span the raw rows answer. The hour condition decides which rows an edge holds, exactly
        as the rollups computed it; the bound on ``at`` (an hour's edge plus :data:`FLOAT_MARGIN_S`) only keeps
        the index scan to that hour."""
        hours = self.whole_hours()
        if hours is None:
            return [(self.since, self.until, None, None)]
        first, end = hours
        windows: list[Window] = []
        if first is not None and self.since is not None and self.since < first:
            windows.append((self.since, _min(self.until, first + FLOAT_MARGIN_S), None, first))
        if end is not None and self.until is not None and self.until > end:
            windows.append((_max(self.since, end - FLOAT_MARGIN_S), self.until, end, None))
        return windows


def period_span(period: Period, use_rollups: bool = True) -> Span:
    return Span(period.since.timestamp(), period.until.timestamp(), use_rollups)


def _ceil(moment: float, grain: int = HOUR_S) -> int:
    start = hour_of(moment, grain)
    return start if start >= moment else start + grain


def _min(value: float | None, bound: float) -> float:
    return bound if value is None else min(value, bound)


def _max(value: float | None, bound: float) -> float:
    return bound if value is None else max(value, bound)


def source(
    db: Session,
    spec: RollupSpec,
    organization_id: int,
    span: Span,
    raw_only: Sequence[ColumnElement[bool]] = (),
) -> Subquery:
    """The rollup-shaped rows of ``spec`` for ``span``. ``raw_only`` are conditions on the raw table that the
    rollups cannot answer: with any, the whole span is read from raw rows."""
    dialect = db.get_bind().dialect.name
    if raw_only:
        span = Span(span.since, span.until, use_rollups=False)
    parts: list[Any] = [raw_source(spec, organization_id, window, dialect, raw_only) for window in span.raw_windows()]
    hours = span.whole_hours()
    if hours is not None:
        parts += _rollup_parts(spec, organization_id, *hours)
    if len(parts) == 1:
        only: Select[Any] = parts[0]
        return only.subquery(spec.table.name)
    return union_all(*parts).subquery(spec.table.name)


def count_of(counts: Any) -> ColumnElement[Any]:
    """The sum of a column of counts, as an integer (PostgreSQL sums a ``bigint`` to a ``numeric``)."""
    return cast(func.sum(counts), BigInteger)


def _rollup_parts(spec: RollupSpec, organization_id: int, first: int | None, end: int | None) -> list[Select[Any]]:
    """The rollup rows of ``[first, end)`` (bounds on ``spec``'s grain): the whole blocks of the coarser rollup
    where ``spec`` has one (days, then weeks), ``spec``'s own rows for the edges."""
    coarser = spec.coarser
    if coarser is None:
        return [_rollup_rows(spec, organization_id, first, end)]
    first_block = None if first is None else _ceil(first, coarser.grain)
    end_block = None if end is None else hour_of(end, coarser.grain)
    if first_block is not None and end_block is not None and first_block >= end_block:
        return [_rollup_rows(spec, organization_id, first, end)]
    parts = _rollup_parts(coarser, organization_id, first_block, end_block)
    if first_block is not None and (first is None or first < first_block):
        parts.append(_rollup_rows(spec, organization_id, first, first_block))
    if end_block is not None and (end is None or end_block < end):
        parts.append(_rollup_rows(spec, organization_id, end_block, end))
    return parts


def _rollup_rows(spec: RollupSpec, organization_id: int, first: int | None, end: int | None) -> Select[Any]:
    table = spec.table
    rows = select(*(table.c[name] for name in (*spec.keys, *spec.measures))).where(
        table.c.organization_id == organization_id
    )
    if first is not None:
        rows = rows.where(table.c.hour >= first)
    if end is not None:
        rows = rows.where(table.c.hour < end)
    return rows
