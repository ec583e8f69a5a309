"""Enforcing retention policies: rows older than a policy's days are deleted, unless held.

A policy under legal hold, or an organisation under a (whole-organisation) legal hold, deletes nothing.
The audit trail is append-only and is never deleted by retention (see docs/compliance.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import ColumnElement, delete, or_
from sqlmodel import Session, col, select

from control_plane.audit.service import record
from control_plane.auth.models import UserSession
from control_plane.compliance import exports
from control_plane.compliance.holds import organization_hold
from control_plane.compliance.models import ComplianceRequest, RequestKind, ResourceType, RetentionPolicy
from control_plane.db.types import utcnow
from control_plane.organizations.models import Invitation
from control_plane.principals import AuditContext
from control_plane.telemetry.models import Call, CallEventRecord, CallParticipant, QualitySampleRecord, UsageRecord

JOB_CONTEXT = AuditContext(None, None, "", "retention job", "")

Deleter = Callable[[Session, int, dt.datetime], int]


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _by_time(model: type, column: str) -> Deleter:
    """Delete ``model`` rows of the organisation whose ``column`` (Unix seconds) is before the cut-off."""

    def deleter(db: Session, organization_id: int, cutoff: dt.datetime) -> int:
        table = model.__table__  # type: ignore[attr-defined]
        statement = delete(table).where(
            table.c.organization_id == organization_id, table.c[column] < cutoff.timestamp()
        )
        return _count(db.execute(statement))

    return deleter


def _calls(db: Session, organization_id: int, cutoff: dt.datetime) -> int:
    """Calls that ended before the cut-off, with their participants."""
    old = select(col(Call.id)).where(
        Call.organization_id == organization_id,
        col(Call.ended_at).is_not(None),
        col(Call.ended_at) < cutoff.timestamp(),
    )
    db.execute(delete(CallParticipant).where(col(CallParticipant.call_id).in_(old)))
    return _count(db.execute(delete(Call).where(col(Call.id).in_(old))))


def _sessions(db: Session, organization_id: int, cutoff: dt.datetime) -> int:
    statement = delete(UserSession).where(
        col(UserSession.organization_id) == organization_id, col(UserSession.expires_at) < cutoff
    )
    return _count(db.execute(statement))


def _invitations(db: Session, organization_id: int, cutoff: dt.datetime) -> int:
    """Invitations created before the cut-off that can no longer be accepted."""
    finished: ColumnElement[bool] = or_(
        col(Invitation.accepted_at).is_not(None),
        col(Invitation.revoked_at).is_not(None),
        col(Invitation.expires_at) < utcnow(),
    )
    statement = delete(Invitation).where(
        col(Invitation.organization_id) == organization_id, col(Invitation.created_at) < cutoff, finished
    )
    return _count(db.execute(statement))


def _exports(db: Session, organization_id: int, cutoff: dt.datetime) -> int:
    """Export files made before the cut-off (the request stays, as the record that it was answered)."""
    old = db.exec(
        select(ComplianceRequest).where(
            ComplianceRequest.organization_id == organization_id,
            ComplianceRequest.kind == RequestKind.EXPORT,
            col(ComplianceRequest.created_at) < cutoff,
            ComplianceRequest.file_path != "",
        )
    ).all()
    for request in old:
        exports.delete_file(request)
        db.add(request)
    return len(old)


DELETERS: dict[ResourceType, Deleter] = {
    ResourceType.CALLS: _calls,
    ResourceType.CALL_EVENTS: _by_time(CallEventRecord, "at"),
    ResourceType.QUALITY_SAMPLES: _by_time(QualitySampleRecord, "at"),
    ResourceType.USAGE_EVENTS: _by_time(UsageRecord, "at"),
    ResourceType.SESSIONS: _sessions,
    ResourceType.INVITATIONS: _invitations,
    ResourceType.EXPORTS: _exports,
}


def enforce(db: Session, policy: RetentionPolicy, now: dt.datetime | None = None) -> int:
    """Apply one policy (committing); returns the rows (or files) deleted, 0 when held."""
    deleter = DELETERS.get(ResourceType(policy.resource_type))
    if deleter is None or policy.legal_hold or organization_hold(db, policy.organization_id, None) is not None:
        return 0
    cutoff = (now or utcnow()) - dt.timedelta(days=policy.retention_days)
    deleted = deleter(db, policy.organization_id, cutoff)
    if deleted:
        after = {"resource_type": policy.resource_type, "deleted": deleted, "cutoff": cutoff.isoformat()}
        record(db, JOB_CONTEXT, policy.organization_id, "compliance.retention.enforce", policy, after=after)
    db.commit()
    return deleted


def enforce_all(db: Session, now: dt.datetime | None = None, *, organization_id: int | None = None) -> int:
    """Apply every policy (of one organisation, or of all); returns the total deleted."""
    query = select(RetentionPolicy).order_by(col(RetentionPolicy.id))
    if organization_id is not None:
        query = query.where(RetentionPolicy.organization_id == organization_id)
    policies = db.exec(query).all()
    return sum(enforce(db, policy, now) for policy in policies)
