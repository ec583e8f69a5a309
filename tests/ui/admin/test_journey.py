"""A person's way through the admin UI in chromium, page by page, on SQLite and PostgreSQL: every page is
screenshotted at 1366×900 and checked with axe-core, and no page logs an error (a CSP refusal would be one)."""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from settings import Settings
from telemetry.records import CallEvent, QualitySample, TelemetryRecord, UsageEvent
from tests.support.admin_ui import (
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

pytestmark = pytest.mark.slow

BROKEN_PIPELINE = """version: 1
name: broken
stages:
  - name: participant
    type: webrtc_source
  - name: meter
    type: level_metre
"""


@pytest.fixture
def journey_url(billing_settings: Settings) -> Iterator[str]:
    """The control plane with Stripe (localstripe), so that the journey pays for a plan with a typed card."""
    with control_plane_with_ui(billing_settings) as served:
        yield served.url


def test_an_owner_and_an_invited_viewer_use_every_page(
    chromium: Browser, journey_url: str, billing_settings: Settings, checks: PageChecks
) -> None:
    ui_url, settings = journey_url, billing_settings
    context = chromium.new_context(viewport={"width": 1366, "height": 900})
    context.set_default_timeout(10_000)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=ui_url)
    page = context.new_page()
    checks.watch(page)

    page.goto(ui_url)
    expect(page).to_have_url(f"{ui_url}/ui/sign-in")
    page.get_by_label("E-mail").fill("nobody@example.com")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("wrong e-mail or password")
    checks.visit(page, "sign-in")

    page.goto(f"{ui_url}/ui/sign-up")
    page.get_by_label("Your name").fill("Ada")
    page.get_by_label("E-mail").fill("not an address")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator("#e-email")).to_have_text("that is not an e-mail address")
    expect(page.locator("#e-password")).to_contain_text("at least 10 characters")
    checks.visit(page, "sign-up-errors")

    sign_up(page, ui_url, "Ada Owner", "ada@example.com")
    expect(page).to_have_url(f"{ui_url}/ui/organisations/new")
    checks.visit(page, "organisation-new")
    create_organization(page, "Acme")
    expect(page.get_by_text("No calls in this period yet")).to_be_visible()
    checks.visit(page, "overview-empty")

    organization_id = _report_calls(settings, page)
    page.reload()
    expect(page.locator(".tiles")).to_contain_text("Calls")
    expect(page.locator("[data-chart=calls] canvas")).to_be_visible()
    expect(page.locator("[data-chart=mos] canvas")).to_be_visible()
    expect(page.get_by_role("cell", name="wifi")).to_be_visible()
    page.get_by_label("Period", exact=True).select_option("7")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"days=7"))
    checks.visit(page, "overview")
    page.emulate_media(color_scheme="dark")
    checks.visit(page, "overview-dark")
    page.emulate_media(color_scheme="light")

    page.keyboard.press("Tab")  # the keyboard's way in: the skip link first, then the frame, then the page
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Members":
            break
    else:
        raise AssertionError("Tab never reached the navigation's Members link")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{ui_url}/ui/members")
    page.go_back()

    nav(page, "Calls")
    expect(page.locator("tbody tr")).to_have_count(4)
    expect(page.get_by_role("row", name=re.compile("demo")).get_by_text("low MOS")).to_be_visible()
    page.get_by_label("Minimum MOS").fill("4.1")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.get_by_role("link", name="live-room")).to_be_visible()
    page.get_by_label("Minimum MOS").fill("nine")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("alert")).to_contain_text("minimum MOS must be a number")
    nav(page, "Calls")
    page.get_by_label("Participant").fill("bob")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody tr")).to_have_count(3)
    checks.visit(page, "calls")
    page.get_by_role("link", name="standup").click()
    expect(page.get_by_role("heading", name=re.compile("alice"))).to_be_visible()
    expect(page.locator("[data-chart=quality] canvas").first).to_be_visible()
    expect(page.locator("[data-chart=network] canvas").first).to_be_visible()
    expect(page.get_by_role("cell", name="participant left")).to_be_visible()
    expect(page.get_by_role("cell", name="stt_audio_seconds")).to_be_visible()
    checks.visit(page, "call")

    fresh = sample("live-room", "carol", time.time(), mos=4.2, jitter=3.0, loss=0.0, connection="wifi")
    report(settings, organization_id, [fresh])  # engines report every few seconds; Live shows the last 15 s
    nav(page, "Live")
    carol = page.locator("tr[data-participant=carol]")
    expect(carol).to_contain_text("4.20")
    report(
        settings,
        organization_id,
        [sample("live-room", "carol", time.time(), mos=2.5, jitter=41.0, loss=0.08, connection="wifi")],
    )
    expect(carol).to_contain_text("2.50", timeout=2_500)  # pushed over server-sent events, no reload
    expect(carol).to_contain_text("41.0")
    checks.visit(page, "live")

    insights = page.request.post(f"{ui_url}/analytics/insights/refresh")  # the scheduled job, run now
    assert insights.ok and insights.json()["new"] >= 1
    nav(page, "Analytics")
    page.get_by_label("Usage by", exact=True).select_option("week")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name="AI usage by week")).to_be_visible()
    expect(page.get_by_role("cell", name="whisper-tiny.en")).to_be_visible()
    page.get_by_role("button", name="Acknowledge").first.click()
    expect(page.get_by_text("acknowledged")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("MOS by connection")
    page.get_by_label("Data", exact=True).select_option("quality")
    page.get_by_role("button", name="Save and run").click()
    expect(page.get_by_role("alert")).to_contain_text("measures: List should have at least 1 item")
    page.get_by_role("checkbox", name="avg_mos").first.check()
    page.locator("input[name=quality_measures][value=samples]").check()
    page.locator("input[name=quality_dimensions][value=connection_type]").check()
    page.get_by_role("button", name="Save and run").click()
    expect(page.get_by_role("heading", name="MOS by connection")).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(3)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    report_rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    assert {r["connection_type"] for r in report_rows} == {"wifi", "wired", "cellular"}
    checks.visit(page, "report")
    nav(page, "Analytics")
    checks.visit(page, "analytics")

    nav(page, "Members")
    page.get_by_label("E-mail").fill("bob@example.com")
    page.get_by_label("Role", exact=True).select_option("viewer")
    page.get_by_role("button", name="Invite").click()
    link = page.locator("#invitation-link").inner_text()
    assert "/ui/invitation?token=" in link
    expect(page.get_by_role("cell", name="bob@example.com")).to_be_visible()
    checks.visit(page, "members")

    nav(page, "API keys")
    expect(page.get_by_text("No API keys yet")).to_be_visible()
    page.get_by_label("Name").fill("ci")
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("#e-scopes")).to_be_visible()
    page.get_by_label("Name").fill("ci")
    page.get_by_role("checkbox", name=re.compile("read:")).check()
    page.get_by_role("checkbox", name=re.compile("write:")).check()
    page.get_by_role("button", name="Create key").click()
    key = page.locator("#new-key").inner_text()
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == key
    assert httpx.get(f"{ui_url}/agents", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    checks.visit(page, "api-keys")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("revoked")).to_be_visible()
    assert httpx.get(f"{ui_url}/agents", headers={"Authorization": f"Bearer {key}"}).status_code == 401

    nav(page, "Agents")
    expect(page.get_by_text("No agents yet")).to_be_visible()
    checks.visit(page, "agents-empty")
    page.get_by_role("link", name="New agent").click()
    page.get_by_label("Name", exact=True).fill("levels")
    page.get_by_label("Pipeline (YAML)").fill(BROKEN_PIPELINE)
    problem = page.locator("#pipeline-problems .problems li").first
    expect(problem).to_contain_text("levels.yaml:7:5")
    expect(problem).to_contain_text("level_metre")
    checks.visit(page, "agent-invalid")
    page.get_by_role("button", name="Create agent").click()
    expect(page.locator("#pipeline-problems")).to_contain_text("levels.yaml:7:5")
    page.get_by_label("Pipeline (YAML)").fill(BROKEN_PIPELINE.replace("level_metre", "level_meter"))
    expect(page.locator("#pipeline-problems")).to_contain_text("The pipeline is valid")
    page.get_by_role("button", name="Create agent").click()
    expect(page.get_by_role("heading", name="levels")).to_be_visible()
    page.get_by_label("Room", exact=True).fill("not a room!")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#e-room")).to_be_visible()
    page.get_by_label("Room", exact=True).fill("standup")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_contain_text("engine")
    checks.visit(page, "agent")
    agent_path = page.url.split(ui_url)[1].removesuffix("/join")

    nav(page, "Secrets")
    expect(page.get_by_text("No provider keys yet")).to_be_visible()
    page.get_by_label("Provider", exact=True).select_option("deepgram")
    page.get_by_label("Name", exact=True).fill("speech")
    page.get_by_label("Key", exact=True).fill("too short")
    page.get_by_role("button", name="Add").click()
    expect(page.locator("#e-key")).to_contain_text("a provider key has 16 to 4096 characters, not 9")
    expect(page.get_by_label("Key", exact=True)).to_have_value("")  # a secret is never sent back
    page.get_by_label("Key", exact=True).fill("dg-0123456789abcdef-secret")
    page.get_by_role("button", name="Add").click()
    row = page.get_by_role("row", name=re.compile("speech"))
    expect(row).to_contain_text("deepgram")
    assert "0123456789abcdef" not in page.content()
    page.get_by_label("New value of speech").fill("dg-fedcba9876543210-secret")
    page.get_by_role("button", name="Rotate", exact=True).click()
    expect(page.get_by_role("row", name=re.compile("speech")).get_by_role("cell").nth(3)).to_have_text("2")
    page.get_by_role("button", name="Rotate the key").click()
    expect(page.locator(".banner.success")).to_contain_text("now encrypts new secrets")
    page.get_by_label("Retire key versions up to").select_option("1")
    page.get_by_role("button", name="Retire", exact=True).click()  # the key's secrets still need version 1
    expect(page.locator("#e-version")).to_contain_text("still use key version 1 or older: rewrap first")
    page.get_by_role("button", name="Re-wrap every secret to the current version").click()
    expect(page.locator(".banner.success")).to_contain_text("moved to key version 2")
    page.get_by_label("Retire key versions up to").select_option("1")
    page.get_by_role("button", name="Retire", exact=True).click()
    expect(page.locator(".banner.success")).to_contain_text("Key versions up to 1 are retired; 2 still decrypt.")
    expect(page.get_by_label("Retire key versions up to")).to_have_count(0)  # only the current one is left
    checks.visit(page, "secrets")

    nav(page, "Billing")
    expect(page.get_by_role("heading", name="Plan: Free")).to_be_visible()
    expect(page.get_by_label(re.compile(r"AI calls: \d of 100 included"))).to_be_visible()
    expect(page.get_by_role("cell", name="stt_audio_seconds").first).to_be_visible()
    type_card(page, "4242424242424242")
    page.get_by_role("button", name="Save the card").click()
    expect(page.locator("#card-on-file")).to_contain_text("ending 4242")
    page.get_by_role("radio", name=re.compile(r"^\s*Pro\b")).check()
    page.get_by_role("button", name="Change plan").click()
    expect(page.get_by_role("heading", name="Plan: Pro")).to_be_visible()
    page.get_by_role("button", name="Fetch invoices from Stripe").click()
    expect(page.locator("section[aria-labelledby=inv-h] tbody tr").first).to_contain_text("paid")
    checks.visit(page, "billing-journey")

    nav(page, "Compliance")
    expect(page.get_by_text("No exports or erasures yet")).to_be_visible()
    page.get_by_label("What").select_option("organization")
    page.get_by_label("Format").select_option("csv")
    page.get_by_role("button", name="Request the export").click()
    export = page.locator("#compliance-requests tbody tr").first
    expect(export).to_contain_text("completed", timeout=15_000)  # polled while it runs
    with page.expect_download() as download:
        export.get_by_role("link", name=re.compile("Download")).click()
    assert download.value.path().read_bytes()[:2] == b"PK"  # a zip of CSV files
    page.get_by_label("Reason").fill("litigation 2026-114")
    page.get_by_role("button", name="Place hold").click()
    page.get_by_label("E-mail of the person").fill("carol@example.com")
    page.get_by_label(re.compile("to confirm")).fill("erase carol@example.com")
    page.get_by_role("button", name="Erase").click()
    expect(page.get_by_role("alert")).to_contain_text("under legal hold")
    expect(page.get_by_role("alert")).to_contain_text("litigation 2026-114")
    page.get_by_role("button", name="Release").click()
    page.get_by_label("E-mail of the person").fill("carol@example.com")
    page.get_by_label(re.compile("to confirm")).fill("erase someone")
    page.get_by_role("button", name="Erase").click()
    expect(page.locator("#e-confirmation")).to_have_text("type: erase carol@example.com")
    page.get_by_label(re.compile("to confirm")).fill("erase carol@example.com")
    page.get_by_role("button", name="Erase").click()
    erasure = page.locator("#compliance-requests tbody tr").first
    expect(erasure).to_contain_text("completed", timeout=15_000)
    page.get_by_label("Data", exact=True).select_option("quality_samples")
    page.get_by_label("Keep for (days)").fill("0")
    page.get_by_role("button", name="Add policy").click()
    expect(page.locator("#e-retention_days")).to_contain_text("greater than or equal to 1")
    page.get_by_label("Keep for (days)").fill("90")
    page.get_by_role("button", name="Add policy").click()
    expect(page.get_by_role("cell", name="quality samples")).to_be_visible()
    checks.visit(page, "compliance")

    nav(page, "Audit log")
    expect(page.get_by_role("cell", name="agent.create")).to_be_visible()
    page.get_by_label("Action").fill("api_key.revoke")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    assert [r["action"] for r in rows] == ["api_key.revoke"]
    page.get_by_label("Action").fill("")
    page.get_by_role("button", name="Filter").click()
    actions = page.locator("tbody td:nth-child(3)").all_inner_texts()
    for step in [
        "organization.create",
        "invitation.create",
        "api_key.create",
        "agent.create",
        "provider_key.create",
        "compliance.export.complete",
        "compliance.export.download",
        "compliance.erasure.complete",
        "compliance.hold.place",
        "billing.payment_method.update",
        "billing.subscription.create",
    ]:
        assert step in actions, (step, actions)
    checks.visit(page, "audit")

    nav(page, "System")
    expect(page.get_by_role("cell", name="database")).to_be_visible()
    checks.visit(page, "system")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/ui/sign-in"))
    page.goto(ui_url + agent_path)
    expect(page).to_have_url(re.compile(r"/ui/sign-in\?next=/ui/agents/"))

    page.goto(link)
    checks.visit(page, "invitation-signed-out")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Your name").fill("Bob Viewer")
    page.get_by_label("E-mail").fill("bob@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_label("Invitation code")).to_have_value(link.split("token=")[1])
    checks.visit(page, "invitation")
    page.get_by_role("button", name="Join the organisation").click()
    expect(page.get_by_role("heading", name=re.compile("Overview"))).to_contain_text("Acme")
    labels = page.get_by_role("navigation", name="Main").get_by_role("link").all_inner_texts()
    assert labels == ["Overview", "Live", "Calls", "Analytics", "Members", "Agents", "Billing"]
    page.goto(f"{ui_url}/ui/secrets")
    expect(page.get_by_role("alert")).to_contain_text("manage_secrets")
    nav(page, "Agents")
    expect(page.get_by_role("link", name="New agent")).to_have_count(0)
    page.goto(f"{ui_url}/ui/api-keys")
    expect(page.get_by_role("alert")).to_contain_text("manage_members")
    checks.visit(page, "forbidden")
    token = csrf_token(page.content())
    refused = page.request.post(f"{ui_url}/ui/members/1/role", form={"_csrf_token": token, "role": "viewer"})
    assert refused.status == 403
    forged = page.request.post(f"{ui_url}/ui/members/1/role", form={"role": "viewer"})
    assert forged.status == 403 and "expired or came from another site" in forged.text()

    page.goto(f"{ui_url}/ui/organisations/new")
    create_organization(page, "Bobco")
    nav(page, "Agents")
    expect(page.get_by_text("No agents yet")).to_be_visible()
    page.goto(ui_url + agent_path)
    expect(page.get_by_role("alert")).to_contain_text("not found")
    page.goto(ui_url)
    page.get_by_label("Organisation").select_option(label="Acme (viewer)")
    page.get_by_role("button", name="Switch").click()
    expect(page.get_by_role("heading", name=re.compile("Overview"))).to_contain_text("Acme")
    assert organization_id

    context.close()
    print(checks.report())
    assert not checks.console_errors, checks.console_errors
    assert not any(checks.axe.values()), checks.report()


def _report_calls(settings: Settings, page: Page) -> int:
    """Three finished calls and one in progress, reported as the engines' gRPC reporter does."""
    organization_id = int(page.locator("#organization_id option[selected]").get_attribute("value") or 0)
    now = time.time()
    records: list[TelemetryRecord] = []
    for index, (room, connection) in enumerate([("standup", "wifi"), ("retro", "wired"), ("demo", "cellular")]):
        start = now - 86400 * index - 600
        records += [
            CallEvent("room-opened", room, at=start),
            CallEvent("participant-joined", room, "alice", at=start + 1),
            CallEvent("participant-joined", room, "bob", at=start + 2),
            *(
                sample(
                    room,
                    who,
                    start + 5 + 10 * i,
                    mos=4.3 - 0.4 * i - (0.5 if room == "demo" else 0.0),
                    jitter=4.0 + i,
                    loss=0.01 * i,
                    connection=connection,
                )
                for i in range(3)
                for who in ("alice", "bob")
            ),
            UsageEvent("stt_audio_seconds", 120.0, room, "alice", "stt", "whisper-tiny.en", at=start + 30),
            CallEvent("participant-left", room, "bob", at=start + 300),
            CallEvent("room-closed", room, at=start + 400),
        ]
    records += [
        CallEvent("room-opened", "live-room", at=now - 60),
        CallEvent("participant-joined", "live-room", "carol", at=now - 59),
        sample("live-room", "carol", now - 1, mos=4.2, jitter=3.0, loss=0.0, connection="wifi"),
    ]
    report(settings, organization_id, records)
    return organization_id


def sample(room: str, who: str, at: float, *, mos: float, jitter: float, loss: float, connection: str) -> QualitySample:
    return QualitySample(room, who, "audio", jitter, 0, loss, 40.0, 32.0, mos, connection_type=connection, at=at)
