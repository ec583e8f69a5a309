"""Organisations, plans and limits, members and invitations; every change audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlmodel import Session, col, func, select

from control_plane.audit.service import record, snapshot
from control_plane.auth.permissions import Role, can_grant
from control_plane.billing.plans import CATALOGUE, PlanName, PlanTerms
from control_plane.db.types import utcnow
from control_plane.domain_errors import Conflict, Forbidden, InvalidInput, NotFound
from control_plane.organizations.models import Invitation, Membership, Organization
from control_plane.organizations.schemas import (
    InvitationCreate,
    InvitationCreated,
    InvitationRead,
    LimitsUpdate,
    MemberRead,
    OrganizationCreate,
    OrganizationUpdate,
)
from control_plane.principals import AuditContext, Tenant
from control_plane.tenancy import owned
from control_plane.tokens import digest, new_secret
from control_plane.users.models import User

INVITATION_TTL = dt.timedelta(days=7)
PLAN_SEATS: dict[str, dict[str, int]] = {
    PlanName.FREE: {"max_members": 5, "max_agents": 3},
    PlanName.PRO: {"max_members": 50, "max_agents": 25},
    PlanName.ENTERPRISE: {"max_members": 10_000, "max_agents": 1_000},
    PlanName.CUSTOM: {"max_members": 10_000, "max_agents": 1_000},
}
"""The most members and agents each plan allows (its included minutes are in the billing catalogue)."""


def create(db: Session, data: OrganizationCreate, user_id: int, context: AuditContext) -> Organization:
    organization = Organization(name=data.name)
    apply_plan(organization, CATALOGUE[PlanName.FREE])
    db.add(organization)
    db.flush()
    assert organization.id is not None
    db.add(Membership(organization_id=organization.id, user_id=user_id, role=Role.OWNER))
    record(db, context, organization.id, "organization.create", organization, after=snapshot(organization))
    db.commit()
    return organization


def get(db: Session, organization_id: int) -> Organization:
    organization = db.get(Organization, organization_id)
    if organization is None:
        raise NotFound(f"organisation {organization_id} not found")
    return organization


def of_user(db: Session, user_id: int) -> Sequence[Organization]:
    query = select(Organization).join(Membership).where(Membership.user_id == user_id).order_by(col(Organization.id))
    return db.exec(query).all()


def rename(db: Session, tenant: Tenant, data: OrganizationUpdate) -> Organization:
    organization = get(db, tenant.organization_id)
    before = snapshot(organization)
    organization.name = data.name
    db.add(organization)
    record(
        db,
        tenant.audit,
        organization.id,
        "organization.update",
        organization,
        before=before,
        after=snapshot(organization),
    )
    db.commit()
    return organization


def apply_plan(organization: Organization, terms: PlanTerms) -> None:
    """Give ``organization`` the plan ``terms`` describe: its name, included minutes and seats."""
    organization.plan = terms.name
    organization.monthly_minutes = terms.included_call_minutes
    for name, most in PLAN_SEATS[terms.name].items():
        setattr(organization, name, most)


def set_limits(db: Session, tenant: Tenant, data: LimitsUpdate) -> Organization:
    organization = get(db, tenant.organization_id)
    before = snapshot(organization)
    seats = PLAN_SEATS[organization.plan]
    for name, most in seats.items():
        chosen = getattr(data, name)
        if chosen is not None and chosen > most:
            raise InvalidInput(
                f"{name} can be at most {most} on the {organization.plan} plan; "
                "a larger plan (PUT /billing/subscription) allows more"
            )
        setattr(organization, name, getattr(organization, name) if chosen is None else chosen)
    if data.monthly_spend_alert is not None:
        organization.monthly_spend_alert = data.monthly_spend_alert
    db.add(organization)
    record(
        db,
        tenant.audit,
        organization.id,
        "organization.limits",
        organization,
        before=before,
        after=snapshot(organization),
    )
    db.commit()
    return organization


def members(db: Session, organization_id: int) -> list[MemberRead]:
    rows = db.exec(
        select(Membership, User)
        .join(User, col(User.id) == Membership.user_id)
        .where(Membership.organization_id == organization_id)
        .order_by(col(Membership.id))
    ).all()
    return [
        MemberRead(user_id=m.user_id, email=u.email, name=u.name, role=Role(m.role), joined_at=m.created_at)
        for m, u in rows
    ]


def find_membership(db: Session, organization_id: int, user_id: int) -> Membership:
    """The user's membership of the organisation; 404 when there is none."""
    found = db.exec(
        select(Membership).where(Membership.organization_id == organization_id, Membership.user_id == user_id)
    ).first()
    if found is None:
        raise NotFound(f"user {user_id} is not a member of organisation {organization_id}")
    return found


