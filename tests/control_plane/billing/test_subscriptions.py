"""Plans and subscriptions against a real localstripe: subscribe, change with proration, cancel, and the guards."""

from __future__ import annotations

import stripe
from click.testing import CliRunner, Result
from litestar import Litestar

from auralink.cli import cli
from control_plane.app import create_app
from control_plane.billing.metering import Period
from control_plane.db.types import utcnow
from settings import Settings
from telemetry.records import UsageEvent
from tests.control_plane.billing.helpers import card, signed
from tests.control_plane.helpers import Account, feed, member, owner


def _audit_actions(account: Account) -> list[str]:
    entries = account.client.get("/audit", params={"limit": 200}).json()
    return [entry["action"] for entry in entries]


def test_the_plans_list_prices_allowances_and_overage_rates(app: Litestar) -> None:
    acme = owner(app)
    plans = {plan["name"]: plan for plan in acme.client.get("/billing/plans").json()}
    assert set(plans) == {"free", "pro", "enterprise"}
    assert (plans["free"]["monthly_price_cents"], plans["free"]["included_call_minutes"]) == (0, 1_000)
    assert (plans["pro"]["monthly_price_cents"], plans["pro"]["included_ai_calls"]) == (4_900, 1_000)
    enterprise = plans["enterprise"]
    assert (enterprise["monthly_price_cents"], enterprise["included_call_minutes"]) == (49_900, 100_000)
    assert plans["pro"]["overage_cents_per_call_minute"] == 1 and plans["pro"]["overage_cents_per_ai_call"] == 5
    assert all(plan["available"] for plan in plans.values())


def test_free_to_pro_to_enterprise_then_cancel_at_period_end_and_now(
    app: Litestar, stripe_client: stripe.StripeClient
) -> None:
    acme = owner(app)
    assert acme.client.get("/billing/subscription").json()["plan"] == "free"
    free = acme.client.post("/billing/subscription", json={"plan": "free"})
    assert free.status_code == 201, free.text

    pro = acme.client.post("/billing/subscription", json={"plan": "pro", "payment_method": card(stripe_client)})
    assert pro.status_code == 201, pro.text
    body = pro.json()
    assert (body["plan"], body["status"], body["included_call_minutes"]) == ("pro", "active", 10_000)
    live = stripe_client.v1.subscriptions.retrieve(body["stripe_subscription_id"]).to_dict()
    assert live["plan"]["id"] == "auralink-pro-monthly" and live["customer"] == body["stripe_customer_id"]
    organization = acme.client.get(f"/organizations/{acme.organization_id}").json()
    assert (organization["plan"], organization["monthly_minutes"], organization["max_members"]) == ("pro", 10_000, 50)

    enterprise = acme.client.put("/billing/subscription", json={"plan": "enterprise"})
    assert enterprise.status_code == 200, enterprise.text
    assert enterprise.json()["stripe_subscription_id"] == body["stripe_subscription_id"]
    live = stripe_client.v1.subscriptions.retrieve(body["stripe_subscription_id"]).to_dict()
    assert live["plan"]["id"] == "auralink-enterprise-monthly"
    pending = stripe_client.v1.invoice_items.list(params={"customer": body["stripe_customer_id"]}).to_dict()["data"]
    assert [item["amount"] for item in pending if item["proration"]] == [-4_900]  # Stripe's credit for unused pro

    at_end = acme.client.delete("/billing/subscription", params={"at_period_end": "true"})
    assert at_end.status_code == 200, at_end.text
    assert (at_end.json()["plan"], at_end.json()["cancel_at_period_end"]) == ("enterprise", True)
    assert stripe_client.v1.subscriptions.retrieve(body["stripe_subscription_id"]).to_dict()["cancel_at_period_end"]

    now = acme.client.delete("/billing/subscription")
    assert now.status_code == 200, now.text
    assert (now.json()["plan"], now.json()["stripe_subscription_id"]) == ("free", None)
    assert stripe_client.v1.subscriptions.retrieve(body["stripe_subscription_id"]).status == "canceled"
    assert acme.client.get(f"/organizations/{acme.organization_id}").json()["plan"] == "free"
    actions = _audit_actions(acme)
    for action in ("billing.customer.create", "billing.subscription.create", "billing.subscription.change"):
        assert action in actions
    assert actions.count("billing.subscription.cancel") == 2


