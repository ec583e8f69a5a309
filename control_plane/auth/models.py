"""Login sessions behind the UI's cookie."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Field, SQLModel

from control_plane.db.types import UTCDateTime, utcnow


class UserSession(SQLModel, table=True):
    __tablename__ = "user_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    """SHA-256 of the cookie value; the value itself is never stored."""
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    organization_id: int | None = Field(default=None, foreign_key="organization.id", ondelete="SET NULL")
    """The organisation the session acts in."""
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=500)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: dt.datetime = Field(sa_type=UTCDateTime)
