"""The Billing page in chromium against localstripe, on SQLite and PostgreSQL: usage against the plan's allowance,
a card typed into Stripe.js Elements that becomes the customer's payment method, plan changes and cancellation,
invoices, usage records; a viewer sees it all and changes nothing."""

from __future__ import annotations

import re
import time

import pytest
import stripe
from litestar import Litestar
from litestar.testing import TestClient
from playwright.sync_api import Browser, expect

from control_plane.app import create_app
from settings import Settings
from telemetry.records import CallEvent, UsageEvent
from tests.support.admin_ui import (
    SCREENSHOTS,
    PageChecks,
    control_plane_with_ui,
    create_organization,
    csrf_token,
    nav,
    report,
    sign_up,
    type_card,
)
from tests.support.databases import PASSWORD
from ui.admin import AdminUiPlugin

pytestmark = pytest.mark.slow


def test_an_owner_pays_with_a_card_typed_into_elements(
    chromium: Browser, billing_settings: Settings, stripe_client: stripe.StripeClient, checks: PageChecks
) -> None:
    with control_plane_with_ui(billing_settings) as served:
        url = served.url
        context = chromium.new_context(viewport={"width": 1366, "height": 900})
        context.set_default_timeout(10_000)
        page = context.new_page()
        checks.watch(page)
        sign_up(page, url, "Bea Owner", f"bea-{time.time_ns()}@example.com")
        create_organization(page, "Paying Co")
        organization_id = int(page.locator("#organization_id option[selected]").get_attribute("value") or 0)
        now = time.time()
        report(
            billing_settings,
            organization_id,
            [
                CallEvent("room-opened", "sales", at=now - 900),
                CallEvent("participant-joined", "sales", "ann", at=now - 899),
                UsageEvent("call_seconds", 1500 * 60.0, "sales", "ann", "call", "webrtc", at=now - 60),
                UsageEvent("stt_audio_seconds", 300.0, "sales", "ann", "stt", "whisper-tiny.en", at=now - 50),
            ],
        )

        nav(page, "Billing")
        expect(page.get_by_role("heading", name="Plan: Free")).to_be_visible()
        expect(page.get_by_label(re.compile("Call minutes: 1,500 of 1,000 included"))).to_have_attribute("max", "1000")
        expect(page.get_by_text("500 over: $5.00")).to_be_visible()
        expect(page.get_by_label(re.compile("AI calls: 1 of 100 included"))).to_be_visible()
        expect(page.get_by_role("cell", name="call_seconds")).to_be_visible()
        expect(page.get_by_text("No card yet")).to_be_visible()
        checks.visit(page, "billing-free")
        policy = page.request.get(f"{url}/ui/billing").headers["content-security-policy"]
        assert f"script-src 'self' {stripe_client_origin(billing_settings)};" in policy
        assert "script-src 'self';" in page.request.get(f"{url}/ui/members").headers["content-security-policy"]

        page.get_by_role("radio", name=re.compile(r"^\s*Pro\b")).check()
        page.get_by_role("button", name="Change plan").click()
        expect(page.locator("#e-plan")).to_contain_text("needs a card")

        type_card(page, "4000000000000002")
        page.get_by_role("button", name="Save the card").click()
        expect(page.locator("#e-card")).to_have_text("Your card was declined.")
        page.reload()
        type_card(page, "4242424242424242")
        page.get_by_role("button", name="Save the card").click()
        expect(page.locator("#card-on-file")).to_contain_text("ending 4242")
        customer_id = page.request.get(f"{url}/billing/subscription").json()["stripe_customer_id"]
        customer = stripe_client.v1.customers.retrieve(customer_id).to_dict()
        method = customer["invoice_settings"]["default_payment_method"]
        saved = stripe_client.v1.payment_methods.retrieve(method).to_dict()
        assert saved["customer"] == customer_id and saved["card"]["last4"] == "4242"

        page.get_by_role("radio", name=re.compile(r"^\s*Pro\b")).check()
        page.get_by_role("button", name="Change plan").click()
        expect(page.get_by_role("heading", name="Plan: Pro")).to_be_visible()
        expect(page.get_by_label(re.compile("Call minutes: 1,500 of 10,000 included"))).to_be_visible()
        expect(page.get_by_text("8,500 left this month")).to_be_visible()
        page.get_by_role("button", name="Fetch invoices from Stripe").click()
        expect(page.locator("section[aria-labelledby=inv-h] tbody tr").first).to_contain_text("$49.00")
        page.get_by_role("radio", name=re.compile(r"^\s*Enterprise\b")).check()
        page.get_by_role("button", name="Change plan").click()
        expect(page.get_by_role("heading", name="Plan: Enterprise")).to_be_visible()
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Cancel the plan").click()
        expect(page.get_by_text("ends then")).to_be_visible()
        page.goto(f"{url}/ui/billing?period=2026-13")  # a month input never sends a bad month; an address can
        expect(page.locator("#e-period")).to_contain_text("period must be a month as YYYY-MM")
        nav(page, "Billing")
        checks.visit(page, "billing")
        page.screenshot(path=str(SCREENSHOTS / f"{checks.backend}-billing-full.png"), full_page=True)
        page.emulate_media(color_scheme="dark")
        checks.visit(page, "billing-dark")
        page.emulate_media(color_scheme="light")

        nav(page, "Audit log")
        actions = page.locator("tbody td:nth-child(3)").all_inner_texts()
        for step in ["billing.customer.create", "billing.payment_method.update", "billing.subscription.create"]:
            assert step in actions, (step, actions)

        nav(page, "Members")
        page.get_by_label("E-mail").fill("vic@example.com")
        page.get_by_label("Role", exact=True).select_option("viewer")
        page.get_by_role("button", name="Invite").click()
        link = page.locator("#invitation-link").inner_text()
        page.get_by_role("button", name="Sign out").click()
        sign_up(page, url, "Vic Viewer", "vic@example.com")
        page.goto(link)
        page.get_by_role("button", name="Join the organisation").click()
        nav(page, "Billing")
        expect(page.get_by_role("heading", name="Plan: Enterprise")).to_be_visible()
        expect(page.get_by_role("button", name="Change plan")).to_have_count(0)
        expect(page.locator("#card-form")).to_have_count(0)
        token = csrf_token(page.content())
        for path, form in {"/ui/billing/plan": {"plan": "free"}, "/ui/billing/cancel": {"when": "now"}}.items():
            refused = page.request.post(url + path, form={"_csrf_token": token, **form})
            assert refused.status == 403 and "manage_billing" in refused.text(), path
        assert page.request.post(f"{url}/ui/billing/card/setup", headers={"X-CSRFToken": token}).status == 403
        checks.visit(page, "billing-viewer")
        context.close()
    print(checks.report())
    assert not checks.console_errors, checks.console_errors
    assert not any(checks.axe.values()), checks.report()


