"""The series the overview's charts draw: calls per day and how MOS samples spread, over a period."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from control_plane.analytics.schemas import Period
from control_plane.analytics.sql import DAY_S, bucket
from control_plane.telemetry.models import Call, QualitySampleRecord

MOS_BANDS = ((1.0, "1–2"), (2.0, "2–3"), (3.0, "3–3.6"), (3.6, "3.6–4"), (4.0, "4–4.5"))
"""Lower bound and label of each MOS band (the last runs to 4.5, the E-model's ceiling)."""


@dataclass(frozen=True)
class DailyCalls:
    days: list[float]
    """Each day's start, Unix seconds (UTC); every day of the period, with or without calls."""
    calls: list[int]


def calls_per_day(db: Session, organization_id: int, period: Period) -> DailyCalls:
    dialect = db.get_bind().dialect.name
    since, until = period.since.timestamp(), period.until.timestamp()
    day = bucket(col(Call.started_at), "day", dialect)
    rows = db.execute(
        select(day, func.count())
        .where(
            col(Call.organization_id) == organization_id, col(Call.started_at) >= since, col(Call.started_at) < until
        )
        .group_by(day)
    ).all()
    counted = {float(start): int(n) for start, n in rows}
    first = since // DAY_S * DAY_S
    days = [first + i * DAY_S for i in range(int((until - first) // DAY_S) + 1) if first + i * DAY_S < until]
    return DailyCalls(days, [counted.get(d, 0) for d in days])


def mos_distribution(db: Session, organization_id: int, period: Period) -> list[tuple[str, int]]:
    """How many quality samples fall in each MOS band (every band, in order)."""
    band = case(
        *((col(QualitySampleRecord.mos) >= low, label) for low, label in reversed(MOS_BANDS)),
        else_=MOS_BANDS[0][1],
    )
    rows = db.execute(
        select(band, func.count())
        .where(
            col(QualitySampleRecord.organization_id) == organization_id,
            col(QualitySampleRecord.at) >= period.since.timestamp(),
            col(QualitySampleRecord.at) < period.until.timestamp(),
        )
        .group_by(band)
    ).all()
    counted = {str(label): int(n) for label, n in rows}
    return [(label, counted.get(label, 0)) for _, label in MOS_BANDS]
