"""The admin pages' answers without a browser: security headers, CSRF, redirects that stay on this site, form
errors in words, and a banner (not a traceback) when the database is down."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from control_plane.app import create_app
from settings import Settings
from telemetry.records import UsageEvent
from tests.support.admin_ui import csrf_token, report
from tests.support.databases import JOIN_SECRET, PASSWORD
from ui.admin import AdminUiPlugin
from ui.admin.web import PAGE_SIZE


@pytest.fixture
def ui(settings: Settings) -> Iterator[TestClient[Litestar]]:
    with TestClient(create_app(settings, migrate=False, extra=[AdminUiPlugin(settings)])) as client:
        yield client


def signed_up(ui: TestClient[Litestar]) -> tuple[str, str]:
    """A new user, signed in; their CSRF token and e-mail (the database is shared by the run's tests)."""
    email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
    token = csrf_token(ui.get("/ui/sign-up").text)
    answer = ui.post("/ui/sign-up", data={"_csrf_token": token, "name": "Ada", "email": email, "password": PASSWORD})
    assert answer.status_code == 200 and "Create an organisation" in answer.text
    return token, email


def test_pages_carry_a_strict_content_security_policy(ui: TestClient[Litestar]) -> None:
    answer = ui.get("/ui/sign-in")
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "style-src 'self';" in policy and "unsafe" not in policy
    assert answer.headers["x-frame-options"] == "DENY"
    assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)", answer.text), "an inline script"
    assert " style=" not in answer.text


def test_a_form_without_its_csrf_token_is_refused(ui: TestClient[Litestar]) -> None:
    signed_up(ui)
    answer = ui.post("/ui/organisations/new", data={"name": "Acme"})
    assert answer.status_code == 403 and "expired or came from another site" in answer.text
    forged = ui.post("/ui/organisations/new", data={"name": "Acme", "_csrf_token": "0" * 128})
    assert forged.status_code == 403


def test_the_api_keeps_its_paths_and_answers(ui: TestClient[Litestar]) -> None:
    assert ui.get("/organizations").status_code == 401
    assert ui.get("/health/live").status_code == 200
    assert ui.get("/", follow_redirects=False).headers["location"] == "/ui/sign-in"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
def test_sign_in_never_sends_anyone_to_another_site(ui: TestClient[Litestar], target: str) -> None:
    token, email = signed_up(ui)
    ui.post("/ui/sign-out", data={"_csrf_token": token})
    answer = ui.post(
        "/ui/sign-in",
        data={"_csrf_token": token, "email": email, "password": PASSWORD, "next": target},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] in ("/", "/ui/organisations/new")


def test_bad_input_is_shown_beside_its_field_in_words(ui: TestClient[Litestar]) -> None:
    token, _ = signed_up(ui)
    answer = ui.post("/ui/organisations/new", data={"_csrf_token": token, "name": "\x01" * 3})
    assert answer.status_code == 400
    assert 'id="e-name">must not contain control characters<' in answer.text
    huge = ui.post("/ui/organisations/new", data={"_csrf_token": token, "name": "x" * 100_000})
    assert huge.status_code == 400 and "at most 200 characters" in huge.text
    ui.post("/ui/organisations/new", data={"_csrf_token": token, "name": "Acme"})
    period = ui.get("/", params={"days": "custom", "since": "2026-02-30"})
    assert period.status_code == 400 and "From must be a date such as 2026-01-31" in period.text
    assert "Traceback" not in period.text


def test_a_database_that_is_down_shows_a_banner(tmp_path: Path) -> None:
    down = Settings(
        data_dir=tmp_path,
        database_url="postgresql://nobody@127.0.0.1:1/none",
        telemetry_port=None,
        join_token_secret=JOIN_SECRET,
    )
    with TestClient(create_app(down, migrate=False, extra=[AdminUiPlugin(down)])) as client:
        token = csrf_token(client.get("/ui/sign-in").text)
        answer = client.post(
            "/ui/sign-in", data={"_csrf_token": token, "email": "ada@example.com", "password": PASSWORD}
        )
    assert answer.status_code == 503
    assert "The database is unavailable; try again in a moment." in answer.text
    assert 'role="alert"' in answer.text and "Traceback" not in answer.text


def test_billing_without_stripe_offers_the_free_plan_and_says_why(ui: TestClient[Litestar]) -> None:
    token, _ = signed_up(ui)
    ui.post("/ui/organisations/new", data={"_csrf_token": token, "name": "Acme"})
    answer = ui.get("/ui/billing")
    assert answer.status_code == 200 and "Stripe is not configured on this server" in answer.text
    assert "script-src 'self';" in answer.headers["content-security-policy"]  # no Stripe.js, no other origin
    assert re.search(r'value="pro"\s+disabled', answer.text) and "(needs Stripe)" in answer.text
    paid = ui.post("/ui/billing/plan", data={"_csrf_token": token, "plan": "pro"})
    assert paid.status_code == 503 and "billing is not configured" in paid.text and 'id="e-plan"' in paid.text
    unknown = ui.post("/ui/billing/plan", data={"_csrf_token": token, "plan": "x" * 5000})
    assert unknown.status_code == 400 and "choose one of the plans" in unknown.text
    setup = ui.post("/ui/billing/card/setup", headers={"X-CSRFToken": token})
    assert setup.status_code == 503 and "billing is not configured" in setup.text
    card = ui.post("/ui/billing/card", data={"_csrf_token": token, "setup_intent": "seti_forged"})
    assert card.status_code == 503 and "Traceback" not in card.text
    month = ui.get("/ui/billing", params={"period": "2026-13"})
    assert month.status_code == 400 and 'id="e-period">period must be a month as YYYY-MM' in month.text


def test_a_form_address_opened_in_the_browser_answers_a_page(ui: TestClient[Litestar]) -> None:
    signed_up(ui)
    answer = ui.get("/ui/billing/plan")
    assert answer.status_code == 405 and "POST" in answer.headers["allow"].split(", ")
    assert answer.headers["content-type"].startswith("text/html")
    assert "only takes a form sent from its page" in answer.text and 'href="/"' in answer.text
    assert "script-src 'self';" in answer.headers["content-security-policy"]
    api = ui.get("/auth/login")  # the API keeps its JSON answer
    assert api.status_code == 405 and api.json()["status_code"] == 405


def test_billings_usage_records_page_through_the_month(ui: TestClient[Litestar], settings: Settings) -> None:
    token, _ = signed_up(ui)
    ui.post("/ui/organisations/new", data={"_csrf_token": token, "name": "Acme"})
    [organization] = ui.get("/organizations").json()
    organization_id = int(organization["id"])
    now = time.time()
    used = [
        UsageEvent("stt_audio_seconds", float(n + 1), "room", "ada", "stt", "whisper", now - 60 + n / 10)
        for n in range(PAGE_SIZE + 3)
    ]
    report(settings, organization_id, list(used))
    first = ui.get("/ui/billing")
    assert first.status_code == 200 and first.text.count('<td class="num">') >= PAGE_SIZE
    later = re.search(r'<a href="(/ui/billing\?page=2#rec-h)">Later →</a>', first.text)
    assert later, "a full page of usage records links to the next"
    second = ui.get(later.group(1).replace("#rec-h", ""))
    assert second.status_code == 200 and "← Earlier" in second.text and "Later →" not in second.text
    quantities = re.findall(r'<td>stt_audio_seconds</td><td class="num">([\d.,]+)</td>', second.text)
    assert quantities == ["51.0", "52.0", "53.0"]
    past = ui.get("/ui/billing", params={"page": 9})
    assert past.status_code == 200 and "No more usage records" in past.text
