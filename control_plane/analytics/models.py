"""Cost-optimisation insights and saved custom reports."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from control_plane.db.types import UTCDateTime, utcnow


class Insight(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("organization_id", "fingerprint"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=50)
    fingerprint: str = Field(max_length=200)
    """What makes two findings the same one, so the job never raises a finding twice."""
    title: str = Field(max_length=300)
    detail: str = Field(max_length=2000)
    estimated_monthly_savings: float = 0.0
    status: str = Field(default="open", max_length=16)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Report(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=200)
    definition: dict[str, Any] = Field(sa_type=JSON)
    created_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
