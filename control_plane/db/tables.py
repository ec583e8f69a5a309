"""Every table, imported in one place so ``SQLModel.metadata`` is complete (for Alembic and tests)."""

from sqlmodel import SQLModel

from control_plane.agents.models import Agent
from control_plane.analytics.models import Insight, Report
from control_plane.api_keys.models import ApiKey
from control_plane.audit.models import AuditEntry
from control_plane.auth.models import UserSession
from control_plane.billing.models import Invoice, OverageCharge, StripeEvent, Subscription
from control_plane.compliance.models import AuditRedaction, ComplianceRequest, LegalHold, RetentionPolicy
from control_plane.organizations.models import Invitation, Membership, Organization
from control_plane.provider_keys.models import ProviderKey
from control_plane.secrets.models import SecretKey, SecretVersion
from control_plane.telemetry.models import Call, CallEventRecord, CallParticipant, QualitySampleRecord, UsageRecord
from control_plane.telemetry.rollups import (
    CallRollup,
    ParticipantDayRollup,
    ParticipantRollup,
    ParticipantWeekRollup,
    QualityParticipantDayRollup,
    QualityParticipantRollup,
    QualityParticipantWeekRollup,
    QualityRollup,
    UsageRollup,
)
from control_plane.users.models import User

metadata = SQLModel.metadata

__all__ = [
    "Agent",
    "ApiKey",
    "AuditEntry",
    "AuditRedaction",
    "Call",
    "CallEventRecord",
    "CallParticipant",
    "CallRollup",
    "ComplianceRequest",
    "Insight",
    "Invitation",
    "Invoice",
    "LegalHold",
    "Membership",
    "Organization",
    "OverageCharge",
    "ParticipantDayRollup",
    "ParticipantRollup",
    "ParticipantWeekRollup",
    "ProviderKey",
    "QualityParticipantDayRollup",
    "QualityParticipantRollup",
    "QualityParticipantWeekRollup",
    "QualityRollup",
    "QualitySampleRecord",
    "Report",
    "RetentionPolicy",
    "SecretKey",
    "SecretVersion",
    "StripeEvent",
    "Subscription",
    "UsageRecord",
    "UsageRollup",
    "User",
    "UserSession",
    "metadata",
]
