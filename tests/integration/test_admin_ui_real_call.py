"""The end-to-end path of the admin UI: a real aiortc call on a real engine reports over gRPC to the control
plane, and the owner watches it in chromium on Live (while it runs) and then on Calls (its quality charts)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import async_playwright, expect

from pipeline.calls.client import ToneTrack
from telemetry.grpc_reporter import GrpcTelemetryReporter
from telemetry.records import QualitySample
from tests.support.admin_ui import SCREENSHOTS, VIEWPORT, Served, sign_in_async, telemetry_key
from tests.support.browser import CHROMIUM, CHROMIUM_FLAGS
from tests.support.engine import Engine, engine_reporting_to
from tests.support.waiting import eventually

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is installed by dev.sh"),
]


@pytest.fixture
async def reporting(
    served: Served, engine_secret: str, tmp_path: Path
) -> AsyncIterator[tuple[Engine, GrpcTelemetryReporter]]:
    key = await asyncio.to_thread(telemetry_key, served.url, "ops@acme.test", "Acme")
    async with engine_reporting_to(
        served.telemetry_target, key, tmp_path / "journal.sqlite3", engine_secret
    ) as running:
        yield running


async def test_a_real_call_appears_in_live_and_then_in_calls(
    served: Served, reporting: tuple[Engine, GrpcTelemetryReporter]
) -> None:
    engine, reporter = reporting
    await engine.create_room("weekly")
    alice, bob = engine.client("weekly", "alice"), engine.client("weekly", "bob")
    assert (await alice.join("/rooms/weekly/join", publish=ToneTrack(440))).status_code == 201
    assert (await bob.join("/rooms/weekly/join", publish=ToneTrack(660))).status_code == 201
    await eventually(
        lambda: {s.participant for s in engine.reporter.of_type(QualitySample)} >= {"alice", "bob"},
        timeout_s=30,
        what="quality samples for both",
    )
    assert await asyncio.to_thread(reporter.flush, 15), "the engine's journal did not drain"

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        page = await browser.new_page(viewport=VIEWPORT)  # type: ignore[arg-type]
        page.set_default_timeout(15_000)
        await sign_in_async(page, served.url, "ops@acme.test")
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
