"""No cross-organisation read or write: every route of the OpenAPI document, tried with a second
organisation's session and API key against the first organisation's resources."""

from __future__ import annotations

import time
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from control_plane.billing.models import Invoice
from control_plane.state import app_state
from telemetry.records import CallEvent, QualitySample, UsageEvent
from tests.control_plane.helpers import Account, bearer, feed, member, owner
from tests.support.paths import EXAMPLES

MARK = "secretmarkofacme"
PIPELINE = (EXAMPLES / "tone_chain.yaml").read_text()
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("patch", "/organizations/{organization_id}"): {"name": "stolen"},
    ("put", "/organizations/{organization_id}/limits"): {"max_agents": 1},
    ("patch", "/organizations/{organization_id}/members/{user_id}"): {"role": "viewer"},
    ("post", "/organizations/{organization_id}/invitations"): {"email": "spy@example.com", "role": "admin"},
    ("patch", "/agents/{agent_id}"): {"name": "stolen"},
    ("post", "/agents/{agent_id}/join"): {"room": "spy-room"},
    ("post", "/provider-keys/{provider_key_id}/rotate"): {"key": "sk-stolen-0123456789abcdef"},
    ("patch", "/compliance/retention-policies/{policy_id}"): {"retention_days": 1},
}
NOT_ORGANISATION_SCOPED = {"/users", "/users/me", "/users/me/deactivate", "/auth/login", "/auth/logout"}
NOT_ORGANISATION_SCOPED |= {"/auth/organization", "/invitations/accept", "/health/live", "/health/ready"}


def acme_with_everything(app: Litestar) -> tuple[Account, dict[str, int]]:
    acme = owner(app, f"Acme {MARK}")
    acme.client.put(f"/organizations/{acme.organization_id}/limits", json={"monthly_spend_alert": 0})
    colleague = member(app, acme, "member")
    agent = acme.client.post("/agents", json={"name": f"agent-{MARK}", "pipeline": PIPELINE}).json()
    report = acme.client.post(
        "/reports", json={"name": f"report-{MARK}", "definition": {"dataset": "usage", "measures": ["events"]}}
    ).json()
    invitation = acme.client.post(
        f"/organizations/{acme.organization_id}/invitations", json={"email": f"{MARK}@example.com"}
    ).json()
    acme.key("read")
    provider_key = acme.client.post(
        "/provider-keys", json={"provider": "openai", "name": f"pk-{MARK}", "key": f"sk-{MARK}-0123456789"}
    ).json()
    now = time.time()
    room = f"room-{MARK}"
    feed(
        app,
        acme.organization_id,
        [
            CallEvent("room-opened", room, at=now - 100),
            CallEvent("participant-joined", room, f"user-{MARK}", at=now - 90),
            QualitySample(room, f"user-{MARK}", "audio", 5, 0, 0, 20, 50, 4, at=now - 50),
            UsageEvent("stt_audio_seconds", 30, room, f"user-{MARK}", "stt", f"provider-{MARK}", at=now - 40),
        ],
    )
    acme.client.post("/analytics/insights/refresh")
    insight_id = acme.client.get("/analytics/insights").json()[0]["id"]
    ids = {
        "organization_id": acme.organization_id,
        "user_id": colleague.user_id,
        "agent_id": agent["id"],
        "report_id": report["id"],
        "invitation_id": invitation["id"],
        "key_id": acme.client.get("/api-keys").json()[0]["id"],
        "insight_id": insight_id,
        "provider_key_id": provider_key["id"],
        "version": 1,
        "request_id": acme.client.post("/compliance/exports", json={}).json()["id"],
        "policy_id": acme.client.post(
            "/compliance/retention-policies", json={"resource_type": "calls", "retention_days": 30}
        ).json()["id"],
        "hold_id": acme.client.post("/compliance/legal-holds", json={"reason": f"hold-{MARK}"}).json()["id"],
        "invoice_id": _invoice(app, acme.organization_id),
    }
    return acme, ids


def _invoice(app: Litestar, organization_id: int) -> int:
    """An invoice of the organisation, stored as a Stripe sync or webhook stores it."""
    with app_state(app.state).session() as db:
        row = Invoice(
            organization_id=organization_id, stripe_invoice_id=f"in_{MARK}", number=MARK, status="paid", currency="usd"
        )
        db.add(row)
        db.commit()
        assert row.id is not None
        return row.id


def holdings(acme: Account) -> dict[str, Any]:
    """What the first organisation has, as its owner sees it."""
    return {
        "organization": acme.client.get(f"/organizations/{acme.organization_id}").json(),
        "members": acme.client.get(f"/organizations/{acme.organization_id}/members").json(),
        "agents": acme.client.get("/agents").json(),
        "reports": acme.client.get("/reports").json(),
        "keys": acme.client.get("/api-keys").json(),
        "insights": acme.client.get("/analytics/insights").json(),
        "provider_keys": acme.client.get("/provider-keys").json(),
        "secret_keys": acme.client.get("/secrets/keys").json(),
        "overview": acme.client.get("/analytics/overview").json()["calls"],
    }


def attempts(app: Litestar, ids: dict[str, int]) -> list[tuple[str, str, str, dict[str, Any] | None]]:
    schema = TestClient(app).get("/schema/openapi.json").json()
    found = []
    for template, operations in schema["paths"].items():
        for method in operations:
            if template in NOT_ORGANISATION_SCOPED:
                continue
            path = template.format(**ids)
            found.append((method, template, path, BODIES.get((method, template))))
    return found


@pytest.mark.slow
def test_a_second_organisation_can_neither_read_nor_change_the_first(app: Litestar) -> None:
    acme, ids = acme_with_everything(app)
    before = holdings(acme)
    rival = owner(app, "Rival")
    rival_key = rival.key("admin")
    key_client = TestClient(app)
    tried = attempts(app, ids)
    assert len(tried) >= 30
    for method, template, path, body in tried:
        for client, headers in ((rival.client, {}), (key_client, bearer(rival_key))):
            kwargs: dict[str, Any] = {"headers": headers}
            if body is not None:
                kwargs["json"] = body
            response = getattr(client, method)(path, **kwargs)
            where = f"{method.upper()} {path} ({template})"
            if "{" in template:
                assert response.status_code in {403, 404}, f"{where}: {response.status_code} {response.text}"
            else:
                assert response.status_code < 500, where
            assert MARK not in response.text, f"{where} leaked the first organisation's data"
    after = holdings(acme)
    for name in (
        "organization",
        "members",
        "agents",
        "reports",
        "insights",
        "overview",
        "provider_keys",
        "secret_keys",
    ):
        assert after[name] == before[name], name
    assert [k["revoked_at"] for k in after["keys"]] == [k["revoked_at"] for k in before["keys"]]
    assert rival.client.get("/analytics/overview").json()["calls"] == 0
