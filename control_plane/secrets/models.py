"""The local keystore's tables: key-encryption keys per scope, and every version of every secret.

Only ciphertexts are stored: a KEK wrapped by the master key, a data key wrapped by a KEK, a value sealed
by its data key. Being in the control-plane database, they are the same for every replica.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from control_plane.db.types import UTCDateTime, utcnow


class SecretKey(SQLModel, table=True):
    """One version of a scope's key-encryption key, wrapped by the master key."""

    __tablename__ = "secret_key"
    __table_args__ = (UniqueConstraint("scope", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=100)
    version: int
    wrapped_key: bytes = Field(sa_type=LargeBinary)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SecretVersion(SQLModel, table=True):
    """One version of one secret: its data key (wrapped by KEK ``key_version``) and its sealed value."""

    __tablename__ = "secret_version"
    __table_args__ = (UniqueConstraint("scope", "path", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=100)
    path: str = Field(max_length=500)
    version: int
    key_version: int
    wrapped_data_key: bytes | None = Field(default=None, sa_type=LargeBinary)
    ciphertext: bytes | None = Field(default=None, sa_type=LargeBinary)
    """Both ``None`` once destroyed."""
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    destroyed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
