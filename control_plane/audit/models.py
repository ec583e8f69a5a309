"""The audit log: append-only (the migration adds triggers that refuse UPDATE and DELETE)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from control_plane.db.types import UTCDateTime, utcnow


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_org_time", "organization_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int | None = Field(default=None)
    """No foreign key: the trail outlives what it describes."""
    actor_user_id: int | None = None
    actor_api_key_id: int | None = None
    action: str = Field(max_length=100)
    resource_type: str = Field(max_length=50)
    resource_id: str = Field(default="", max_length=100)
    before: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=500)
    request_id: str = Field(default="", max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
