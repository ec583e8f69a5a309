"""Stripe unreachable, slow, erroring or rate limiting: a 502/503 with Retry-After, local state unchanged,
and the retry subscribes (or bills) exactly once. Readiness reports Stripe."""

from __future__ import annotations

import socket

import pytest
import stripe
from litestar import Litestar
from pydantic import SecretStr

from control_plane.app import create_app
from settings import Settings
from tests.control_plane.billing.helpers import card
from tests.control_plane.billing.stripe_servers import Fault, StripeProxy
from tests.control_plane.helpers import owner

FAULTS = [
    (Fault("down"), 503, "30", "could not be reached"),
    (Fault("slow", delay_s=2.5), 503, "30", "did not answer in time"),
    (Fault("error", status=500), 502, "30", "Stripe failed (HTTP 500"),
    (Fault("error", status=429), 503, "60", "rate limiting"),
]


@pytest.mark.parametrize(("fault", "status", "retry_after", "says"), FAULTS, ids=["down", "slow", "500", "429"])
def test_a_stripe_fault_is_a_clear_5xx_with_retry_after_and_nothing_changes(
    app: Litestar,
    stripe_client: stripe.StripeClient,
    stripe_proxy: StripeProxy,
    fault: Fault,
    status: int,
    retry_after: str,
    says: str,
) -> None:
    acme = owner(app)
    payment_method = card(stripe_client)
    stripe_proxy.fault = Fault(fault.kind, path_prefix="/v1/subscriptions", status=fault.status, delay_s=fault.delay_s)
    failed = acme.client.post("/billing/subscription", json={"plan": "pro", "payment_method": payment_method})
    assert failed.status_code == status, failed.text
    assert failed.headers["retry-after"] == retry_after
    assert says in failed.json()["detail"] and "retry" in failed.json()["detail"]
    assert stripe_proxy.fault.seen
    current = acme.client.get("/billing/subscription").json()
    assert (current["plan"], current["status"], current["stripe_subscription_id"]) == ("free", "active", None)
    assert acme.client.get(f"/organizations/{acme.organization_id}").json()["plan"] == "free"

    stripe_proxy.fault = None
    retried = acme.client.post("/billing/subscription", json={"plan": "pro"})
    assert retried.status_code == 201, retried.text
    live = stripe_client.v1.subscriptions.list(params={"customer": current["stripe_customer_id"]}).to_dict()["data"]
    assert [s["id"] for s in live] == [retried.json()["stripe_subscription_id"]]


def test_a_subscription_whose_confirmation_was_lost_is_adopted_not_created_twice(
    app: Litestar, stripe_client: stripe.StripeClient, stripe_proxy: StripeProxy
) -> None:
    acme = owner(app)
    stripe_proxy.fault = Fault("lost", method="POST", path_prefix="/v1/subscriptions")
    lost = acme.client.post("/billing/subscription", json={"plan": "pro", "payment_method": card(stripe_client)})
    assert lost.status_code == 502 and lost.headers["retry-after"] == "30"
    customer = acme.client.get("/billing/subscription").json()
    assert customer["plan"] == "free"  # Stripe has it; we were never told, so nothing local changed
    stripe_proxy.fault = None
    retried = acme.client.post("/billing/subscription", json={"plan": "pro"})
    assert retried.status_code == 201, retried.text
    live = stripe_client.v1.subscriptions.list(params={"customer": customer["stripe_customer_id"]}).to_dict()["data"]
    assert [s["id"] for s in live] == [retried.json()["stripe_subscription_id"]]
    invoices = stripe_client.v1.invoices.list(params={"customer": customer["stripe_customer_id"]}).to_dict()["data"]
    assert len(invoices) == 1  # charged once


def test_a_failed_cancel_leaves_the_subscription_as_it_was(
    app: Litestar, stripe_client: stripe.StripeClient, stripe_proxy: StripeProxy
) -> None:
    acme = owner(app)
    made = acme.client.post("/billing/subscription", json={"plan": "pro", "payment_method": card(stripe_client)})
    assert made.status_code == 201
    stripe_proxy.fault = Fault("error", status=500)
    failed = acme.client.delete("/billing/subscription")
    assert failed.status_code == 502 and "retry-after" in failed.headers
    assert acme.client.get("/billing/subscription").json()["plan"] == "pro"
    assert acme.client.put("/billing/subscription", json={"plan": "enterprise"}).status_code == 502
    assert acme.client.get("/billing/subscription").json()["plan"] == "pro"


def test_readiness_reports_stripe(app: Litestar, settings: Settings, stripe_proxy: StripeProxy) -> None:
    acme = owner(app)
    ready = acme.client.get("/health/ready")
    assert ready.status_code == 200 and ready.json()["checks"]["stripe"]["status"] == "ok"
    stripe_proxy.fault = Fault("error", status=500)
    failing = acme.client.get("/health/ready")
    assert failing.status_code == 503 and failing.json()["checks"]["stripe"]["status"] == "failing"
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    unreachable = settings.model_copy(
        update={
            "stripe_api_key": SecretStr("sk_test_x"),
            "stripe_api_base": f"http://127.0.0.1:{closed_port}",
            "stripe_timeout_s": 1.0,
            "stripe_max_network_retries": 0,
        }
    )
    other = owner(create_app(unreachable, migrate=False))
    answer = other.client.get("/health/ready")
    assert answer.status_code == 503
    assert "APIConnectionError" in answer.json()["checks"]["stripe"]["detail"]