def test_a_declined_card_is_a_402_with_stripes_message_and_nothing_changes(
    app: Litestar, stripe_client: stripe.StripeClient
) -> None:
    acme = owner(app)
    declined = acme.client.post(
        "/billing/subscription", json={"plan": "pro", "payment_method": card(stripe_client, "4000000000000002")}
    )
    assert declined.status_code == 402, declined.text
    assert "declined" in declined.json()["detail"]
    unpaid = acme.client.post(
        "/billing/subscription", json={"plan": "pro", "payment_method": card(stripe_client, "4000000000000341")}
    )
    assert unpaid.status_code == 402, unpaid.text
    assert "first payment" in unpaid.json()["detail"]
    current = acme.client.get("/billing/subscription").json()
    assert (current["plan"], current["stripe_subscription_id"]) == ("free", None)
    subscriptions = stripe_client.v1.subscriptions.list(params={"customer": current["stripe_customer_id"]})
    assert subscriptions.to_dict()["data"] == []  # the incomplete one was cancelled


def test_bad_input_is_a_clear_4xx(app: Litestar, stripe_client: stripe.StripeClient) -> None:
    acme = owner(app)
    unknown = acme.client.post("/billing/subscription", json={"plan": "platinum"})
    assert unknown.status_code == 400 and "plan" in unknown.text
    custom = acme.client.post("/billing/subscription", json={"plan": "custom"})
    assert custom.status_code == 409 and "custom terms" in custom.json()["detail"]
    no_such_card = acme.client.post("/billing/subscription", json={"plan": "pro", "payment_method": "pm_doesnotexist"})
    assert no_such_card.status_code == 400 and "pm_doesnotexist" in no_such_card.json()["detail"]
    no_card = acme.client.post("/billing/subscription", json={"plan": "pro"})
    assert no_card.status_code == 402, no_card.text
    assert acme.client.delete("/billing/subscription").status_code == 409
    assert acme.client.get("/billing/usage", params={"period": "2026-13"}).status_code == 400
    assert "YYYY-MM" in acme.client.get("/billing/usage", params={"period": "last month"}).json()["detail"]
    assert acme.client.post("/billing/periods/close", json={"period": "2999-01"}).status_code == 400
    assert acme.client.get("/billing/invoices/999999").status_code == 404
    assert acme.client.put("/billing/subscription", json={"plan": "pro", "extra": 1}).status_code == 400


def test_members_read_but_only_billing_managers_change_and_organisations_stay_apart(
    app: Litestar, stripe_client: stripe.StripeClient
) -> None:
    acme = owner(app)
    viewer = member(app, acme, "member")
    assert viewer.client.get("/billing/subscription").status_code == 200
    assert viewer.client.get("/billing/usage").status_code == 200
    forbidden = viewer.client.post("/billing/subscription", json={"plan": "pro"})
    assert forbidden.status_code == 403 and "manage_billing" in forbidden.json()["detail"]
    assert viewer.client.delete("/billing/subscription").status_code == 403
    assert viewer.client.post("/billing/invoices/sync").status_code == 403
    manager = member(app, acme, "billing_manager")
    made = manager.client.post("/billing/subscription", json={"plan": "pro", "payment_method": card(stripe_client)})
    assert made.status_code == 201, made.text
    synced = manager.client.post("/billing/invoices/sync")
    assert synced.status_code == 200 and len(synced.json()) == 1  # the first pro invoice, paid
    invoice_id = synced.json()[0]["id"]
    assert acme.client.get(f"/billing/invoices/{invoice_id}").json()["status"] == "paid"
    other = owner(app, "Globex")
    assert other.client.get(f"/billing/invoices/{invoice_id}").status_code == 404
    assert other.client.get("/billing/invoices").json() == []
    assert other.client.get("/billing/subscription").json()["plan"] == "free"


