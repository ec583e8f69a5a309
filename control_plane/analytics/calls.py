"""Calls one by one: a filtered list with quality tags, and one call's participants, timelines, events and usage."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exists, func
from sqlmodel import Session, col, select

from control_plane.analytics.schemas import Period
from control_plane.telemetry.models import Call, CallEventRecord, CallParticipant, QualitySampleRecord, UsageRecord
from control_plane.telemetry.rollups import CallRollup
from control_plane.tenancy import owned

HIGH_JITTER_MS = 30.0
HIGH_LOSS = 0.05
LOW_MOS = 3.5
HIGH_RTT_MS = 300.0
"""Where a call or participant earns a quality tag (the thresholds Twilio's Voice Insights tags use, near enough)."""
LIVE_WINDOW_S = 15.0
"""A live participant's figures are their latest sample within this many seconds."""


@dataclass(frozen=True)
class Quality:
    samples: int = 0
    avg_mos: float | None = None
    min_mos: float | None = None
    avg_jitter_ms: float | None = None
    avg_loss: float | None = None
    avg_rtt_ms: float | None = None
    avg_bitrate_kbps: float | None = None

    @property
    def tags(self) -> list[str]:
        """Twilio-style quality tags: what went wrong, if anything."""
        found = []
        if self.avg_jitter_ms is not None and self.avg_jitter_ms > HIGH_JITTER_MS:
            found.append("high jitter")
        if self.avg_loss is not None and self.avg_loss > HIGH_LOSS:
            found.append("high loss")
        if self.min_mos is not None and self.min_mos < LOW_MOS:
            found.append("low MOS")
        if self.avg_rtt_ms is not None and self.avg_rtt_ms > HIGH_RTT_MS:
            found.append("high latency")
        return found


@dataclass(frozen=True)
class CallRow:
    call: Call
    participants: int
    quality: Quality


@dataclass(frozen=True)
class CallFilter:
    participant: str | None = None
    min_mos: float | None = None
    call_type: str | None = None


@dataclass
class Timeline:
    """One participant's samples over the call, oldest first, as parallel series."""

    at: list[float] = field(default_factory=list)
    mos: list[float] = field(default_factory=list)
    jitter_ms: list[float] = field(default_factory=list)
    loss_percent: list[float] = field(default_factory=list)
    rtt_ms: list[float | None] = field(default_factory=list)
    bitrate_kbps: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class ParticipantDetail:
    identity: str
    joined_at: float
    left_at: float | None
    quality: Quality
    timeline: Timeline


@dataclass(frozen=True)
class CallDetail:
    call: Call
    quality: Quality
    participants: list[ParticipantDetail]
    events: Sequence[CallEventRecord]
    usage: list[tuple[str, str, float, int]]
    """(feature, metric, quantity, events)"""


def _quality_columns() -> list[Any]:
    q = QualitySampleRecord
    return [
        func.count(),
        func.avg(q.mos),
        func.min(q.mos),
        func.avg(q.jitter_ms),
        func.avg(q.loss_fraction),
        func.avg(q.rtt_ms),
        func.avg(q.bitrate_kbps),
    ]


def _quality(row: Sequence[Any] | None) -> Quality:
    if row is None or not row[0]:
        return Quality()
    count, *figures = row
    return Quality(int(count), *(None if v is None else round(float(v), 4) for v in figures))


def list_calls(
    db: Session, organization_id: int, period: Period, filters: CallFilter, *, limit: int, offset: int
) -> list[CallRow]:
    """Calls started in ``period``, newest first, that match ``filters``."""
    query = select(Call).where(
        col(Call.organization_id) == organization_id,
        col(Call.started_at) >= period.since.timestamp(),
        col(Call.started_at) < period.until.timestamp(),
    )
    if filters.call_type:
        query = query.where(col(Call.call_type) == filters.call_type)
    if filters.participant:
        query = query.where(
            exists().where(
                col(CallParticipant.call_id) == col(Call.id), col(CallParticipant.identity) == filters.participant
            )
        )
    if filters.min_mos is not None:
        average = (
            select(func.avg(QualitySampleRecord.mos))
            .where(col(QualitySampleRecord.call_id) == col(Call.id))
            .scalar_subquery()
        )
        query = query.where(average >= filters.min_mos)
    calls = db.exec(query.order_by(col(Call.started_at).desc(), col(Call.id).desc()).offset(offset).limit(limit)).all()
    ids = [c.id for c in calls]
    if not ids:
        return []
    qualities = {
        row[0]: _quality(row[1:])
        for row in db.execute(
            select(col(QualitySampleRecord.call_id), *_quality_columns())
            .where(
                col(QualitySampleRecord.organization_id) == organization_id, col(QualitySampleRecord.call_id).in_(ids)
            )
            .group_by(col(QualitySampleRecord.call_id))
        ).all()
    }
    counts = dict(
        db.execute(
            select(col(CallParticipant.call_id), func.count(func.distinct(CallParticipant.identity)))
            .where(col(CallParticipant.call_id).in_(ids))
            .group_by(col(CallParticipant.call_id))
        ).all()
    )
    return [CallRow(c, int(counts.get(c.id, 0)), qualities.get(c.id, Quality())) for c in calls]


def call_types(db: Session, organization_id: int) -> list[str]:
    """The types of the organisation's calls, from the hourly rollup (a few thousand rows, not every call)."""
    query = select(CallRollup.call_type).where(col(CallRollup.organization_id) == organization_id).distinct()
    return sorted(str(t) for t in db.exec(query).all())


def call_detail(db: Session, organization_id: int, call_id: int) -> CallDetail:
    """One call of the organisation (404 for another's): participants with their timelines, events, usage."""
    call = owned(db, Call, call_id, organization_id, "call")
    samples = db.exec(
        select(QualitySampleRecord)
        .where(col(QualitySampleRecord.organization_id) == organization_id, col(QualitySampleRecord.call_id) == call_id)
        .order_by(col(QualitySampleRecord.at))
    ).all()
    timelines: dict[str, Timeline] = {}
    for sample in samples:
        line = timelines.setdefault(sample.participant, Timeline())
        line.at.append(sample.at)
        line.mos.append(sample.mos)
        line.jitter_ms.append(sample.jitter_ms)
        line.loss_percent.append(round(sample.loss_fraction * 100, 3))
        line.rtt_ms.append(sample.rtt_ms)
        line.bitrate_kbps.append(sample.bitrate_kbps)
    by_participant = {
        row[0]: _quality(row[1:])
        for row in db.execute(
            select(col(QualitySampleRecord.participant), *_quality_columns())
            .where(
                col(QualitySampleRecord.organization_id) == organization_id, col(QualitySampleRecord.call_id) == call_id
            )
            .group_by(col(QualitySampleRecord.participant))
        ).all()
    }
    joined = db.exec(
        select(CallParticipant).where(col(CallParticipant.call_id) == call_id).order_by(col(CallParticipant.joined_at))
    ).all()
    participants = [
        ParticipantDetail(
            p.identity,
            p.joined_at,
            p.left_at,
            by_participant.get(p.identity, Quality()),
            timelines.get(p.identity, Timeline()),
        )
        for p in joined
    ]
    known = {p.identity for p in joined}
    participants += [
        ParticipantDetail(identity, line.at[0], None, by_participant.get(identity, Quality()), line)
        for identity, line in timelines.items()
        if identity not in known
    ]
    end = call.ended_at if call.ended_at is not None else time.time()
    events = db.exec(
        select(CallEventRecord)
        .where(
            col(CallEventRecord.organization_id) == organization_id,
            col(CallEventRecord.room) == call.room,
            col(CallEventRecord.at) >= call.started_at,
            col(CallEventRecord.at) <= end,
        )
        .order_by(col(CallEventRecord.at), col(CallEventRecord.id))
        .limit(1000)
    ).all()
    usage = [
        (str(feature), str(metric), float(quantity), int(n))
        for feature, metric, quantity, n in db.execute(
            select(UsageRecord.feature, UsageRecord.metric, func.sum(UsageRecord.quantity), func.count())
            .where(col(UsageRecord.organization_id) == organization_id, col(UsageRecord.call_id) == call_id)
            .group_by(UsageRecord.feature, UsageRecord.metric)
            .order_by(UsageRecord.feature, UsageRecord.metric)
        ).all()
    ]
    overall = _quality(
        db.execute(
            select(*_quality_columns()).where(
                col(QualitySampleRecord.organization_id) == organization_id, col(QualitySampleRecord.call_id) == call_id
            )
        ).one()
    )
    return CallDetail(call, overall, participants, events, usage)


@dataclass(frozen=True)
class LiveParticipant:
    identity: str
    mos: float | None
    jitter_ms: float | None
    loss_percent: float | None
    rtt_ms: float | None
    bitrate_kbps: float | None
    connection_type: str
    seen_at: float | None


@dataclass(frozen=True)
class LiveRoom:
    call: Call
    participants: list[LiveParticipant]


def live_rooms(db: Session, organization_id: int, now: float | None = None) -> list[LiveRoom]:
    """Calls still open, each participant still in it with their latest sample (within :data:`LIVE_WINDOW_S`)."""
    now = time.time() if now is None else now
    calls = db.exec(
        select(Call)
        .where(col(Call.organization_id) == organization_id, col(Call.ended_at).is_(None))
        .order_by(col(Call.started_at).desc())
        .limit(100)
    ).all()
    rooms = []
    for call in calls:
        present = db.exec(
            select(CallParticipant.identity)
            .where(col(CallParticipant.call_id) == call.id, col(CallParticipant.left_at).is_(None))
            .order_by(col(CallParticipant.joined_at))
        ).all()
        recent = db.exec(
            select(QualitySampleRecord)
            .where(
                col(QualitySampleRecord.organization_id) == organization_id,
                col(QualitySampleRecord.call_id) == call.id,
                col(QualitySampleRecord.at) >= now - LIVE_WINDOW_S,
            )
            .order_by(col(QualitySampleRecord.at))
        ).all()
        latest = {s.participant: s for s in recent}
        rooms.append(LiveRoom(call, [_live(identity, latest.get(identity)) for identity in dict.fromkeys(present)]))
    return rooms


def _live(identity: str, sample: QualitySampleRecord | None) -> LiveParticipant:
    if sample is None:
        return LiveParticipant(identity, None, None, None, None, None, "", None)
    return LiveParticipant(
        identity,
        sample.mos,
        sample.jitter_ms,
        round(sample.loss_fraction * 100, 3),
        sample.rtt_ms,
        sample.bitrate_kbps,
        sample.connection_type,
        sample.at,
    )
