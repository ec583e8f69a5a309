"""Accounts for tests: users signed in with their own client, organisations, API keys."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from control_plane.state import app_state
from control_plane.telemetry.service import ingest, publish
from telemetry.records import TelemetryRecord
from tests.support.databases import PASSWORD


@dataclass
class Account:
    client: TestClient[Litestar]
    user_id: int
    email: str
    organization_id: int

    def key(self, *scopes: str, **extra: Any) -> str:
        """A new API key of this account's organisation."""
        response = self.client.post(
            "/api-keys", json={"name": f"key-{uuid.uuid4().hex[:6]}", "scopes": list(scopes), **extra}
        )
        assert response.status_code == 201, response.text
        return str(response.json()["key"])


def unique_email() -> str:
    return f"user-{uuid.uuid4().hex[:12]}@example.com"


def signed_in(
    app: Litestar, email: str | None = None, password: str = PASSWORD
) -> tuple[TestClient[Litestar], int, str]:
    """A client with a session cookie for a new user."""
    client = TestClient(app)
    email = email or unique_email()
    response = client.post("/users", json={"email": email, "name": "Test User", "password": password})
    assert response.status_code == 201, response.text
    login = client.post("/auth/login", json={"email": email, "password": password})
    assert login.status_code == 200, login.text
    return client, int(response.json()["id"]), email


def owner(app: Litestar, organization: str = "Acme") -> Account:
    """A new user who owns a new organisation."""
    client, user_id, email = signed_in(app)
    created = client.post("/organizations", json={"name": organization})
    assert created.status_code == 201, created.text
    return Account(client, user_id, email, int(created.json()["id"]))


def member(app: Litestar, of: Account, role: str) -> Account:
    """A new user invited into ``of``'s organisation with ``role``, who accepted."""
    client, user_id, email = signed_in(app)
    invited = of.client.post(f"/organizations/{of.organization_id}/invitations", json={"email": email, "role": role})
    assert invited.status_code == 201, invited.text
    accepted = client.post("/invitations/accept", json={"token": invited.json()["token"]})
    assert accepted.status_code == 200, accepted.text
    return Account(client, user_id, email, of.organization_id)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def feed(app: Litestar, organization_id: int, records: list[TelemetryRecord]) -> None:
    """Store telemetry as the gRPC service does (for tests about what is done with it)."""
    state = app_state(app.state)
    with state.session() as db:
        publish(ingest(db, organization_id, records), state.realtime)
