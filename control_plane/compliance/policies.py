"""Retention policies and legal holds: create, list, change, delete or release, each audited."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from control_plane.audit.service import record, snapshot
from control_plane.compliance.models import LegalHold, RetentionPolicy
from control_plane.compliance.schemas import LegalHoldCreate, RetentionPolicyCreate, RetentionPolicyUpdate
from control_plane.db.types import utcnow
from control_plane.domain_errors import Conflict, NotFound
from control_plane.organizations.models import Membership
from control_plane.principals import Tenant
from control_plane.tenancy import owned


def create_policy(db: Session, tenant: Tenant, data: RetentionPolicyCreate) -> RetentionPolicy:
    existing = db.exec(
        select(RetentionPolicy).where(
            RetentionPolicy.organization_id == tenant.organization_id,
            RetentionPolicy.resource_type == data.resource_type,
        )
    ).first()
    if existing is not None:
        raise Conflict(
            f"organisation {tenant.organization_id} already has retention policy {existing.id} for "
            f"{data.resource_type}: change that one (PATCH)"
        )
    policy = RetentionPolicy(organization_id=tenant.organization_id, **data.model_dump())
    db.add(policy)
    db.flush()
    record(db, tenant.audit, tenant.organization_id, "compliance.retention.create", policy, after=snapshot(policy))
    db.commit()
    return policy


def policies(db: Session, organization_id: int) -> Sequence[RetentionPolicy]:
    query = select(RetentionPolicy).where(RetentionPolicy.organization_id == organization_id)
    return db.exec(query.order_by(col(RetentionPolicy.resource_type))).all()


def update_policy(db: Session, tenant: Tenant, policy_id: int, data: RetentionPolicyUpdate) -> RetentionPolicy:
    policy = owned(db, RetentionPolicy, policy_id, tenant.organization_id, "retention policy")
    before = snapshot(policy)
    for name, value in data.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(policy, name, value)
    policy.updated_at = utcnow()
    db.add(policy)
    record(
        db,
        tenant.audit,
        tenant.organization_id,
        "compliance.retention.update",
        policy,
        before=before,
        after=snapshot(policy),
    )
    db.commit()
    return policy


def delete_policy(db: Session, tenant: Tenant, policy_id: int) -> None:
    policy = owned(db, RetentionPolicy, policy_id, tenant.organization_id, "retention policy")
    record(db, tenant.audit, tenant.organization_id, "compliance.retention.delete", policy, before=snapshot(policy))
    db.delete(policy)
    db.commit()


def place_hold(db: Session, tenant: Tenant, data: LegalHoldCreate) -> LegalHold:
    if data.user_id is not None:
        member = db.exec(
            select(Membership).where(
                Membership.organization_id == tenant.organization_id, Membership.user_id == data.user_id
            )
        ).first()
        if member is None:
            raise NotFound(f"user {data.user_id} is not a member of organisation {tenant.organization_id}")
    hold = LegalHold(
        organization_id=tenant.organization_id,
        user_id=data.user_id,
        reason=data.reason,
        created_by=tenant.principal.user_id,
    )
    db.add(hold)
    db.flush()
    record(db, tenant.audit, tenant.organization_id, "compliance.hold.place", hold, after=snapshot(hold))
    db.commit()
    return hold


def holds(db: Session, organization_id: int) -> Sequence[LegalHold]:
    return db.exec(
        select(LegalHold).where(LegalHold.organization_id == organization_id).order_by(col(LegalHold.id))
    ).all()


def release_hold(db: Session, tenant: Tenant, hold_id: int) -> LegalHold:
    hold = owned(db, LegalHold, hold_id, tenant.organization_id, "legal hold")
    if hold.released_at is not None:
        raise Conflict(f"legal hold {hold_id} was already released")
    before = snapshot(hold)
    hold.released_at = utcnow()
    db.add(hold)
    record(
        db, tenant.audit, tenant.organization_id, "compliance.hold.release", hold, before=before, after=snapshot(hold)
    )
    db.commit()
    return hold
