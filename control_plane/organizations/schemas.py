from __future__ import annotations

import datetime as dt

from pydantic import Field

from control_plane.auth.permissions import Role
from control_plane.schemas import Email, Input, Name, Output


class OrganizationCreate(Input):
    name: Name


class OrganizationUpdate(Input):
    name: Name


class LimitsUpdate(Input):
    """Limits an organisation sets itself, up to its plan's (the plan itself changes through ``/billing``)."""

    max_members: int | None = Field(None, ge=1, le=100_000)
    max_agents: int | None = Field(None, ge=0, le=10_000)
    monthly_spend_alert: float | None = Field(None, ge=0, le=1e9)


class OrganizationRead(Output):
    id: int
    name: str
    plan: str
    max_members: int
    max_agents: int
    monthly_minutes: int
    monthly_spend_alert: float
    created_at: dt.datetime


class MemberRead(Output):
    user_id: int
    email: str
    name: str
    role: Role
    joined_at: dt.datetime


class RoleChange(Input):
    role: Role


class InvitationCreate(Input):
    email: Email
    role: Role = Role.MEMBER


class InvitationRead(Output):
    id: int
    organization_id: int
    email: str
    role: str
    expires_at: dt.datetime
    accepted_at: dt.datetime | None
    revoked_at: dt.datetime | None
    created_at: dt.datetime


class InvitationCreated(InvitationRead):
    token: str
    """Shown once: the invitee accepts with it (POST /invitations/accept)."""


class InvitationAccept(Input):
    token: str = Field(min_length=1, max_length=200)
