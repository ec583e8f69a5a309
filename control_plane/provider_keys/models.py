"""Provider keys: metadata and the masked form here, the key itself only in the secret store."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from control_plane.db.types import UTCDateTime, utcnow


class ProviderKey(SQLModel, table=True):
    __tablename__ = "provider_key"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True, ondelete="CASCADE")
    provider: str = Field(max_length=32)
    name: str = Field(max_length=200)
    masked: str = Field(max_length=40)
    """What people see of the key, e.g. ``sk-…a1b2``."""
    secret_ref: str = Field(max_length=100, unique=True)
    """The key's path in the secret store (within the organisation's scope)."""
    backend: str = Field(max_length=16)
    """The secret backend that holds it (``local`` or ``vault``)."""
    version: int
    """The secret store's version of the current key (rotation adds one)."""
    created_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    rotated_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
