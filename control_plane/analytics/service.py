"""Analytics queries: every one filtered by organisation first, aggregated in the database."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Row, distinct, func, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from control_plane.analytics.pricing import cost_of
from control_plane.analytics.schemas import (
    CallTypeFigures,
    ConnectionQuality,
    FeatureUsage,
    Overview,
    ParticipantQuality,
    Period,
    ProviderUsage,
    QualityFigures,
    QualityReport,
    TimelinePoint,
    TopUser,
    UsageSummary,
    UsageTimeline,
)
from control_plane.analytics.sql import Granularity, bucket
from control_plane.db.types import columns
from control_plane.organizations.models import Membership
from control_plane.telemetry.models import Call, CallParticipant, QualitySampleRecord, UsageRecord

Q = columns(QualitySampleRecord)
U = columns(UsageRecord)
C = columns(Call)
P = columns(CallParticipant)
TOP_USERS = 10
BUSIEST_PARTICIPANTS = 100
"""The quality report lists the participants with the most samples (filter by participant for anyone else)."""


def _epoch(moment: dt.datetime) -> float:
    return moment.timestamp()


def _quality_columns() -> list[ColumnElement[Any]]:
    return [
        func.count(),
        func.avg(Q.rtt_ms),
        func.max(Q.rtt_ms),
        func.avg(Q.jitter_ms),
        func.max(Q.jitter_ms),
        func.avg(Q.loss_fraction),
        func.avg(Q.mos),
        func.min(Q.mos),
        func.avg(Q.bitrate_kbps),
    ]


def _figures(row: Row[Any] | tuple[Any, ...]) -> dict[str, Any]:
    names = list(QualityFigures.model_fields)
    values = [int(row[0] or 0), *(None if v is None else round(float(v), 4) for v in row[1:9])]
    return dict(zip(names, values, strict=True))


def _quality_filter(organization_id: int, period: Period) -> list[ColumnElement[bool]]:
    return [
        col(Q.organization_id) == organization_id,
        col(Q.at) >= _epoch(period.since),
        col(Q.at) < _epoch(period.until),
    ]


def _usage_filter(organization_id: int, period: Period) -> list[ColumnElement[bool]]:
    return [
        col(U.organization_id) == organization_id,
        col(U.at) >= _epoch(period.since),
        col(U.at) < _epoch(period.until),
    ]


def _calls_filter(organization_id: int, period: Period) -> list[ColumnElement[bool]]:
    return [
        col(C.organization_id) == organization_id,
        col(C.started_at) >= _epoch(period.since),
        col(C.started_at) < _epoch(period.until),
    ]


def _minutes(start: Any, end: Any) -> ColumnElement[Any]:
    return func.coalesce(func.sum(func.coalesce(end, start) - start), 0.0) / 60.0


def _quality_sums() -> list[ColumnElement[Any]]:
    return [
        func.count(),
        func.sum(Q.rtt_ms),
        func.count(Q.rtt_ms),
        func.max(Q.rtt_ms),
        func.sum(Q.jitter_ms),
        func.max(Q.jitter_ms),
        func.sum(Q.loss_fraction),
        func.sum(Q.mos),
        func.min(Q.mos),
        func.sum(Q.bitrate_kbps),
    ]


def _from_sums(rows: list[Any]) -> dict[str, Any]:
    """Quality figures of the union of groups, from their sums, counts and extremes (no second scan)."""
    n = sum(int(r[0] or 0) for r in rows)
    rtt_n = sum(int(r[2] or 0) for r in rows)

    def mean(index: int, count: int) -> float | None:
        return round(sum(float(r[index] or 0) for r in rows) / count, 4) if count else None

    def extreme(index: int, pick: Any) -> float | None:
        values = [float(r[index]) for r in rows if r[index] is not None]
        return round(pick(values), 4) if values else None

    return {
        "samples": n,
        "avg_latency_ms": mean(1, rtt_n),
        "max_latency_ms": extreme(3, max),
        "avg_jitter_ms": mean(4, n),
        "max_jitter_ms": extreme(5, max),
        "avg_loss": mean(6, n),
        "avg_mos": mean(7, n),
        "min_mos": extreme(8, min),
        "avg_bitrate_kbps": mean(9, n),
    }


def quality_by_connection(
    db: Session, filters: list[ColumnElement[bool]]
) -> tuple[QualityFigures, list[ConnectionQuality]]:
    """The figures over everything ``filters`` selects, and per connection type: one scan for both."""
    rows = db.execute(select(Q.connection_type, *_quality_sums()).where(*filters).group_by(Q.connection_type)).all()
    per_connection = [ConnectionQuality(connection_type=row[0], **_from_sums([row[1:]])) for row in rows]
    return QualityFigures(**_from_sums([row[1:] for row in rows])), per_connection


def feature_usage(db: Session, organization_id: int, period: Period) -> list[FeatureUsage]:
    u = U
    rows = db.execute(
        select(
            u.feature, u.metric, func.sum(u.quantity), func.count(), func.sum(cost_of(col(u.metric), col(u.quantity)))
        )
        .where(*_usage_filter(organization_id, period))
        .group_by(u.feature, u.metric)
        .order_by(u.feature, u.metric)
    ).all()
    return [
        FeatureUsage(feature=f, metric=m, quantity=q or 0, events=n, cost_usd=round(c or 0, 6))
        for f, m, q, n, c in rows
    ]


def overview(db: Session, organization_id: int, period: Period) -> Overview:
    calls = _calls_filter(organization_id, period)
    call_count, minutes = db.execute(select(func.count(), _minutes(C.started_at, C.ended_at)).where(*calls)).one()
    call_types = db.execute(
        select(C.call_type, func.count(), _minutes(C.started_at, C.ended_at))
        .where(*calls)
        .group_by(C.call_type)
        .order_by(C.call_type)
    ).all()
    p = P
    joined = [
        col(p.organization_id) == organization_id,
        col(p.joined_at) >= _epoch(period.since),
        col(p.joined_at) < _epoch(period.until),
    ]
    participants = db.execute(select(func.count(distinct(p.identity))).where(*joined)).scalar_one()
    top = db.execute(
        select(p.identity, func.count(distinct(p.call_id)), _minutes(p.joined_at, p.left_at))
        .where(*joined)
        .group_by(p.identity)
        .order_by(_minutes(p.joined_at, p.left_at).desc(), p.identity)
        .limit(TOP_USERS)
    ).all()
    members = db.execute(
        select(func.count()).select_from(Membership).where(col(Membership.organization_id) == organization_id)
    ).scalar_one()
    features = feature_usage(db, organization_id, period)
    quality, by_connection = quality_by_connection(db, _quality_filter(organization_id, period))
    return Overview(
        period=period,
        members=members,
        participants=participants,
        calls=call_count,
        minutes=round(float(minutes), 3),
        ai_events=sum(f.events for f in features if f.feature not in {"call", "aic"}),
        cost_usd=round(sum(f.cost_usd for f in features), 6),
        aic_bytes_saved=sum(f.quantity for f in features if f.metric == "aic_bytes_saved"),
        call_types=[CallTypeFigures(call_type=t, calls=n, minutes=round(float(m), 3)) for t, n, m in call_types],
        ai_features=features,
        quality=quality,
        quality_by_connection=by_connection,
        top_users=[TopUser(participant=i, calls=n, minutes=round(float(m), 3)) for i, n, m in top],
    )


def quality_report(
    db: Session, organization_id: int, period: Period, call_id: int | None, participant: str | None
) -> QualityReport:
    filters = _quality_filter(organization_id, period)
    if call_id is not None:
        filters.append(col(Q.call_id) == call_id)
    if participant is not None:
        filters.append(col(Q.participant) == participant)
    by_participant = db.execute(
        select(Q.participant, *_quality_columns())
        .where(*filters)
        .group_by(Q.participant)
        .order_by(func.count().desc(), Q.participant)
        .limit(BUSIEST_PARTICIPANTS)
    ).all()
    summary, by_connection = quality_by_connection(db, filters)
    return QualityReport(
        period=period,
        call_id=call_id,
        participant=participant,
        summary=summary,
        by_connection=by_connection,
        by_participant=[ParticipantQuality(participant=row[0], **_figures(row[1:])) for row in by_participant],
    )


def usage_summary(db: Session, organization_id: int, period: Period) -> UsageSummary:
    u = U
    cost = func.sum(cost_of(col(u.metric), col(u.quantity)))
    rows = db.execute(
        select(u.provider, u.feature, u.metric, func.sum(u.quantity), func.count(), cost)
        .where(*_usage_filter(organization_id, period))
        .group_by(u.provider, u.feature, u.metric)
        .order_by(u.provider, u.feature, u.metric)
    ).all()
    by_provider = [
        ProviderUsage(provider=p, feature=f, metric=m, quantity=q or 0, events=n, cost_usd=round(c or 0, 6))
        for p, f, m, q, n, c in rows
    ]
    return UsageSummary(
        period=period,
        events=sum(p.events for p in by_provider),
        cost_usd=round(sum(p.cost_usd for p in by_provider), 6),
        by_feature=feature_usage(db, organization_id, period),
        by_provider=by_provider,
    )


def usage_timeline(db: Session, organization_id: int, period: Period, granularity: Granularity) -> UsageTimeline:
    u = U
    start = bucket(col(u.at), granularity, db.get_bind().dialect.name).label("start")
    rows = db.execute(
        select(start, u.metric, func.sum(u.quantity), func.sum(cost_of(col(u.metric), col(u.quantity))))
        .where(*_usage_filter(organization_id, period))
        .group_by(start, u.metric)
        .order_by(start, u.metric)
    ).all()
    return UsageTimeline(
        period=period,
        granularity=granularity,
        points=[
            TimelinePoint(
                start=dt.datetime.fromtimestamp(float(s), dt.UTC), metric=m, quantity=q or 0, cost_usd=round(c or 0, 6)
            )
            for s, m, q, c in rows
        ],
    )
