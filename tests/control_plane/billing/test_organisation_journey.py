"""Issue 7's whole story through the API, on each database and each secret backend: an organisation keeps its
provider keys, subscribes, uses, is invoiced for its overage, exports and erases a member's data, and finds every
step in its audit trail."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import stripe
from litestar import Litestar

from control_plane.app import create_app
from control_plane.billing.metering import Period
from control_plane.db.types import utcnow
from control_plane.provider_keys import service as provider_keys
from control_plane.state import app_state
from settings import Settings
from telemetry.records import UsageEvent
from tests.control_plane.billing.helpers import card, signed
from tests.control_plane.helpers import Account, feed, member, owner
from tests.control_plane.secrets_support import places_holding, vault, vault_server, with_secret_backend

__all__ = ["vault", "vault_server"]  # fixtures

LAST_MONTH = Period.containing(utcnow()).previous()


@pytest.fixture(params=["local", "vault"])
def journey_app(request: pytest.FixtureRequest, billing_settings: Settings) -> Litestar:
    """The app with Stripe (localstripe) and each secret backend."""
    return create_app(with_secret_backend(request, billing_settings), migrate=False)


def test_an_organisation_keeps_keys_pays_for_overage_and_erases_a_member(
    journey_app: Litestar, stripe_client: stripe.StripeClient
) -> None:
    app = journey_app
    acme = owner(app)
    keys = _provider_key_is_stored_rotated_and_revealed(app, acme)
    customer = _subscribes_to_pro(acme, stripe_client)
    speaker = member(app, acme, "member")
    _speaks_past_the_allowance(app, acme, speaker)
    invoice = _is_invoiced_for_the_overage(acme, stripe_client, customer)
    _pays_through_a_signed_webhook(acme, invoice)
    _exports_then_erases_the_member(app, acme, speaker)
    report = acme.client.get("/compliance/reports/gdpr").json()
    assert report["standard"] == "gdpr" and report["organization_id"] == acme.organization_id
    assert [report["requests"][kind]["completed_within_deadline"] for kind in ("export", "erasure")] == [1, 1]
    engine = app_state(app.state).engine
    assert [places_holding(engine, key) for key in keys] == [[], []]  # only ciphertexts, in either backend
    actions = {entry["action"] for entry in acme.client.get("/audit", params={"limit": 1000}).json()}
    assert actions >= {
        "provider_key.create",
        "provider_key.rotate",
        "provider_key.reveal",
        "billing.customer.create",
        "billing.subscription.create",
        "billing.overage.record",
        "billing.overage.push",
        "billing.invoice.paid",
        "compliance.export.request",
        "compliance.export.complete",
        "compliance.export.download",
        "compliance.erasure.request",
        "compliance.erasure.complete",
        "compliance.report.gdpr",
    }, actions


def _provider_key_is_stored_rotated_and_revealed(app: Litestar, acme: Account) -> list[str]:
    first, second = (f"sk-proj-{uuid.uuid4().hex}{uuid.uuid4().hex}" for _ in range(2))
    made = acme.client.post("/provider-keys", json={"provider": "openai", "name": "production", "key": first})
    assert made.status_code == 201, made.text
    rotated = acme.client.post(f"/provider-keys/{made.json()['id']}/rotate", json={"key": second})
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["version"] == 2 and rotated.json()["masked"].endswith(second[-4:])
    assert first not in made.text + rotated.text and second not in rotated.text
    state = app_state(app.state)
    with state.session() as db:
        assert provider_keys.reveal(db, state.secrets, acme.organization_id, "production", "the stt stage") == second
    return [first, second]


def _subscribes_to_pro(acme: Account, stripe_client: stripe.StripeClient) -> str:
    made = acme.client.post("/billing/subscription", json={"plan": "pro", "payment_method": card(stripe_client)})
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "active"
    return str(made.json()["stripe_customer_id"])


def _speaks_past_the_allowance(app: Litestar, acme: Account, speaker: Account) -> None:
    """10,200 call minutes last month (pro includes 10,000), with the member's speech transcribed."""
    start = LAST_MONTH.start.timestamp() + 3600
    records: list[Any] = [
        UsageEvent("call_seconds", 10_200 * 60 / 2, "all-hands", speaker.email, "call", at=start),
        UsageEvent("call_seconds", 10_200 * 60 / 2, "all-hands", "host@acme.example", "call", at=start + 1),
        UsageEvent("stt_audio_seconds", 45.0, "all-hands", speaker.email, "stt", "whisper-tiny.en", at=start + 2),
    ]
    feed(app, acme.organization_id, records)
    usage = acme.client.get("/billing/usage", params={"period": str(LAST_MONTH)}).json()
    charges = {charge["metric"]: charge["amount_cents"] for charge in usage["charges"]}
    assert (usage["call_minutes"], usage["ai_calls"], charges["call_minutes"]) == (10_200, 1, 200)


