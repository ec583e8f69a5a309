"""API keys for machines: hashed, shown once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from control_plane.db.types import UTCDateTime, utcnow


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=200)
    prefix: str = Field(max_length=16, unique=True)
    """The public part of the key, shown in lists so a person can tell keys apart."""
    key_hash: str = Field(max_length=64)
    scopes: list[str] = Field(default_factory=list, sa_type=JSON)
    requests_per_minute: int
    created_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
