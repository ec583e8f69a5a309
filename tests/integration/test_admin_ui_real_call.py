"""The end-to-end path of the admin UI: a real aiortc call on a real engine reports over gRPC to the control
plane, and the owner watches it in chromium on Live (while it runs) and then on Calls (its quality charts)."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import async_playwright, expect
from pydantic import SecretStr

from control_plane.db.migrate import upgrade
from pipeline.calls.client import ToneTrack
from pipeline.calls.http import create_engine_app
from pipeline.calls.server import CallServer
from pipeline.calls.serving import serving
from settings import Settings
from telemetry.grpc_reporter import GrpcTelemetryReporter
from telemetry.records import FanOutReporter, MemoryReporter, QualitySample
from tests.support.admin_ui import SCREENSHOTS, VIEWPORT, Served, control_plane_with_ui
from tests.support.browser import CHROMIUM, CHROMIUM_FLAGS
from tests.support.databases import PASSWORD
from tests.support.engine import ROOM_PIPELINE, Engine, engine_options
from tests.support.waiting import eventually

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is installed by dev.sh"),
]


@pytest.fixture
def engine_secret() -> str:
    return secrets.token_urlsafe(32)


@pytest.fixture
def served(tmp_path: Path, engine_secret: str) -> Iterator[Served]:
    upgrade(f"sqlite:///{tmp_path / 'control_plane.db'}")
    settings = Settings(data_dir=tmp_path, telemetry_port=0, join_token_secret=SecretStr(engine_secret))
    with control_plane_with_ui(settings) as running:
        yield running


def telemetry_key(url: str) -> str:
    """An owner, their organisation and its engine's telemetry key, through the API."""
    with httpx.Client(base_url=url, timeout=30) as api:
        assert api.post("/users", json={"email": "ops@acme.test", "name": "Ops", "password": PASSWORD}).is_success
        assert api.post("/auth/login", json={"email": "ops@acme.test", "password": PASSWORD}).is_success
        organization = api.post("/organizations", json={"name": "Acme"}).json()
        assert api.post("/auth/organization", json={"organization_id": organization["id"]}).is_success
        return str(api.post("/api-keys", json={"name": "engine", "scopes": ["telemetry"]}).json()["key"])


@pytest.fixture
async def engine(served: Served, engine_secret: str, tmp_path: Path) -> AsyncIterator[Engine]:
    key = await asyncio.to_thread(telemetry_key, served.url)
    memory = MemoryReporter()
    reporter = GrpcTelemetryReporter(served.telemetry_target, key, tmp_path / "journal.sqlite3")
    server = CallServer(engine_options(engine_secret, room_pipeline=ROOM_PIPELINE), FanOutReporter(memory, reporter))
    async with serving(create_engine_app(server)) as url:
        running = Engine(url, server, memory, engine_secret)
        running.grpc_reporter = reporter  # type: ignore[attr-defined]
        try:
            yield running
        finally:
            for client in running.clients:
                await client.leave(say_goodbye=False)
            await reporter.aclose()


async def test_a_real_call_appears_in_live_and_then_in_calls(served: Served, engine: Engine) -> None:
    await engine.create_room("weekly")
    alice, bob = engine.client("weekly", "alice"), engine.client("weekly", "bob")
    assert (await alice.join("/rooms/weekly/join", publish=ToneTrack(440))).status_code == 201
    assert (await bob.join("/rooms/weekly/join", publish=ToneTrack(660))).status_code == 201
    await eventually(
        lambda: {s.participant for s in engine.reporter.of_type(QualitySample)} >= {"alice", "bob"},
        timeout_s=30,
        what="quality samples for both",
    )
    reporter: GrpcTelemetryReporter = engine.grpc_reporter  # type: ignore[attr-defined]
    assert await asyncio.to_thread(reporter.flush, 15), "the engine's journal did not drain"

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        page = await browser.new_page(viewport=VIEWPORT)  # type: ignore[arg-type]
        page.set_default_timeout(15_000)
        await page.goto(f"{served.url}/ui/sign-in")
        await page.get_by_label("E-mail").fill("ops@acme.test")
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await page.get_by_role("navigation", name="Main").get_by_role("link", name="Live").click()
        for who in ("alice", "bob"):
            await expect(page.locator(f"tr[data-participant={who}] td").nth(1)).to_have_text(
                re.compile(r"^[1-4]\.\d\d$")
            )
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / "real-call-live.png"))

        assert await alice.leave() == 204
        assert await bob.leave() == 204
        await eventually(lambda: not engine.server.rooms["weekly"].participants, what="everyone gone")
        assert await asyncio.to_thread(reporter.flush, 15), "the engine's journal did not drain"
        await expect(page.locator("tr[data-participant=alice]")).to_have_count(0)  # gone from Live, pushed

        await page.get_by_role("navigation", name="Main").get_by_role("link", name="Calls").click()
        await page.get_by_role("link", name="weekly").click()
        await expect(page.get_by_role("heading", name=re.compile("^alice"))).to_be_visible()
        await expect(page.locator("[data-chart=quality] canvas")).to_have_count(2)
        await expect(page.get_by_role("cell", name="participant left").first).to_be_visible()
        await page.screenshot(path=str(SCREENSHOTS / "real-call-call.png"), full_page=True)
        await browser.close()
