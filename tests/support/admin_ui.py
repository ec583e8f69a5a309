"""Driving the admin UI as a person does: the control plane on real HTTP, Debian's chromium through Playwright,
axe-core on every page, a screenshot of every page at 1366×900."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from litestar import Litestar
from playwright.async_api import Page as AsyncPage
from playwright.sync_api import ConsoleMessage, Page, Response, expect

from control_plane.app import create_app
from control_plane.plugins import CorePlugin
from control_plane.telemetry.service import ingest, publish
from settings import Settings
from telemetry.records import TelemetryRecord
from tests.support.databases import PASSWORD
from ui.admin import AdminUiPlugin

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "build" / "screenshots" / "admin-ui"
"""Where the browser tests leave a PNG of every page they visit (``build/`` is ignored by git)."""
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
"""axe-core 4.14.1 from npm, vendored with its licence header so that the tests need no network or npm step."""
VIEWPORT = {"width": 1366, "height": 900}
SERIOUS = {"serious", "critical"}
_ANSWER_STATUS = re.compile(r"Failed to load resource: the server responded with a status of \d+")
"""Chromium's note of a page answered with an error status: a refused form or a failing dependency is answered
so on purpose (the page says why); a missing asset is caught by its own check."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Served:
    url: str
    app: Litestar

    @property
    def telemetry_target(self) -> str:
        """Where engines send telemetry (when the settings gave it a port)."""
        return f"127.0.0.1:{self.app.state.telemetry_server.port}"


@contextmanager
def control_plane_with_ui(settings: Settings) -> Iterator[Served]:
    """The control plane with the admin UI, served by uvicorn on loopback in a thread (so that a test's own
    event loop stays free for engines and browsers)."""
    app = create_app(settings, migrate=False, extra=[AdminUiPlugin(settings)])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="control-plane-ui", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the control plane did not start")
        time.sleep(0.05)
    try:
        yield Served(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        thread.join(15)


@dataclass
class PageChecks:
    """What every visited page is held to: no console error (a CSP refusal is one), no serious axe violation."""

    backend: str
    console_errors: list[str] = field(default_factory=list)
    axe: dict[str, list[str]] = field(default_factory=dict)
    screenshots: list[Path] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.console_errors.append(f"page error: {error}"))
        page.on("response", self._asset)

    def _asset(self, response: Response) -> None:
        if "/ui/static/" in response.url and response.status != 200:
            self.console_errors.append(f"asset {response.url} answered {response.status}")

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not _ANSWER_STATUS.match(message.text):
            self.console_errors.append(f"{message.text} ({message.location.get('url', '')})")

    def visit(self, page: Page, name: str) -> list[str]:
        """Screenshot the page as ``<backend>-<name>.png`` and run axe on it; returns its serious violations."""
        page.wait_for_load_state("networkidle")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        target = SCREENSHOTS / f"{self.backend}-{name}.png"
        page.screenshot(path=str(target), full_page=False)
        self.screenshots.append(target)
        # evaluated through the DevTools protocol, which the page's CSP does not govern
        page.evaluate(AXE.read_text() + "\n;0")
        serious = serious_violations(page.evaluate(_AXE_RUN))
        self.axe[name] = serious
        return serious

    def report(self) -> str:
        return json.dumps({"console": self.console_errors, "axe": self.axe}, indent=1)


_AXE_RUN = "async () => await axe.run(document, {resultTypes: ['violations']})"


def serious_violations(result: dict[str, Any]) -> list[str]:
    """axe's serious and critical violations, each with the first elements it found."""
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in SERIOUS
    ]


async def axe_serious(page: AsyncPage) -> list[str]:
    """:meth:`PageChecks.visit`'s axe run, for a test driving the browser with Playwright's async API."""
    await page.evaluate(AXE.read_text() + "\n;0")
    return serious_violations(await page.evaluate(_AXE_RUN))


async def sign_in_async(page: AsyncPage, url: str, email: str) -> None:
    await page.goto(f"{url}/ui/sign-in")
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()


def telemetry_key(url: str, email: str, organization: str) -> str:
    """A new owner (``email``), their new organisation and its engine's telemetry key, through the API."""
    with httpx.Client(base_url=url, timeout=30) as api:
        assert api.post("/users", json={"email": email, "name": "Ops", "password": PASSWORD}).is_success
        assert api.post("/auth/login", json={"email": email, "password": PASSWORD}).is_success
        created = api.post("/organizations", json={"name": organization}).json()
        assert api.post("/auth/organization", json={"organization_id": created["id"]}).is_success
        return str(api.post("/api-keys", json={"name": "engine", "scopes": ["telemetry"]}).json()["key"])


def report(settings: Settings, organization_id: int, records: list[TelemetryRecord]) -> None:
    """Store telemetry as the gRPC telemetry service does (ingest, then the live store)."""
    state = CorePlugin(settings).build_state()
    try:
        with state.session() as db:
            publish(ingest(db, organization_id, records), state.realtime)
    finally:
        state.engine.dispose()
        if state.redis is not None:
            state.redis.close()


def csrf_token(html: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def sign_up(page: Page, url: str, name: str, email: str) -> None:
    page.goto(f"{url}/ui/sign-up")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()


def create_organization(page: Page, name: str) -> None:
    page.get_by_label("Organisation name").fill(name)
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name=re.compile("Overview"))).to_be_visible()


def type_card(page: Page, number: str) -> None:
    """Into the Element, as a person types it (Stripe.js reads its fields as they change)."""
    page.get_by_label("Card number").press_sequentially(number)
    page.get_by_label("Expiry month (MM)").press_sequentially("12")
    page.get_by_label("Expiry year (YY)").press_sequentially("34")
    page.get_by_label("Security code (CVC)").press_sequentially("123")
    page.get_by_label("Postal code").press_sequentially("10115")


def nav(page: Page, label: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=label).click()
