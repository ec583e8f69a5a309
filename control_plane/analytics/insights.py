"""Cost-optimisation insights: a job reads each organisation's usage and raises findings once.

Spend, minutes and quality by connection are read from the rollups (:mod:`control_plane.analytics.sources`);
only the per-call bandwidth check reads raw samples, since no rollup keeps calls apart.

Each finding has a fingerprint (its kind and the month or call it is about), so running
the job again never repeats a finding, and a dismissed finding stays dismissed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy import select as select_columns
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from control_plane.analytics.models import Insight
from control_plane.analytics.pricing import BANDWIDTH_PRICE_PER_GB, cost_of
from control_plane.analytics.sources import Span, count_of, source
from control_plane.audit.service import record, snapshot
from control_plane.db.types import columns, utcnow
from control_plane.organizations.models import Organization
from control_plane.principals import Tenant
from control_plane.telemetry.models import QualitySampleRecord, UsageRecord
from control_plane.telemetry.rollups import CALLS, QUALITY, USAGE
from control_plane.tenancy import owned

HIGH_BITRATE_KBPS = 1000.0
AIC_EXPECTED_SAVING = 0.3
"""AIC's adaptive mode typically saves about this share of a call's bytes."""
POOR_MOS = 3.5
WINDOW = dt.timedelta(days=30)


@dataclass(frozen=True)
class Finding:
    kind: str
    fingerprint: str
    title: str
    detail: str
    estimated_monthly_savings: float = 0.0


def findings_for(db: Session, organization: Organization, now: dt.datetime) -> list[Finding]:
    assert organization.id is not None
    since = (now - WINDOW).timestamp()
    month = now.strftime("%Y-%m")
    return [
        *_spend(db, organization, since, month),
        *_minutes_over_plan(db, organization, now, month),
        *_aic_off_on_high_bandwidth(db, organization.id, since, month),
        *_poor_quality(db, organization.id, since, month),
    ]


def _spend(db: Session, organization: Organization, since: float, month: str) -> list[Finding]:
    assert organization.id is not None
    usage = source(db, USAGE, organization.id, Span(since, None))
    spend = db.execute(
        select_columns(func.coalesce(func.sum(cost_of(usage.c.metric, usage.c.quantity)), 0.0))
    ).scalar_one()
    if spend <= organization.monthly_spend_alert:
        return []
    return [
        Finding(
            "spend_over_threshold",
            f"spend:{month}",
            f"Spend over the last 30 days is ${spend:,.2f}",
            f"That is above the alert threshold of ${organization.monthly_spend_alert:,.2f}. "
            "Look at AI usage by feature and provider to see where it goes.",
        )
    ]


def _minutes_over_plan(db: Session, organization: Organization, now: dt.datetime, month: str) -> list[Finding]:
    assert organization.id is not None
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()
    calls = source(db, CALLS, organization.id, Span(month_start, None))
    seconds = db.execute(select_columns(func.coalesce(func.sum(calls.c.seconds), 0.0))).scalar_one()
    minutes = seconds / 60
    if minutes <= organization.monthly_minutes:
        return []
    return [
        Finding(
            "minutes_over_plan",
            f"minutes:{month}",
            f"{minutes:,.0f} call minutes this month, "
            f"over the {organization.plan} plan's {organization.monthly_minutes:,}",
            "A larger plan includes more minutes at a lower rate than overage.",
        )
    ]


def _aic_off_on_high_bandwidth(db: Session, organization_id: int, since: float, month: str) -> list[Finding]:
    q = columns(QualitySampleRecord)
    with_aic = select(UsageRecord.call_id).where(
        UsageRecord.organization_id == organization_id,
        UsageRecord.metric == "aic_bytes_saved",
        col(UsageRecord.at) >= since,
    )
    rows = db.execute(
        select_columns(q.call_id, func.avg(q.bitrate_kbps), func.max(q.at) - func.min(q.at))
        .where(q.organization_id == organization_id, col(q.at) >= since, col(q.call_id).is_not(None))
        .where(col(q.call_id).not_in(with_aic.where(col(UsageRecord.call_id).is_not(None))))
        .group_by(q.call_id)
        .having(func.avg(q.bitrate_kbps) > HIGH_BITRATE_KBPS)
    ).all()
    if not rows:
        return []
    gigabytes = sum(kbps * 1000 / 8 * max(seconds, 0) for _, kbps, seconds in rows) / 1e9
    savings = gigabytes * AIC_EXPECTED_SAVING * BANDWIDTH_PRICE_PER_GB
    return [
        Finding(
            "aic_off_high_bandwidth",
            f"aic-off:{month}",
            f"{len(rows)} high-bandwidth calls ran without AIC",
            f"Calls averaging over {HIGH_BITRATE_KBPS:g} kbit/s sent {gigabytes:,.2f} GB uncompressed. "
            "Turning AIC on (adaptive mode) typically saves about 30% of that.",
            round(savings, 2),
        )
    ]


def _poor_quality(db: Session, organization_id: int, since: float, month: str) -> list[Finding]:
    quality = source(db, QUALITY, organization_id, Span(since, None))
    samples = func.sum(quality.c.samples)
    mos = func.sum(quality.c.mos_sum) / samples
    rows = db.execute(
        select_columns(quality.c.connection_type, mos, count_of(quality.c.samples))
        .group_by(quality.c.connection_type)
        .having(mos < POOR_MOS)
        .order_by(quality.c.connection_type)
    ).all()
    return [
        Finding(
            "poor_quality",
            f"poor-quality:{connection}:{month}",
            f"Calls over {connection} average MOS {mos:.2f}",
            f"{count} samples over the last 30 days; below {POOR_MOS} callers notice. "
            "Check those networks, or let AIC's aggressive mode lower the bitrate there.",
        )
        for connection, mos, count in rows
    ]


def refresh(db: Session, organization: Organization, now: dt.datetime | None = None) -> int:
    """Store new findings for ``organization``; returns how many were new."""
    moment = now or dt.datetime.now(dt.UTC)
    found = findings_for(db, organization, moment)
    if not found:
        return 0
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(Insight)
        .on_conflict_do_nothing(index_elements=["organization_id", "fingerprint"])
        .returning(col(Insight.id))
    )
    rows = [
        {
            "organization_id": organization.id,
            "kind": f.kind,
            "fingerprint": f.fingerprint,
            "title": f.title[:300],
            "detail": f.detail[:2000],
            "estimated_monthly_savings": f.estimated_monthly_savings,
            "status": "open",
            "created_at": moment,
            "updated_at": moment,
        }
        for f in found
    ]
    created = db.connection().execute(statement, rows).all()
    db.commit()
    return len(created)


def refresh_all(db: Session, now: dt.datetime | None = None) -> int:
    return sum(refresh(db, organization, now) for organization in db.exec(select(Organization)).all())


def set_status(db: Session, tenant: Tenant, insight_id: int, status: str) -> Insight:
    """Acknowledge or dismiss one of the organisation's insights (404 for another's); audited."""
    insight = owned(db, Insight, insight_id, tenant.organization_id, "insight")
    before = snapshot(insight)
    insight.status, insight.updated_at = status, utcnow()
    db.add(insight)
    record(
        db, tenant.audit, tenant.organization_id, f"insight.{status}", insight, before=before, after=snapshot(insight)
    )
    db.commit()
    return insight
