"""The owner of a second organisation, in chromium, finds nothing of the first on any page, and every address
naming one of its rows answers "not found" (or "not allowed"), changing nothing."""

from __future__ import annotations

import time

import httpx
import pytest
from playwright.sync_api import Browser, Page
from sqlmodel import select

from control_plane.plugins import CorePlugin
from control_plane.telemetry.models import Call
from settings import Settings
from telemetry.records import CallEvent, QualitySample, UsageEvent
from tests.support.admin_ui import PageChecks, csrf_token, report
from tests.support.databases import PASSWORD
from tests.support.paths import EXAMPLES

pytestmark = pytest.mark.slow

PAGES = [
    "/",
    "/ui/live",
    "/ui/calls",
    "/ui/members",
    "/ui/api-keys",
    "/ui/agents",
    "/ui/agents/new",
    "/ui/audit",
    "/ui/billing",
    "/ui/system",
]


def first_organization(url: str, settings: Settings) -> tuple[httpx.Client, dict[str, int | str]]:
    """Acme, through the API: an owner, an agent, a key, an invitation; a call in progress and one finished."""
    client = httpx.Client(base_url=url)
    owner = {"email": "owner@acme.test", "name": "Acme Owner", "password": PASSWORD}
    assert client.post("/users", json=owner).is_success
    assert client.post("/auth/login", json={"email": "owner@acme.test", "password": PASSWORD}).is_success
    organization = client.post("/organizations", json={"name": "Acme Secret Org"}).json()
    assert client.post("/auth/organization", json={"organization_id": organization["id"]}).is_success
    pipeline = (EXAMPLES / "room_levels.yaml").read_text()
    agent = client.post("/agents", json={"name": "acme-secret-agent", "pipeline": pipeline}).json()
    key = client.post("/api-keys", json={"name": "acme-secret-key", "scopes": ["read"]}).json()
    provider_key = client.post(
        "/provider-keys", json={"provider": "openai", "name": "acme-secret-provider", "key": "sk-acme-0123456789abcdef"}
    ).json()
    hold = client.post("/compliance/legal-holds", json={"reason": "acme-secret-litigation"}).json()
    policy = client.post("/compliance/retention-policies", json={"resource_type": "calls", "retention_days": 30}).json()
    export = client.post("/compliance/exports", json={"scope": "organization"}).json()
    definition = {"dataset": "quality", "measures": ["samples"], "dimensions": ["participant"]}
    saved = client.post("/reports", json={"name": "acme-secret-report", "definition": definition}).json()
    invitation = client.post(
        f"/organizations/{organization['id']}/invitations", json={"email": "invitee@acme.test", "role": "admin"}
    ).json()
    now = time.time()
    report(
        settings,
        organization["id"],
        [
            CallEvent("room-opened", "acme-secret-room", at=now - 100),
            CallEvent("participant-joined", "acme-secret-room", "acme-secret-person", at=now - 99),
            QualitySample("acme-secret-room", "acme-secret-person", "audio", 3.0, 0, 0.0, 30.0, 32.0, 4.1, at=now - 1),
            UsageEvent("call_seconds", 60.0, "acme-secret-room", "acme-secret-person", "call", "webrtc", at=now - 2),
        ],
    )
    return client, {
        "call": _only_call(settings),
        "organization": organization["id"],
        "agent": agent["id"],
        "key": key["id"],
        "key_prefix": key["prefix"],
        "invitation": invitation["id"],
        "hold": hold["id"],
        "policy": policy["id"],
        "export": export["id"],
        "report": saved["id"],
        "provider_key": provider_key["id"],
        "owner": client.get("/users/me").json()["id"],
    }


