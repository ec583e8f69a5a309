"""Shared pieces of the compliance tests: a person with a footprint everywhere, and a search of every table."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from litestar import Litestar
from sqlalchemy import select
from sqlmodel import Session

from control_plane.app import create_app
from control_plane.compliance.models import ComplianceRequest
from control_plane.compliance.personal_data import is_text
from control_plane.db.tables import metadata
from control_plane.state import app_state
from settings import Settings
from telemetry.records import CallEvent, QualitySample, TelemetryRecord, UsageEvent
from tests.control_plane.helpers import Account, feed, member

NOW = time.time()


@dataclass
class Person:
    account: Account
    name: str
    identity: str
    """The identity string they joined calls under (besides their e-mail and user id)."""
    room: str


def person_with_a_footprint(app: Litestar, org: Account, *, peer: str | None = None) -> Person:
    """A member of ``org`` with a unique name, who joined a call (with ``peer``) under three identities."""
    tag = uuid.uuid4().hex[:8]
    account = member(app, org, "member")
    name = f"Zelda Quux {tag}"
    assert account.client.patch("/users/me", json={"name": name}).status_code == 200
    person = Person(account, name, f"zelda-{tag}", f"standup-{tag}")
    feed(app, org.organization_id, call_records(person, peer or f"bob-{tag}"))
    return person


def call_records(person: Person, peer: str) -> list[TelemetryRecord]:
    """A call in which the person speaks as their identity, their e-mail and their user id, with one peer."""
    room, start = person.room, NOW - 3600
    voices = [person.identity, person.account.email, str(person.account.user_id), peer]
    records: list[TelemetryRecord] = [CallEvent("room-opened", room, at=start, attributes={"call_type": "audio"})]
    for index, who in enumerate(voices):
        at = start + 1 + index
        records.append(CallEvent("participant-joined", room, who, at=at, attributes={"display": who}))
        records.append(QualitySample(room, who, "audio", 3.0, 1, 0.01, 40.0, 32.0, 4.2, at=at + 5))
        records.append(UsageEvent("call_seconds", 600.0, room=room, participant=who, at=at + 600))
        records.append(
            UsageEvent("translation_characters", 1000.0, room=room, participant=who, feature="translation", at=at + 600)
        )
    records.append(CallEvent("room-closed", room, at=start + 900))
    return records


def identifiers(person: Person) -> list[str]:
    """What must not survive an erasure anywhere as text."""
    return [person.account.email, person.name, person.identity]


def text_values(app: Litestar) -> list[tuple[str, str, str]]:
    """(table, column, text) for every text or JSON value in every table of the database."""
    found: list[tuple[str, str, str]] = []
    with Session(app_state(app.state).engine) as db:
        for table in metadata.sorted_tables:
            columns = [c for c in table.columns if is_text(c.type)]
            if not columns:
                continue
            for row in db.execute(select(*columns)):
                for column, value in zip(columns, row, strict=True):
                    if value is not None:
                        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                        found.append((table.name, column.name, text))
    return found


def figures(org: Account) -> dict[str, Any]:
    """The organisation's aggregates over a fixed period (what erasure must leave unchanged)."""
    period = {"since": "2000-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z"}
    overview = org.client.get("/analytics/overview", params=period).json()
    usage = org.client.get("/analytics/usage", params=period).json()
    kept = ("participants", "calls", "minutes", "ai_events", "cost_usd", "call_types", "ai_features", "quality")
    return {key: overview[key] for key in kept} | {"usage": {k: usage[k] for k in ("events", "cost_usd", "by_feature")}}


def request_row(app: Litestar, request_id: int) -> ComplianceRequest:
    """A compliance request as stored."""
    with app_state(app.state).session() as db:
        row = db.get(ComplianceRequest, request_id)
        assert row is not None
        return row


def without_background_runs(settings: Settings) -> Litestar:
    """An app that leaves requests pending for the scheduled job (to see them pending, cancel them)."""
    return create_app(settings.model_copy(update={"compliance_run_on_request": False}), migrate=False)
