"""The registry of personal data: for every table, which columns hold personal data and how erasure treats them.

Adding a table is declarative: :func:`register` a :class:`PersonalTable` naming each text or JSON
column as personal (with its :class:`Treatment`), secret (never exported) or non-personal, the
columns that identify a person (:class:`Identifies`), and what erasure does with a matching row
(:class:`OnErasure`). ``tests/control_plane/test_compliance_registry.py`` fails while any text or
JSON column of ``SQLModel.metadata`` is missing here, so a new table cannot slip past erasure.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, MetaData, String
from sqlalchemy.types import TypeDecorator, TypeEngine


class Treatment(enum.StrEnum):
    PSEUDONYMISE = "pseudonymise"
    """A text column: the value becomes its keyed-hash pseudonym."""
    REDACT_JSON = "redact_json"
    """A JSON column: every string in it that names the person becomes its pseudonym."""
    NULL = "null"
    """The value is cleared (``NULL``, or ``''`` for a column that cannot be ``NULL``)."""


class Identifies(enum.StrEnum):
    """What a column holds that can identify a person."""

    USER_ID = "user_id"
    EMAIL = "email"
    IDENTITY = "identity"
    """A call participant's identity string (an e-mail, a user id, a nickname …)."""


class OnErasure(enum.StrEnum):
    DELETE_ROW = "delete_row"
    """The row is about the person and nothing else: it goes."""
    PSEUDONYMISE = "pseudonymise"
    """The row also feeds aggregates (counts, durations, costs): it stays, its personal columns are treated."""
    CUSTOM = "custom"
    """A dedicated step of :mod:`control_plane.compliance.erasure` handles it (accounts, the audit trail)."""
    KEEP = "keep"
    """Nothing personal in it."""


@dataclass(frozen=True)
class PersonalTable:
    """How one table holds personal data."""

    table: str
    on_erasure: OnErasure
    personal: Mapping[str, Treatment] = field(default_factory=dict)
    non_personal: frozenset[str] = frozenset()
    """Text/JSON columns declared to hold nothing about a person (names of rooms, metrics, settings …)."""
    secret: frozenset[str] = frozenset()
    """Hashes and the like: never exported, gone with the row (or replaced by erasure)."""
    subject: Mapping[str, Identifies] = field(default_factory=dict)
    """The columns whose value says whom a row is about."""
    organization_column: str | None = "organization_id"
    """The tenancy column (``None``: a table of accounts, not of one organisation)."""

    def declared(self) -> set[str]:
        return set(self.personal) | set(self.non_personal) | set(self.secret)


REGISTRY: dict[str, PersonalTable] = {}


def register(*tables: PersonalTable) -> None:
    """Add tables to the registry (each once)."""
    for entry in tables:
        if entry.table in REGISTRY:
            raise ValueError(f"table {entry.table!r} is already registered")
        REGISTRY[entry.table] = entry


def is_text(column_type: TypeEngine[Any]) -> bool:
    """Whether a column type holds text or JSON (looking through decorators such as SQLModel's AutoString)."""
    inner = column_type.impl_instance if isinstance(column_type, TypeDecorator) else column_type
    return isinstance(inner, (String, JSON))


def text_columns(metadata: MetaData) -> dict[str, list[str]]:
    """Every text or JSON column of every table in ``metadata``, by table."""
    found: dict[str, list[str]] = {}
    for table in metadata.sorted_tables:
        names = [c.name for c in table.columns if is_text(c.type)]
        if names:
            found[table.name] = names
    return found


def undeclared(metadata: MetaData, registry: Mapping[str, PersonalTable] = REGISTRY) -> list[str]:
    """``table.column`` for every text/JSON column the registry says nothing about."""
    missing: list[str] = []
    for table, names in text_columns(metadata).items():
        entry = registry.get(table)
        declared = entry.declared() if entry else set()
        missing.extend(f"{table}.{name}" for name in names if name not in declared)
    return missing


def _set(names: Iterable[str]) -> frozenset[str]:
    return frozenset(names)


_P, _J = Treatment.PSEUDONYMISE, Treatment.REDACT_JSON