def test_a_second_organisation_sees_nothing_of_the_first(
    chromium: Browser, ui_url: str, settings: Settings, checks: PageChecks
) -> None:
    acme, ids = first_organization(ui_url, settings)
    secrets = [
        "acme-secret-room",
        "acme-secret-person",
        "Acme Secret Org",
        "acme-secret-agent",
        "acme-secret-key",
        str(ids["key_prefix"]),
        "owner@acme.test",
        "invitee@acme.test",
    ]
    context = chromium.new_context(viewport={"width": 1366, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    checks.watch(page)
    page.goto(f"{ui_url}/ui/sign-up")
    page.get_by_label("Your name").fill("Mallory")
    page.get_by_label("E-mail").fill("mallory@other.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.get_by_label("Organisation name").fill("Other")
    page.get_by_role("button", name="Create").click()
    page.get_by_role("heading", name="Overview").wait_for()

    for path in [*PAGES, f"/ui/audit?actor={ids['owner']}"]:
        response = page.goto(ui_url + path)
        assert response is not None and response.status == 200, path
        text = response.text()
        assert not [s for s in secrets if s in text], (path, [s for s in secrets if s in text])
    exported = page.request.get(f"{ui_url}/ui/audit/export.csv")
    assert exported.status == 200 and not [s for s in secrets if s in exported.text()]
    assert exported.text().count("\n") >= 2  # the header and Mallory's own entries

    assert _status(page, ui_url, f"/ui/agents/{ids['agent']}") == 404
    assert _status(page, ui_url, f"/ui/calls/{ids['call']}") == 404
    assert _status(page, ui_url, f"/ui/analytics/reports/{ids['report']}") == 404
    assert page.request.get(f"{ui_url}/ui/analytics/reports/{ids['report']}/report.csv").status == 404
    downloaded = page.request.get(f"{ui_url}/ui/compliance/requests/{ids['export']}/download")
    assert downloaded.status == 404
    stream = page.evaluate(
        """() => new Promise((resolve) => {
            const source = new EventSource("/ui/live/stream");
            source.addEventListener("rooms", (event) => { source.close(); resolve(event.data); });
        })"""
    )
    assert "No calls in progress" in stream and not [s for s in secrets if s in stream]
    token = csrf_token(page.content())
    posts = {
        f"/ui/agents/{ids['agent']}": {"name": "stolen", "pipeline": "x"},
        f"/ui/agents/{ids['agent']}/delete": {},
        f"/ui/agents/{ids['agent']}/join": {"room": "acme"},
        f"/ui/api-keys/{ids['key']}/revoke": {},
        f"/ui/members/invitations/{ids['invitation']}/revoke": {},
        f"/ui/members/{ids['owner']}/role": {"role": "viewer"},
        f"/ui/members/{ids['owner']}/remove": {},
        f"/ui/secrets/provider-keys/{ids['provider_key']}/rotate": {"key": "sk-stolen-0123456789abcdef"},
        f"/ui/secrets/provider-keys/{ids['provider_key']}/revoke": {},
        f"/ui/compliance/requests/{ids['export']}/cancel": {},
        f"/ui/compliance/legal-holds/{ids['hold']}/release": {},
        f"/ui/compliance/retention-policies/{ids['policy']}/delete": {},
    }
    for path, form in posts.items():
        answer = page.request.post(ui_url + path, form={"_csrf_token": token, **form})
        assert answer.status == 404, (path, answer.status, answer.text()[:300])
        assert not [s for s in secrets if s in answer.text()], path
    switched = page.request.post(
        f"{ui_url}/ui/organisation", form={"_csrf_token": token, "organization_id": str(ids["organization"])}
    )
    assert switched.status == 403
    page.goto(f"{ui_url}/ui/agents/{ids['agent']}")
    checks.visit(page, "other-organisation-not-found")

    assert acme.get(f"/agents/{ids['agent']}").json()["name"] == "acme-secret-agent"
    assert acme.get("/api-keys").json()[0]["revoked_at"] is None
    invitations = acme.get(f"/organizations/{ids['organization']}/invitations").json()
    assert invitations[0]["revoked_at"] is None
    assert acme.get(f"/provider-keys/{ids['provider_key']}").json()["version"] == 1
    assert acme.get("/compliance/legal-holds").json()[0]["released_at"] is None
    assert [p["id"] for p in acme.get("/compliance/retention-policies").json()] == [ids["policy"]]
    assert [m["role"] for m in acme.get(f"/organizations/{ids['organization']}/members").json()] == ["owner"]
    context.close()
    assert not checks.console_errors, checks.console_errors
    assert not any(checks.axe.values()), checks.report()


def _only_call(settings: Settings) -> int:
    """Acme's call (the run's other tests leave theirs in the same database)."""
    state = CorePlugin(settings).build_state()
    try:
        with state.session() as db:
            return int(db.exec(select(Call.id).where(Call.room == "acme-secret-room")).one() or 0)
    finally:
        state.engine.dispose()


def _status(page: Page, url: str, path: str) -> int:
    response = page.goto(url + path)
    assert response is not None
    return response.status
