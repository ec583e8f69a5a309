"""Compliance requests (export, erasure), retention policies, legal holds and audit-redaction markers."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from control_plane.db.types import UTCDateTime, utcnow


class RequestKind(enum.StrEnum):
    EXPORT = "export"
    ERASURE = "erasure"


class RequestStatus(enum.StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ExportFormat(enum.StrEnum):
    JSON = "json"
    CSV = "csv"


class ResourceType(enum.StrEnum):
    """What a retention policy can cover."""

    CALLS = "calls"
    CALL_EVENTS = "call_events"
    QUALITY_SAMPLES = "quality_samples"
    USAGE_EVENTS = "usage_events"
    SESSIONS = "sessions"
    INVITATIONS = "invitations"
    EXPORTS = "exports"


class ComplianceRequest(SQLModel, table=True):
    """One export or erasure, run as a job: pending → processing → completed | failed | cancelled."""

    __tablename__ = "compliance_request"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int | None = Field(default=None, foreign_key="organization.id", index=True, ondelete="CASCADE")
    """The organisation it acts in; ``None`` for a user's own request about themselves (every organisation)."""
    kind: str = Field(max_length=16)
    scope: str = Field(max_length=16)
    """``user`` (one person) or ``organization`` (everything the organisation holds; exports only)."""
    export_format: str = Field(default="", max_length=8)
    status: str = Field(default=RequestStatus.PENDING, max_length=16, index=True)
    subject_user_id: int | None = None
    """No foreign key: the request outlives, and records, the erasure of its subject."""
    subject_email: str = Field(default="", max_length=320)
    subject_identities: list[str] = Field(default_factory=list, sa_type=JSON)
    """Call-participant identity strings that name the subject."""
    requested_by: int | None = None
    error: str = Field(default="", max_length=2000)
    summary: dict[str, int] = Field(default_factory=dict, sa_type=JSON)
    """Rows exported or erased per table."""
    file_path: str = Field(default="", max_length=500)
    file_key: str = Field(default="", max_length=1000)
    """The export file's data key, wrapped by the secret store (the file is encrypted at rest)."""
    file_bytes: int = 0
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When an export's download link stops working (and its file is deleted)."""


class RetentionPolicy(SQLModel, table=True):
    __tablename__ = "retention_policy"
    __table_args__ = (UniqueConstraint("organization_id", "resource_type"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True, ondelete="CASCADE")
    resource_type: str = Field(max_length=32)
    retention_days: int
    legal_hold: bool = False
    hold_reason: str = Field(default="", max_length=500)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LegalHold(SQLModel, table=True):
    """A hold on a whole organisation (``user_id`` unset) or on one person in it: no erasure, no retention."""

    __tablename__ = "legal_hold"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True, ondelete="CASCADE")
    user_id: int | None = None
    reason: str = Field(max_length=500)
    created_by: int | None = None
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    released_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuditRedaction(SQLModel, table=True):
    """Permits the pseudonymisation of one audit entry's identity columns (the database trigger checks it)."""

    __tablename__ = "audit_redaction"

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(index=True)
    request_id: int
    """The erasure request that redacted the entry."""
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