def test_without_a_stripe_key_paid_plans_say_how_to_configure_billing_and_free_still_works(settings: Settings) -> None:
    app = create_app(settings, migrate=False)
    acme = owner(app)
    plans = {plan["name"]: plan["available"] for plan in acme.client.get("/billing/plans").json()}
    assert plans == {"free": True, "pro": False, "enterprise": False}
    refused = acme.client.post("/billing/subscription", json={"plan": "pro"})
    assert refused.status_code == 503
    assert "billing is not configured" in refused.json()["detail"]
    assert "stripe_api_key" in refused.json()["detail"]
    assert acme.client.post("/billing/subscription", json={"plan": "free"}).status_code == 201
    assert acme.client.get("/billing/usage").json()["plan"] == "free"
    ready = acme.client.get("/health/ready").json()
    assert ready["checks"]["stripe"]["status"] == "not configured"
    assert acme.client.post("/billing/invoices/sync").json() == []  # no Stripe customer: nothing to fetch
    unsigned = acme.client.post("/billing/webhooks/stripe", content=b"{}")
    assert unsigned.status_code == 400
    body, headers = signed({"id": "evt_1", "type": "invoice.paid", "data": {"object": {}}})
    refused = acme.client.post("/billing/webhooks/stripe", content=body, headers=headers)
    assert refused.status_code == 503 and "stripe_webhook_secret" in refused.json()["detail"]


def _operator(settings: Settings, *args: str) -> Result:
    """``auralink billing …`` as an operator runs it, against the test's database and Stripe."""
    env = {
        "AURALINK_DATA_DIR": str(settings.data_dir),
        "AURALINK_DATABASE_URL": settings.database_url or "",
        "AURALINK_STRIPE_API_KEY": settings.stripe_api_key.get_secret_value() if settings.stripe_api_key else "",
        "AURALINK_STRIPE_API_BASE": settings.stripe_api_base or "",
    }
    return CliRunner().invoke(
        cli, ["billing", *args], env={k: v for k, v in env.items() if v} | {"AURALINK_CONFIG": ""}
    )


def test_an_operator_agrees_custom_terms_then_the_organisation_subscribes_and_is_billed_at_close(
    app: Litestar, billing_settings: Settings, stripe_client: stripe.StripeClient
) -> None:
    acme = owner(app)
    agreed = _operator(
        billing_settings,
        "custom-terms",
        str(acme.organization_id),
        "--price-cents",
        "19900",
        "--call-minutes",
        "30000",
        "--ai-calls",
        "3000",
    )
    assert agreed.exit_code == 0, agreed.output
    plans = {plan["name"]: plan for plan in acme.client.get("/billing/plans").json()}
    assert (plans["custom"]["monthly_price_cents"], plans["custom"]["included_call_minutes"]) == (19_900, 30_000)
    made = acme.client.post("/billing/subscription", json={"plan": "custom", "payment_method": card(stripe_client)})
    assert made.status_code == 201, made.text
    assert (made.json()["plan"], made.json()["included_ai_calls"]) == ("custom", 3_000)
    live = stripe_client.v1.subscriptions.retrieve(made.json()["stripe_subscription_id"]).to_dict()
    assert live["plan"]["amount"] == 19_900
    organization = acme.client.get(f"/organizations/{acme.organization_id}").json()
    assert (organization["plan"], organization["monthly_minutes"]) == ("custom", 30_000)

    last_month = Period.containing(utcnow()).previous()
    feed(
        app,
        acme.organization_id,
        [UsageEvent("call_seconds", 30_010 * 60, "room", "a", at=last_month.start.timestamp())],
    )
    closed = _operator(billing_settings, "close-period", str(last_month))
    assert closed.exit_code == 0, closed.output
    assert f"organisation {acme.organization_id}: 10 cents of overage" in closed.output
    assert (
        _operator(
            billing_settings, "custom-terms", "999999", "--price-cents", "1", "--call-minutes", "1", "--ai-calls", "1"
        ).exit_code
        == 1
    )
    assert "YYYY-MM" in _operator(billing_settings, "close-period", "soon").output
    assert "nothing to close" in _operator(billing_settings, "close-period", "2001-01").output
