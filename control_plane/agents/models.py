"""AI agents: a pipeline an engine runs as a participant in a room."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from control_plane.db.types import UTCDateTime, utcnow


class Agent(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=100)
    pipeline: str = Field(sa_type=Text)
    """The pipeline file (YAML), validated before it is stored."""
    languages: list[str] = Field(default_factory=list, sa_type=JSON)
    settings: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
