"""Organisations, their members and pending invitations."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from control_plane.db.types import UTCDateTime, utcnow


class Organization(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    plan: str = Field(default="free", max_length=32)
    max_members: int = 5
    max_agents: int = 3
    monthly_minutes: int = 1000
    """Call minutes included each month."""
    monthly_spend_alert: float = 100.0
    """Spend (USD) over 30 days past which the insights job raises an alert."""
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Membership(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("organization_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    role: str = Field(max_length=32)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Invitation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True, ondelete="CASCADE")
    email: str = Field(max_length=320)
    role: str = Field(max_length=32)
    token_hash: str = Field(max_length=64, unique=True)
    invited_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    expires_at: dt.datetime = Field(sa_type=UTCDateTime)
    accepted_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
