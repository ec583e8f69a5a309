"""The series the overview's charts draw: calls per day and how MOS samples spread, over a period.

Both read :func:`control_plane.analytics.sources.source`, as the analytics endpoints do: the rollups for the
period's whole hours, raw rows for its open edges (``use_rollups=False``: raw rows alone, the tests' reference).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from control_plane.analytics.schemas import Period
from control_plane.analytics.sources import count_of, period_span, source
from control_plane.analytics.sql import DAY_S, bucket
from control_plane.telemetry.rollups import CALLS, MOS_BANDS, QUALITY

BAND_LABELS = {"mos_1_2": "1–2", "mos_2_3": "2–3", "mos_3_36": "3–3.6", "mos_36_4": "3.6–4", "mos_4_45": "4–4.5"}
"""Each of the quality rollup's MOS bands, as the chart names it (the last runs to 4.5, the E-model's ceiling)."""


@dataclass(frozen=True)
class DailyCalls:
    days: list[float]
    """Each day's start, Unix seconds (UTC); every day of the period, with or without calls."""
    calls: list[int]


def calls_per_day(db: Session, organization_id: int, period: Period, *, use_rollups: bool = True) -> DailyCalls:
    since, until = period.since.timestamp(), period.until.timestamp()
    s = source(db, CALLS, organization_id, period_span(period, use_rollups))
    day = bucket(s.c.hour, "day", db.get_bind().dialect.name)  # an hour lies in one day: its start's
    rows = db.execute(select(day, count_of(s.c.calls)).group_by(day)).all()
    counted = {float(start): int(n) for start, n in rows}
    first = since // DAY_S * DAY_S
    days = [first + i * DAY_S for i in range(int((until - first) // DAY_S) + 1) if first + i * DAY_S < until]
    return DailyCalls(days, [counted.get(d, 0) for d in days])


def mos_distribution(
    db: Session, organization_id: int, period: Period, *, use_rollups: bool = True
) -> list[tuple[str, int]]:
    """How many quality samples fall in each MOS band (every band, in order)."""
    s = source(db, QUALITY, organization_id, period_span(period, use_rollups))
    counts = db.execute(select(*(count_of(s.c[name]) for name in MOS_BANDS))).one()
    return [(BAND_LABELS[name], int(n or 0)) for name, n in zip(MOS_BANDS, counts, strict=True)]