def _is_invoiced_for_the_overage(acme: Account, stripe_client: stripe.StripeClient, customer: str) -> dict[str, Any]:
    for _ in range(2):  # closing again bills nothing more
        closed = acme.client.post("/billing/periods/close", json={"period": str(LAST_MONTH)})
        assert closed.status_code == 200, closed.text
    pushed = acme.client.get("/billing/charges", params={"period": str(LAST_MONTH)}).json()
    assert {(c["metric"], c["state"]) for c in pushed} >= {("call_minutes", "pushed")}
    invoice = stripe_client.v1.invoices.create(params={"customer": customer}).to_dict()  # Stripe's renewal
    overage = [line for line in invoice["lines"]["data"] if (line.get("metadata") or {}).get("auralink_charge_key")]
    assert [line["amount"] for line in overage] == [200]
    assert acme.client.post("/billing/invoices/sync").status_code == 200
    listed = {i["stripe_invoice_id"]: i for i in acme.client.get("/billing/invoices").json()}
    assert listed[invoice["id"]]["total_cents"] == invoice["total"]
    return invoice


def _pays_through_a_signed_webhook(acme: Account, invoice: dict[str, Any]) -> None:
    paid = invoice | {"status": "paid", "amount_paid": invoice["total"], "amount_due": 0}
    event = {"id": f"evt_{uuid.uuid4().hex[:14]}", "object": "event", "type": "invoice.paid", "data": {"object": paid}}
    body, headers = signed(event)
    for duplicate in (False, True):
        answer = acme.client.post("/billing/webhooks/stripe", content=body, headers=headers)
        assert (answer.status_code, answer.json()["duplicate"]) == (200, duplicate)
    listed = {i["stripe_invoice_id"]: i for i in acme.client.get("/billing/invoices").json()}
    assert listed[invoice["id"]]["status"] == "paid"


def _exports_then_erases_the_member(app: Litestar, acme: Account, speaker: Account) -> None:
    usage_before = acme.client.get("/billing/usage", params={"period": str(LAST_MONTH)}).json()
    export = _completed(
        acme, acme.client.post("/compliance/exports", json={"scope": "user", "user_id": speaker.user_id})
    )
    held = acme.client.get(export["download_url"]).json()
    assert {row["participant"] for row in held["tables"]["usage_event"]} == {speaker.email}
    _completed(acme, acme.client.post("/compliance/erasures", json={"user_id": speaker.user_id}))
    assert places_holding(app_state(app.state).engine, speaker.email) == []
    usage_after = acme.client.get("/billing/usage", params={"period": str(LAST_MONTH)}).json()
    assert (usage_after["call_minutes"], usage_after["ai_calls"]) == (
        usage_before["call_minutes"],
        usage_before["ai_calls"],
    )


def _completed(acme: Account, created: Any) -> dict[str, Any]:
    assert created.status_code == 201, created.text
    request: dict[str, Any] = acme.client.get(f"/compliance/requests/{created.json()['id']}").json()
    assert request["status"] == "completed", request
    return request
