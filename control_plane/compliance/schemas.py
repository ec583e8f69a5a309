from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, Self

from pydantic import Field, StringConstraints, field_validator, model_validator

from control_plane.compliance.models import ExportFormat, ResourceType
from control_plane.schemas import DbId, Email, Input, Name, Output, Text

Identity = Annotated[Text, Field(min_length=1, max_length=200)]
Reason = Annotated[Text, StringConstraints(strip_whitespace=True, max_length=500)]
RetentionDays = Annotated[int, Field(ge=1, le=36500, description="days a row is kept (1 to 36,500)")]
_RESOURCE_TYPES = ", ".join(t.value for t in ResourceType)


class ExportCreate(Input):
    scope: Literal["organization", "user"] = "organization"
    user_id: DbId | None = None
    """The member whose data to export (``scope`` ``user``)."""
    participant_identities: list[Identity] = Field(default_factory=list, max_length=50)
    """Identity strings the member joined calls under, beyond their e-mail and user id."""
    format: ExportFormat = ExportFormat.JSON

    @model_validator(mode="after")
    def _user_for_user_scope(self) -> Self:
        if self.scope == "user" and self.user_id is None:
            raise ValueError("a user export needs user_id")
        if self.scope == "organization" and (self.user_id is not None or self.participant_identities):
            raise ValueError("user_id and participant_identities belong to a user export (scope 'user')")
        return self


class SelfExportCreate(Input):
    format: ExportFormat = ExportFormat.JSON


class ErasureCreate(Input):
    """Whom to erase: a member (or former member) by ``user_id`` or ``email``, and/or call identities."""

    user_id: DbId | None = None
    email: Email | None = None
    participant_identities: list[Identity] = Field(default_factory=list, max_length=50)
    """Identity strings the person joined calls under, beyond their e-mail and user id."""

    @model_validator(mode="after")
    def _someone(self) -> Self:
        if self.user_id is None and self.email is None and not self.participant_identities:
            raise ValueError("name the person: user_id, email or participant_identities")
        return self


class SelfErasureCreate(Input):
    password: str
    """The account's password, to confirm."""


class RequestRead(Output):
    id: int
    organization_id: int | None
    kind: str
    scope: str
    export_format: str
    status: str
    subject_user_id: int | None
    subject_email: str
    subject_identities: list[str]
    requested_by: int | None
    error: str
    summary: dict[str, int]
    file_bytes: int
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    expires_at: dt.datetime | None
    download_url: str | None = None


class _PolicyFields(Input):
    @field_validator("resource_type", check_fields=False)
    @classmethod
    def _known_type(cls, value: str | None) -> str | None:
        if value is None or value in ResourceType.__members__.values():
            return value
        if value == "audit_entries":
            raise ValueError("the audit trail is append-only: no retention policy deletes it (see docs/compliance.md)")
        raise ValueError(f"unknown resource type {value!r}; one of: {_RESOURCE_TYPES}")


class RetentionPolicyCreate(_PolicyFields):
    resource_type: str = Field(max_length=32, description=f"one of: {_RESOURCE_TYPES}")
    retention_days: RetentionDays
    legal_hold: bool = False
    hold_reason: Reason = ""


class RetentionPolicyUpdate(Input):
    retention_days: RetentionDays | None = None
    legal_hold: bool | None = None
    hold_reason: Reason | None = None


class RetentionPolicyRead(Output):
    id: int
    organization_id: int
    resource_type: str
    retention_days: int
    legal_hold: bool
    hold_reason: str
    created_at: dt.datetime
    updated_at: dt.datetime


class LegalHoldCreate(Input):
    user_id: DbId | None = None
    """A member to hold; unset holds the whole organisation."""
    reason: Name


class LegalHoldRead(Output):
    id: int
    organization_id: int
    user_id: int | None
    reason: str
    created_by: int | None
    created_at: dt.datetime
    released_at: dt.datetime | None
