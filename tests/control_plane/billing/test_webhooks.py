"""Stripe webhooks: signed events (from localstripe) change our state once; forged, stale, duplicates do not."""

from __future__ import annotations

import time
import uuid
from typing import Any

import stripe
from litestar import Litestar
from litestar.testing import TestClient

from tests.control_plane.billing.helpers import card, signed
from tests.control_plane.helpers import Account, owner

URL = "/billing/webhooks/stripe"


def _event(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {"id": f"evt_{uuid.uuid4().hex[:14]}", "object": "event", "type": kind, "data": {"object": obj}}


def _pro(app: Litestar, stripe_client: stripe.StripeClient) -> tuple[Account, dict[str, Any]]:
    account = owner(app)
    made = account.client.post("/billing/subscription", json={"plan": "pro", "payment_method": card(stripe_client)})
    assert made.status_code == 201, made.text
    return account, made.json()


def test_signed_events_update_the_subscription_and_invoices_once(
    app: Litestar, stripe_client: stripe.StripeClient
) -> None:
    acme, subscription = _pro(app, stripe_client)
    sub_id = subscription["stripe_subscription_id"]
    updated = stripe_client.v1.subscriptions.update(sub_id, params={"cancel_at_period_end": True}).to_dict()
    event = _event("customer.subscription.updated", updated)
    body, headers = signed(event)
    first = acme.client.post(URL, content=body, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json() == {"received": True, "duplicate": False, "handled": True}
    assert acme.client.get("/billing/subscription").json()["cancel_at_period_end"] is True
    again = acme.client.post(URL, content=body, headers=headers)
    assert again.status_code == 200 and again.json()["duplicate"] is True

    invoice = stripe_client.v1.invoices.list(params={"customer": subscription["stripe_customer_id"]}).data[0].to_dict()
    body, headers = signed(_event("invoice.payment_failed", invoice | {"status": "open"}))
    assert acme.client.post(URL, content=body, headers=headers).status_code == 200
    listed = acme.client.get("/billing/invoices").json()
    assert (listed[0]["stripe_invoice_id"], listed[0]["payment_failed"]) == (invoice["id"], True)
    body, headers = signed(_event("invoice.paid", invoice))
    assert acme.client.post(URL, content=body, headers=headers).status_code == 200
    paid = acme.client.get("/billing/invoices").json()[0]
    assert (paid["status"], paid["payment_failed"]) == ("paid", False)

    stripe_client.v1.subscriptions.cancel(sub_id)  # cancelled in Stripe's dashboard: localstripe records the event
    deleted = next(
        e.to_dict()
        for e in stripe_client.v1.events.list(params={"type": "customer.subscription.deleted", "limit": 100}).data
        if e.to_dict()["data"]["object"]["id"] == sub_id
    )
    body, headers = signed(deleted)
    assert acme.client.post(URL, content=body, headers=headers).json()["handled"] is True
    after = acme.client.get("/billing/subscription").json()
    assert (after["plan"], after["stripe_subscription_id"]) == ("free", None)
    assert acme.client.get(f"/organizations/{acme.organization_id}").json()["plan"] == "free"
    audit = acme.client.get("/audit", params={"limit": 100}).json()
    system = [e for e in audit if e["action"].startswith(("billing.invoice.", "billing.subscription.updated"))]
    assert len(system) == 3 and all(e["actor_user_id"] is None for e in system)
    assert any(e["action"] == "billing.subscription.deleted" and e["actor_user_id"] is None for e in audit)


def test_unknown_event_types_are_acknowledged_and_recorded_without_any_login(app: Litestar) -> None:
    body, headers = signed(_event("customer.created", {"id": "cus_unknown"}))
    with TestClient(app) as anonymous:
        answer = anonymous.post(URL, content=body, headers=headers)
    assert answer.status_code == 200 and answer.json() == {"received": True, "duplicate": False, "handled": False}


def test_forged_stale_unsigned_and_malformed_events_are_rejected_with_a_400(app: Litestar) -> None:
    acme = owner(app)
    event = _event("customer.subscription.deleted", {"id": "sub_forged"})
    body, headers = signed(event, secret="whsec_not_ours")
    forged = acme.client.post(URL, content=body, headers=headers)
    assert forged.status_code == 400 and "signature" in forged.json()["detail"]
    body, headers = signed(event, at=time.time() - 3600)
    stale = acme.client.post(URL, content=body, headers=headers)
    assert stale.status_code == 400 and "tolerance" in stale.json()["detail"]
    unsigned = acme.client.post(URL, content=body, headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 400 and "Stripe-Signature" in unsigned.json()["detail"]
    body, headers = signed(event)
    tampered = acme.client.post(URL, content=body.replace(b"sub_forged", b"sub_other1"), headers=headers)
    assert tampered.status_code == 400
    not_json, headers = b"not json", signed(event)[1]
    assert acme.client.post(URL, content=not_json, headers=headers).status_code == 400


def test_an_event_older_than_our_last_change_does_not_undo_it(
    app: Litestar, stripe_client: stripe.StripeClient
) -> None:
    acme, subscription = _pro(app, stripe_client)
    old = stripe_client.v1.subscriptions.retrieve(subscription["stripe_subscription_id"]).to_dict()
    assert acme.client.put("/billing/subscription", json={"plan": "enterprise"}).status_code == 200
    late = _event("customer.subscription.updated", old) | {"created": int(time.time()) - 600}
    body, headers = signed(late)
    answer = acme.client.post(URL, content=body, headers=headers)
    assert answer.status_code == 200 and answer.json()["handled"] is False
    assert acme.client.get("/billing/subscription").json()["plan"] == "enterprise"
