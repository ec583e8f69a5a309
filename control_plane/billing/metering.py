"""Usage per billing period, read from the usage events telemetry stored (``usage_event``).

A billing period is a calendar month in UTC, named ``YYYY-MM``. What is counted:

- call minutes: participant call seconds / 60, rounded up to whole minutes for billing;
- STT audio seconds, translated characters: summed as reported;
- AIC gigabytes saved: bytes saved / 10⁹;
- AI calls: one per AI session — each distinct (call, participant, feature) that used speech
  recognition or translation (``stt_audio_seconds`` or ``translation_characters`` events,
  agents included); an event outside any call counts as a session of its own.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import String, case, cast, func, select
from sqlmodel import Session

from control_plane.billing.plans import Metric
from control_plane.db.types import columns
from control_plane.domain_errors import InvalidInput
from control_plane.telemetry.models import UsageRecord

_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")
AI_METRICS = ("stt_audio_seconds", "translation_characters")


@dataclass(frozen=True)
class Period:
    """A calendar month in UTC."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Period:
        """``YYYY-MM``; anything else is a 400 that says so."""
        found = _PERIOD.match(text)
        if not found or not 1 <= int(found[2]) <= 12 or not 2000 <= int(found[1]) <= 2999:
            raise InvalidInput(f"period must be a month as YYYY-MM (2000-01 … 2999-12), not {text!r}")
        return cls(int(found[1]), int(found[2]))

    @classmethod
    def containing(cls, moment: dt.datetime) -> Period:
        return cls(moment.year, moment.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> dt.datetime:
        return dt.datetime(self.year, self.month, 1, tzinfo=dt.UTC)

    @property
    def end(self) -> dt.datetime:
        return self.next().start

    def next(self) -> Period:
        return Period(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Period:
        return Period(self.year - (self.month == 1), (self.month - 2) % 12 + 1)


@dataclass(frozen=True)
class Usage:
    """What an organisation used in a period."""

    call_seconds: float
    stt_audio_seconds: float
    translation_characters: float
    aic_bytes_saved: float
    ai_calls: int

    @property
    def call_minutes(self) -> float:
        return self.call_seconds / 60

    @property
    def aic_gigabytes_saved(self) -> float:
        return self.aic_bytes_saved / 1e9

    def billable(self, metric: Metric) -> int:
        """Whole units of ``metric`` (call minutes are rounded up)."""
        return math.ceil(round(self.call_minutes, 6)) if metric == Metric.CALL_MINUTES else self.ai_calls


def usage(db: Session, organization_id: int, period: Period) -> Usage:
    """``organization_id``'s usage in ``period``."""
    c = columns(UsageRecord)
    window = (c.organization_id == organization_id, c.at >= period.start.timestamp(), c.at < period.end.timestamp())
    totals: dict[str, float] = {
        str(metric): float(total or 0.0)
        for metric, total in db.execute(select(c.metric, func.sum(c.quantity)).where(*window).group_by(c.metric))
    }
    session = case((c.call_id.is_(None), "event:" + c.idempotency_key), else_=cast(c.call_id, String))
    sessions = (
        select(session, func.coalesce(c.participant, ""), c.feature)
        .where(*window, c.metric.in_(AI_METRICS))
        .distinct()
        .subquery()
    )
    ai_calls = int(db.execute(select(func.count()).select_from(sessions)).scalar_one())
    return Usage(
        call_seconds=totals.get("call_seconds", 0.0),
        stt_audio_seconds=totals.get("stt_audio_seconds", 0.0),
        translation_characters=totals.get("translation_characters", 0.0),
        aic_bytes_saved=totals.get("aic_bytes_saved", 0.0),
        ai_calls=ai_calls,
    )


def records(
    db: Session, organization_id: int, period: Period, metric: str | None, limit: int, offset: int
) -> Sequence[UsageRecord]:
    """The stored usage events of ``period`` (one ``metric``, or all), oldest first: what the summary adds up."""
    usage_event = columns(UsageRecord)
    query = select(UsageRecord).where(
        usage_event.organization_id == organization_id,
        usage_event.at >= period.start.timestamp(),
        usage_event.at < period.end.timestamp(),
    )
    if metric is not None:
        query = query.where(usage_event.metric == metric)
    return db.scalars(query.order_by(usage_event.at, usage_event.id).offset(offset).limit(limit)).all()


def organizations_with_usage(db: Session, period: Period) -> list[int]:
    """Every organisation with a usage event in ``period``."""
    c = columns(UsageRecord)
    query = select(c.organization_id).where(c.at >= period.start.timestamp(), c.at < period.end.timestamp()).distinct()
    return sorted(int(row) for row in db.execute(query).scalars())
