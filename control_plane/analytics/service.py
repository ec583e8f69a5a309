"""Analytics queries: every one filtered by organisation first, aggregated in the database.

Each figure is aggregated over :func:`control_plane.analytics.sources.source`: the hourly rollups for
the whole hours of the period, raw rows for its edges. ``use_rollups=False`` answers from raw rows
alone, the reference the rollups are tested against.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
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
from control_plane.analytics.side_by_side import side_by_side
from control_plane.analytics.sources import Span, count_of, period_span, source
from control_plane.analytics.sql import Granularity, bucket
from control_plane.db.types import columns
from control_plane.organizations.models import Membership
from control_plane.telemetry.models import QualitySampleRecord
from control_plane.telemetry.rollups import CALLS, PARTICIPANTS, QUALITY, QUALITY_BY_PARTICIPANT, USAGE

Q = columns(QualitySampleRecord)
TOP_USERS = 10
BUSIEST_PARTICIPANTS = 100
"""The quality report lists the participants with the most samples (filter by participant for anyone else)."""


def quality_sums(s: Any) -> list[ColumnElement[Any]]:
    """The quality totals of a group of rollup-shaped rows, in the order :func:`from_sums` reads them."""
    return [
        count_of(s.c.samples),
        func.sum(s.c.rtt_sum),
        count_of(s.c.rtt_samples),
        func.max(s.c.rtt_max),
        func.sum(s.c.jitter_sum),
        func.max(s.c.jitter_max),
        func.sum(s.c.loss_sum),
        func.sum(s.c.mos_sum),
        func.min(s.c.mos_min),
        func.sum(s.c.bitrate_sum),
    ]


def from_sums(rows: list[Any]) -> dict[str, Any]:
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
    db: Session, organization_id: int, span: Span, raw_only: list[ColumnElement[bool]] | None = None
) -> tuple[QualityFigures, list[ConnectionQuality]]:
    """The figures over the span, and per connection type: one aggregation for both."""
    s = source(db, QUALITY, organization_id, span, raw_only or [])
    rows = db.execute(
        select(s.c.connection_type, *quality_sums(s)).group_by(s.c.connection_type).order_by(s.c.connection_type)
    ).all()
    per_connection = [ConnectionQuality(connection_type=row[0], **from_sums([row[1:]])) for row in rows]
    return QualityFigures(**from_sums([row[1:] for row in rows])), per_connection


def feature_usage(db: Session, organization_id: int, period: Period, *, use_rollups: bool = True) -> list[FeatureUsage]:
    s = source(db, USAGE, organization_id, period_span(period, use_rollups))
    rows = db.execute(
        select(
            s.c.feature,
            s.c.metric,
            func.sum(s.c.quantity),
            count_of(s.c.events),
            func.sum(cost_of(s.c.metric, s.c.quantity)),
        )
        .group_by(s.c.feature, s.c.metric)
        .order_by(s.c.feature, s.c.metric)
    ).all()
    return [
        FeatureUsage(feature=f, metric=m, quantity=q or 0, events=n, cost_usd=round(c or 0, 6))
        for f, m, q, n, c in rows
    ]


def overview(db: Session, organization_id: int, period: Period, *, use_rollups: bool = True) -> Overview:
    span = period_span(period, use_rollups)
    (participants, top), (quality, by_connection), (call_types, members, features) = side_by_side(
        db,
        lambda own: _people(own, organization_id, span),
        lambda own: quality_by_connection(own, organization_id, span),
        lambda own: _calls_members_usage(own, organization_id, period, span, use_rollups),
    )
    return Overview(
        period=period,
        members=members,
        participants=participants,
        calls=sum(int(n) for _, n, _ in call_types),
        minutes=round(sum(float(m) for _, _, m in call_types), 3),
        ai_events=sum(f.events for f in features if f.feature not in {"call", "aic"}),
        cost_usd=round(sum(f.cost_usd for f in features), 6),
        aic_bytes_saved=sum(f.quantity for f in features if f.metric == "aic_bytes_saved"),
        call_types=[CallTypeFigures(call_type=t, calls=n, minutes=round(float(m), 3)) for t, n, m in call_types],
        ai_features=features,
        quality=quality,
        quality_by_connection=by_connection,
        top_users=top,
    )


def _calls_members_usage(
    db: Session, organization_id: int, period: Period, span: Span, use_rollups: bool
) -> tuple[list[Any], int, list[FeatureUsage]]:
    """The overview's three quick aggregations, kept together on one connection."""
    calls = source(db, CALLS, organization_id, span)
    call_types = db.execute(
        select(calls.c.call_type, count_of(calls.c.calls), func.sum(calls.c.seconds) / 60.0)
        .group_by(calls.c.call_type)
        .order_by(calls.c.call_type)
    ).all()
    members = db.execute(
        select(func.count()).select_from(Membership).where(col(Membership.organization_id) == organization_id)
    ).scalar_one()
    return list(call_types), int(members), feature_usage(db, organization_id, period, use_rollups=use_rollups)