def stripe_client_origin(settings: Settings) -> str:
    return str(settings.stripe_api_base)


def test_a_card_set_up_for_another_organisation_or_never_confirmed_is_refused(
    billing_settings: Settings, stripe_client: stripe.StripeClient
) -> None:
    app = create_app(billing_settings, migrate=False, extra=[AdminUiPlugin(billing_settings)])
    with TestClient(app) as other, TestClient(app) as mine:
        other_token = _owner_of_a_new_organisation(other, "Other")
        secret = other.post("/ui/billing/card/setup", headers={"X-CSRFToken": other_token}).json()["client_secret"]
        others_intent = secret.split("_secret_")[0]
        confirmed = stripe_client.v1.setup_intents.confirm(others_intent, params={"payment_method": "pm_card_visa"})
        assert confirmed.status == "succeeded"

        token = _owner_of_a_new_organisation(mine, "Mine")
        stolen = mine.post("/ui/billing/card", data={"_csrf_token": token, "setup_intent": others_intent})
        assert stolen.status_code == 400 and 'id="e-card" role="alert">the card was not set up' in stolen.text
        mine_secret = mine.post("/ui/billing/card/setup", headers={"X-CSRFToken": token}).json()["client_secret"]
        unconfirmed = mine.post(
            "/ui/billing/card", data={"_csrf_token": token, "setup_intent": mine_secret.split("_secret_")[0]}
        )
        assert unconfirmed.status_code == 409 and "Stripe has not confirmed the card" in unconfirmed.text
        forged = mine.post("/ui/billing/card", data={"_csrf_token": token, "setup_intent": "x" * 10_000})
        assert forged.status_code == 400 and "Traceback" not in forged.text
        assert "No card yet" in mine.get("/ui/billing").text
        assert "Visa ending 4242" not in mine.get("/ui/billing").text


def _owner_of_a_new_organisation(client: TestClient[Litestar], name: str) -> str:
    token = csrf_token(client.get("/ui/sign-up").text)
    email = f"{name.lower()}-{time.time_ns()}@example.com"
    client.post("/ui/sign-up", data={"_csrf_token": token, "name": name, "email": email, "password": PASSWORD})
    client.post("/ui/organisations/new", data={"_csrf_token": token, "name": name})
    return token
