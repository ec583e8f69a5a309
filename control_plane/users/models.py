"""People who sign in."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Field, SQLModel

from control_plane.db.types import UTCDateTime, utcnow


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True)
    """Stored lower-cased, so sign-in is case-insensitive."""
    name: str = Field(max_length=200)
    password_hash: str = Field(max_length=200)
    is_active: bool = True
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