register(
    PersonalTable(
        "user",
        OnErasure.CUSTOM,
        personal={"email": _P, "name": _P},
        secret=_set({"password_hash"}),
        subject={"id": Identifies.USER_ID, "email": Identifies.EMAIL},
        organization_column=None,
    ),
    PersonalTable(
        "user_session",
        OnErasure.DELETE_ROW,
        personal={"ip": Treatment.NULL, "user_agent": Treatment.NULL},
        secret=_set({"token_hash"}),
        subject={"user_id": Identifies.USER_ID},
    ),
    PersonalTable(
        "membership", OnErasure.DELETE_ROW, non_personal=_set({"role"}), subject={"user_id": Identifies.USER_ID}
    ),
    PersonalTable(
        "invitation",
        OnErasure.DELETE_ROW,
        personal={"email": _P},
        non_personal=_set({"role"}),
        secret=_set({"token_hash"}),
        subject={"email": Identifies.EMAIL},
    ),
    PersonalTable(
        "api_key",
        OnErasure.KEEP,  # keys belong to the organisation; created_by points at the (pseudonymised) account
        non_personal=_set({"name", "prefix", "scopes"}),
        secret=_set({"key_hash"}),
        subject={"created_by": Identifies.USER_ID},
    ),
    PersonalTable(
        "audit_entry",
        OnErasure.CUSTOM,
        personal={"resource_id": _P, "before": _J, "after": _J, "ip": _P, "user_agent": Treatment.NULL},
        non_personal=_set({"action", "resource_type", "request_id"}),
        subject={"actor_user_id": Identifies.USER_ID},
    ),
    PersonalTable("organization", OnErasure.KEEP, non_personal=_set({"name", "plan"}), organization_column="id"),
    PersonalTable("call", OnErasure.KEEP, non_personal=_set({"room", "call_type"})),
    PersonalTable(
        "call_participant",
        OnErasure.PSEUDONYMISE,
        personal={"identity": _P},
        subject={"identity": Identifies.IDENTITY},
    ),
    PersonalTable(
        "call_event",
        OnErasure.PSEUDONYMISE,
        personal={"participant": _P, "attributes": _J},
        non_personal=_set({"idempotency_key", "type", "room"}),
        subject={"participant": Identifies.IDENTITY},
    ),
    PersonalTable(
        "quality_sample",
        OnErasure.PSEUDONYMISE,
        personal={"participant": _P},
        non_personal=_set({"idempotency_key", "media", "direction", "connection_type"}),
        subject={"participant": Identifies.IDENTITY},
    ),
    PersonalTable(
        "usage_event",
        OnErasure.PSEUDONYMISE,
        personal={"participant": _P},
        non_personal=_set({"idempotency_key", "metric", "feature", "provider"}),
        subject={"participant": Identifies.IDENTITY},
    ),
    PersonalTable("call_rollup", OnErasure.KEEP, non_personal=_set({"call_type"})),
    *(
        PersonalTable(
            table,
            OnErasure.PSEUDONYMISE,  # totals stay, under the pseudonym the raw rows get
            personal={"identity": _P},
            subject={"identity": Identifies.IDENTITY},
        )
        for table in ("participant_rollup", "participant_day_rollup", "participant_week_rollup")
    ),
    PersonalTable("quality_rollup", OnErasure.KEEP, non_personal=_set({"connection_type", "media", "direction"})),
    *(
        PersonalTable(
            table,
            OnErasure.PSEUDONYMISE,
            personal={"participant": _P},
            subject={"participant": Identifies.IDENTITY},
        )
        for table in (
            "quality_participant_rollup",
            "quality_participant_day_rollup",
            "quality_participant_week_rollup",
        )
    ),
    PersonalTable("usage_rollup", OnErasure.KEEP, non_personal=_set({"metric", "feature", "provider"})),
    PersonalTable("insight", OnErasure.KEEP, non_personal=_set({"kind", "fingerprint", "title", "detail", "status"})),
    PersonalTable(
        "report",
        OnErasure.PSEUDONYMISE,  # a definition may filter on a participant
        personal={"definition": _J},
        non_personal=_set({"name"}),
        subject={"created_by": Identifies.USER_ID},
    ),
    PersonalTable("agent", OnErasure.KEEP, non_personal=_set({"name", "pipeline", "languages", "settings"})),
    PersonalTable(
        "compliance_request",
        OnErasure.CUSTOM,
        personal={"subject_email": _P, "subject_identities": _J},
        non_personal=_set({"kind", "scope", "export_format", "status", "error", "summary"}),
        secret=_set({"file_path", "file_key"}),  # a server path and a wrapped key: internal, never exported
        subject={"subject_user_id": Identifies.USER_ID, "subject_email": Identifies.EMAIL},
    ),
    PersonalTable("retention_policy", OnErasure.KEEP, non_personal=_set({"resource_type", "hold_reason"})),
    PersonalTable("legal_hold", OnErasure.KEEP, non_personal=_set({"reason"}), subject={"user_id": Identifies.USER_ID}),
    PersonalTable("audit_redaction", OnErasure.KEEP, organization_column=None),
    # secrets: ciphertexts only, never exported (no organisation column: a scope names the organisation)
    PersonalTable("secret_key", OnErasure.KEEP, secret=_set({"scope"}), organization_column=None),
    PersonalTable("secret_version", OnErasure.KEEP, secret=_set({"scope", "path"}), organization_column=None),
    PersonalTable(
        "provider_key",
        OnErasure.KEEP,  # the organisation's keys; created_by points at the (pseudonymised) account
        non_personal=_set({"provider", "name", "masked", "backend"}),
        secret=_set({"secret_ref"}),
        subject={"created_by": Identifies.USER_ID},
    ),
    # billing: the organisation's money, nothing about a person (Stripe holds the organisation's name only)
    PersonalTable(
        "billing_subscription",
        OnErasure.KEEP,
        non_personal=_set({"plan", "status", "stripe_customer_id", "stripe_subscription_id"}),
    ),
    PersonalTable(
        "billing_invoice",
        OnErasure.KEEP,
        non_personal=_set(
            {
                "stripe_invoice_id",
                "stripe_subscription_id",
                "number",
                "status",
                "currency",
                "hosted_invoice_url",
                "invoice_pdf",
            }
        ),
    ),
    PersonalTable(
        "billing_overage_charge",
        OnErasure.KEEP,
        non_personal=_set(
            {"period", "metric", "plan", "state", "idempotency_key", "stripe_invoice_item_id", "last_error"}
        ),
    ),
    PersonalTable("billing_stripe_event", OnErasure.KEEP, non_personal=_set({"id", "type"})),
)
