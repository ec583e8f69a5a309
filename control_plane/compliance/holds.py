"""What stops an erasure: legal holds (on an organisation, on a person, or on a retention policy)
and an organisation that would lose its last owner."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, or_, select

from control_plane.auth.permissions import Role
from control_plane.compliance.models import LegalHold, RetentionPolicy
from control_plane.compliance.subjects import memberships
from control_plane.domain_errors import Conflict
from control_plane.organizations.models import Membership


class ErasureRefused(Conflict):
    """The erasure may not happen now (a conflict: 409); the message says why."""


def check_erasable(db: Session, organization_ids: Iterable[int], user_id: int | None) -> None:
    """Raise :class:`ErasureRefused` with the reason if a hold or the last-owner rule forbids the erasure."""
    for organization_id in sorted(set(organization_ids)):
        reason = hold_reason(db, organization_id, user_id)
        if reason:
            raise ErasureRefused(f"erasure refused: {reason}")
        if user_id is not None and _last_owner(db, organization_id, user_id):
            raise ErasureRefused(
                f"erasure refused: user {user_id} is the last owner of organisation {organization_id}; "
                "make someone else owner first"
            )


def hold_reason(db: Session, organization_id: int, user_id: int | None) -> str | None:
    """Why the organisation's (or the person's) data is under legal hold, or ``None``."""
    return organization_hold(db, organization_id, user_id) or policy_hold(db, organization_id)


def organization_hold(db: Session, organization_id: int, user_id: int | None) -> str | None:
    """An active legal hold on the whole organisation (or, with ``user_id``, on that person in it)."""
    holds = select(LegalHold).where(LegalHold.organization_id == organization_id, col(LegalHold.released_at).is_(None))
    people = (
        col(LegalHold.user_id).is_(None)
        if user_id is None
        else or_(col(LegalHold.user_id).is_(None), LegalHold.user_id == user_id)
    )
    hold = db.exec(holds.where(people).order_by(col(LegalHold.id))).first()
    if hold is None:
        return None
    whom = "organisation" if hold.user_id is None else f"user {hold.user_id} in organisation"
    return f"{whom} {organization_id} is under legal hold {hold.id}: {hold.reason}"


def policy_hold(db: Session, organization_id: int) -> str | None:
    """A retention policy of the organisation that is under legal hold."""
    policy = db.exec(
        select(RetentionPolicy)
        .where(RetentionPolicy.organization_id == organization_id, col(RetentionPolicy.legal_hold).is_(True))
        .order_by(col(RetentionPolicy.id))
    ).first()
    if policy is None:
        return None
    reason = f": {policy.hold_reason}" if policy.hold_reason else ""
    return (
        f"the retention policy for {policy.resource_type} of organisation {organization_id} is under legal hold{reason}"
    )


def _last_owner(db: Session, organization_id: int, user_id: int) -> bool:
    owners = db.exec(
        select(Membership.user_id).where(Membership.organization_id == organization_id, Membership.role == Role.OWNER)
    ).all()
    return list(owners) == [user_id]


def memberships_of(db: Session, user_id: int) -> list[int]:
    """The organisations the user belongs to."""
    return memberships(db, user_id)