def _granter_role(tenant: Tenant) -> Role:
    principal = tenant.principal
    if principal.key_permissions is not None:
        return Role.ADMIN  # an admin-scoped key acts as an admin, never as an owner
    return principal.roles[tenant.organization_id]


def _keep_an_owner(db: Session, membership: Membership) -> None:
    if membership.role != Role.OWNER:
        return
    owners = db.exec(
        select(func.count())
        .select_from(Membership)
        .where(Membership.organization_id == membership.organization_id, Membership.role == Role.OWNER)
    ).one()
    if owners <= 1:
        raise Conflict("an organisation keeps at least one owner: make someone else owner first")


def change_role(db: Session, tenant: Tenant, user_id: int, role: Role) -> MemberRead:
    membership = find_membership(db, tenant.organization_id, user_id)
    granter = _granter_role(tenant)
    if not (can_grant(granter, role) and can_grant(granter, Role(membership.role))):
        raise Forbidden(f"a {granter} cannot change a {membership.role} into a {role}")
    if role != Role.OWNER:
        _keep_an_owner(db, membership)
    before = snapshot(membership)
    membership.role = role
    db.add(membership)
    record(
        db, tenant.audit, tenant.organization_id, "member.role", membership, before=before, after=snapshot(membership)
    )
    db.commit()
    return next(m for m in members(db, tenant.organization_id) if m.user_id == user_id)


def remove_member(db: Session, tenant: Tenant, user_id: int) -> None:
    membership = find_membership(db, tenant.organization_id, user_id)
    if not can_grant(_granter_role(tenant), Role(membership.role)):
        raise Forbidden(f"a {_granter_role(tenant)} cannot remove a {membership.role}")
    _keep_an_owner(db, membership)
    record(db, tenant.audit, tenant.organization_id, "member.remove", membership, before=snapshot(membership))
    db.delete(membership)
    db.commit()


def invite(db: Session, tenant: Tenant, data: InvitationCreate) -> InvitationCreated:
    organization = get(db, tenant.organization_id)
    if not can_grant(_granter_role(tenant), data.role):
        raise Forbidden(f"a {_granter_role(tenant)} cannot invite a {data.role}")
    if len(members(db, tenant.organization_id)) >= organization.max_members:
        raise Conflict(f"the {organization.plan} plan allows {organization.max_members} members")
    token = new_secret()
    invitation = Invitation(
        organization_id=tenant.organization_id,
        email=data.email,
        role=data.role,
        token_hash=digest(token),
        invited_by=tenant.principal.user_id,
        expires_at=utcnow() + INVITATION_TTL,
    )
    db.add(invitation)
    db.flush()
    record(db, tenant.audit, tenant.organization_id, "invitation.create", invitation, after=snapshot(invitation))
    db.commit()
    return InvitationCreated(**InvitationRead.model_validate(invitation).model_dump(), token=token)


def invitations(db: Session, organization_id: int) -> Sequence[Invitation]:
    query = select(Invitation).where(Invitation.organization_id == organization_id).order_by(col(Invitation.id).desc())
    return db.exec(query).all()


def revoke_invitation(db: Session, tenant: Tenant, invitation_id: int) -> None:
    invitation = owned(db, Invitation, invitation_id, tenant.organization_id, "invitation")
    before = snapshot(invitation)
    invitation.revoked_at = invitation.revoked_at or utcnow()
    db.add(invitation)
    record(
        db,
        tenant.audit,
        tenant.organization_id,
        "invitation.revoke",
        invitation,
        before=before,
        after=snapshot(invitation),
    )
    db.commit()


def accept(db: Session, token: str, user_id: int, context: AuditContext) -> Membership:
    invitation = db.exec(select(Invitation).where(Invitation.token_hash == digest(token))).first()
    user = db.get(User, user_id)
    if invitation is None or user is None:
        raise NotFound("no such invitation")
    if invitation.accepted_at or invitation.revoked_at or invitation.expires_at <= utcnow():
        raise Conflict("this invitation was already used, revoked or has expired")
    if invitation.email != user.email:
        raise Forbidden(f"this invitation is for {invitation.email}: sign in as that user")
    if db.exec(
        select(Membership).where(
            Membership.organization_id == invitation.organization_id, Membership.user_id == user_id
        )
    ).first():
        raise Conflict("you are already a member of this organisation")
    invitation.accepted_at = utcnow()
    membership = Membership(organization_id=invitation.organization_id, user_id=user_id, role=invitation.role)
    db.add_all([invitation, membership])
    db.flush()
    record(db, context, invitation.organization_id, "invitation.accept", membership, after=snapshot(membership))
    db.commit()
    return membership