def _people(db: Session, organization_id: int, span: Span) -> tuple[int, list[TopUser]]:
    """How many people joined, and the ones with the most minutes: one aggregation for both."""
    people = source(db, PARTICIPANTS, organization_id, span)
    minutes = (func.sum(people.c.seconds) / 60.0).label("minutes")
    per_person = (
        select(people.c.identity, count_of(people.c.calls).label("calls"), minutes)
        .group_by(people.c.identity)
        .subquery("per_person")
    )
    rows = db.execute(
        select(per_person, func.count().over().label("people"))
        .order_by(per_person.c.minutes.desc(), per_person.c.identity)
        .limit(TOP_USERS)
    ).all()
    top = [TopUser(participant=i, calls=int(n), minutes=round(float(m), 3)) for i, n, m, _ in rows]
    return (int(rows[0][3]) if rows else 0), top


def quality_report(
    db: Session,
    organization_id: int,
    period: Period,
    call_id: int | None,
    participant: str | None,
    *,
    use_rollups: bool = True,
) -> QualityReport:
    """Rollups answer a report for everyone or for one participant; one call's report reads its raw samples
    (they are indexed by call)."""
    span = period_span(period, use_rollups)
    by_call = [] if call_id is None else [col(Q.call_id) == call_id]
    people = source(db, QUALITY_BY_PARTICIPANT, organization_id, span, by_call)
    busiest = select(people.c.participant, *quality_sums(people))
    if participant is not None:
        busiest = busiest.where(people.c.participant == participant)
    by_participant = db.execute(
        busiest.group_by(people.c.participant)
        .order_by(func.sum(people.c.samples).desc(), people.c.participant)
        .limit(BUSIEST_PARTICIPANTS)
    ).all()
    raw_only = by_call + ([] if participant is None else [col(Q.participant) == participant])
    summary, by_connection = quality_by_connection(db, organization_id, span, raw_only)
    return QualityReport(
        period=period,
        call_id=call_id,
        participant=participant,
        summary=summary,
        by_connection=by_connection,
        by_participant=[ParticipantQuality(participant=row[0], **from_sums([row[1:]])) for row in by_participant],
    )


def usage_summary(db: Session, organization_id: int, period: Period, *, use_rollups: bool = True) -> UsageSummary:
    s = source(db, USAGE, organization_id, period_span(period, use_rollups))
    rows = db.execute(
        select(
            s.c.provider,
            s.c.feature,
            s.c.metric,
            func.sum(s.c.quantity),
            count_of(s.c.events),
            func.sum(cost_of(s.c.metric, s.c.quantity)),
        )
        .group_by(s.c.provider, s.c.feature, s.c.metric)
        .order_by(s.c.provider, s.c.feature, s.c.metric)
    ).all()
    by_provider = [
        ProviderUsage(provider=p, feature=f, metric=m, quantity=q or 0, events=n, cost_usd=round(c or 0, 6))
        for p, f, m, q, n, c in rows
    ]
    return UsageSummary(
        period=period,
        events=sum(p.events for p in by_provider),
        cost_usd=round(sum(p.cost_usd for p in by_provider), 6),
        by_feature=_per_feature(rows),
        by_provider=by_provider,
    )


def _per_feature(per_provider: Sequence[Any]) -> list[FeatureUsage]:
    """``feature_usage`` summed from the per-provider rows already at hand (one query fewer)."""
    sums: dict[tuple[str, str], list[float]] = {}
    for _provider, feature, metric, quantity, events, cost in per_provider:
        total = sums.setdefault((feature, metric), [0.0, 0, 0.0])
        total[0] += quantity or 0
        total[1] += events
        total[2] += cost or 0
    return [
        FeatureUsage(feature=f, metric=m, quantity=q, events=int(n), cost_usd=round(c, 6))
        for (f, m), (q, n, c) in sorted(sums.items())
    ]


def usage_timeline(
    db: Session, organization_id: int, period: Period, granularity: Granularity, *, use_rollups: bool = True
) -> UsageTimeline:
    """Days, weeks and months are whole hours, so an hour's rollup falls in the bucket of its start."""
    s = source(db, USAGE, organization_id, period_span(period, use_rollups))
    start = bucket(s.c.hour, granularity, db.get_bind().dialect.name).label("start")
    rows = db.execute(
        select(start, s.c.metric, func.sum(s.c.quantity), func.sum(cost_of(s.c.metric, s.c.quantity)))
        .group_by(start, s.c.metric)
        .order_by(start, s.c.metric)
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
