"""What engines report: calls and their participants, raw lifecycle events, quality samples, usage.

Times are Unix seconds (``float``), as the engine measures them. Every raw record is
unique per organisation by its idempotency key, so a replay never counts anything twice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from control_plane.db.types import BigId


class Call(SQLModel, table=True):
    """One session of a room: from its first event to ``room-closed``."""

    __table_args__ = (
        Index("ix_call_org_started", "organization_id", "started_at"),
        Index("ix_call_org_room", "organization_id", "room"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True, autoincrement=True))
    organization_id: int = Field(foreign_key="organization.id", ondelete="CASCADE")
    room: str = Field(max_length=200)
    call_type: str = Field(default="audio", max_length=32)
    started_at: float
    ended_at: float | None = None
    peak_participants: int = 0


class CallParticipant(SQLModel, table=True):
    __tablename__ = "call_participant"
    __table_args__ = (
        Index("ix_call_participant_call", "call_id", "identity"),
        Index("ix_call_participant_org_joined", "organization_id", "joined_at"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True, autoincrement=True))
    organization_id: int = Field(foreign_key="organization.id", ondelete="CASCADE")
    call_id: int
    identity: str = Field(max_length=200)
    joined_at: float
    left_at: float | None = None


class CallEventRecord(SQLModel, table=True):
    __tablename__ = "call_event"
    __table_args__ = (UniqueConstraint("organization_id", "idempotency_key"),)

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True, autoincrement=True))
    organization_id: int = Field(foreign_key="organization.id", ondelete="CASCADE")
    idempotency_key: str = Field(max_length=64)
    type: str = Field(max_length=32)
    room: str = Field(max_length=200)
    participant: str | None = Field(default=None, max_length=200)
    at: float
    attributes: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class QualitySampleRecord(SQLModel, table=True):
    """``call_id`` has no foreign key on purpose: samples arrive by the million and are loaded in bulk."""

    __tablename__ = "quality_sample"
    __table_args__ = (
        UniqueConstraint("organization_id", "idempotency_key"),
        Index("ix_quality_sample_org_at", "organization_id", "at"),
        Index("ix_quality_sample_call", "call_id"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True, autoincrement=True))
    organization_id: int
    call_id: int | None = None
    idempotency_key: str = Field(max_length=64)
    participant: str = Field(max_length=200)
    media: str = Field(max_length=8)
    direction: str = Field(max_length=8)
    connection_type: str = Field(max_length=32)
    jitter_ms: float
    packets_lost: int
    loss_fraction: float
    rtt_ms: float | None = None
    bitrate_kbps: float
    mos: float
    frames_per_second: float = 0.0
    at: float


class UsageRecord(SQLModel, table=True):
    __tablename__ = "usage_event"
    __table_args__ = (
        UniqueConstraint("organization_id", "idempotency_key"),
        Index("ix_usage_event_org_at", "organization_id", "at"),
        Index("ix_usage_event_call", "call_id"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True, autoincrement=True))
    organization_id: int = Field(foreign_key="organization.id", ondelete="CASCADE")
    call_id: int | None = None
    idempotency_key: str = Field(max_length=64)
    metric: str = Field(max_length=32)
    quantity: float
    participant: str | None = Field(default=None, max_length=200)
    feature: str = Field(default="", max_length=50)
    provider: str = Field(default="", max_length=100)
    at: float
