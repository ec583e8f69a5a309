"""Headless Chromium (Debian's, fake media devices) joins a room through the call page."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiortc.mediastreams import VideoStreamTrack
from playwright.async_api import BrowserContext

from pipeline.calls.client import ToneTrack
from pipeline.calls.tokens import Grant, mint_join_token
from tests.pipeline.calls.stages import CAPTION_PIPELINE
from tests.support.browser import CHROMIUM, chromium
from tests.support.engine import Engine
from tests.support.waiting import eventually

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is installed by dev.sh"),
]


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[BrowserContext]:
    async with chromium(tmp_path / "chromium-profile") as context:
        yield context


async def page_state(page: Any, expression: str) -> Any:
    return await page.evaluate(expression)


async def test_browser_and_aiortc_client_meet_hear_each_other_and_captions_arrive(
    engine: Engine, browser: BrowserContext, captioner: None, tmp_path: Path
) -> None:
    await engine.create_room("meet")
    bot = engine.client("meet", "bot")
    joined = await bot.join("/rooms/meet/join", publish=ToneTrack(500), camera=VideoStreamTrack(), video_slots=1)
    assert joined.status_code == 201
    async with httpx.AsyncClient(base_url=engine.url) as http:
        started = await http.post(
            "/rooms/meet/agents",
            json={"identity": "captioner", "pipeline": CAPTION_PIPELINE, "languages": ["en"]},
            headers={"Authorization": f"Bearer {engine.token('meet', 'control-plane', frozenset({Grant.AGENT}))}"},
        )
    assert started.status_code == 201, started.text

    page = await browser.new_page()
    await page.goto(f"{engine.url}/call/#room=meet&token={engine.token('meet', 'browser')}&autojoin=1")
    await eventually(lambda: "browser" in engine.server.rooms["meet"].participants, what="the browser joins")
    browser_session = engine.server.rooms["meet"].participants["browser"]
    await eventually(
        lambda: browser_session.pc is not None and browser_session.pc.connectionState == "connected",
        timeout_s=30,
        what="the browser's connection",
    )

    captions = page.locator("#captions li.final")
    await captions.first.wait_for(timeout=30000)
    assert "heard block" in (await captions.first.inner_text())
    both_kinds = """() => {
        const finals = new Set(window.auralink.messages.filter((m) => m.type === "transcript").map((m) => m.final));
        return finals.size === 2 && window.auralink.messages.some((m) => m.event === "audio-level");
    }"""
    await page.wait_for_function(both_kinds, timeout=30000)
    messages = await page_state(page, "window.auralink.messages")
    transcripts = [m for m in messages if m["type"] == "transcript"]
    assert {m["final"] for m in transcripts} == {True, False}
    assert all(m["language"] == "en" and m["speaker"] == "captioner" for m in transcripts)
    assert any(m["type"] == "event" and m["event"] == "audio-level" and m["speaker"] == "bot" for m in messages)

    # the bot hears the browser's fake microphone; the browser hears the bot's tone
    await eventually(lambda: bot.audio.loud_frames > 10, timeout_s=30, what="the browser's audio at the bot")
    peak = 0.0
    for _ in range(100):
        peak = await page_state(page, "window.auralink.remoteAudioPeak")
        if peak > 0.05:
            break
        await page.wait_for_timeout(100)
    assert peak > 0.05, "the bot's tone did not reach the browser"

    # video both ways: the bot sees the browser's fake camera, the page shows the bot's picture in a tile
    await eventually(lambda: bot.audio.video_frames > 10, timeout_s=30, what="the browser's camera at the bot")
    bot_tile = "document.querySelector('figure.tile[data-identity=\"bot\"] video')"
    await page.wait_for_function(f"{bot_tile} && {bot_tile}.videoWidth > 0", timeout=30000)
    await page.wait_for_function("document.querySelector('#quality').textContent.startsWith('MOS')", timeout=30000)
    screenshot = tmp_path / "call-page.png"
    await page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 10_000
    if target := os.environ.get("AURALINK_SCREENSHOT_DIR"):
        shutil.copy(screenshot, Path(target) / "call-page.png")

    await page.click("#leave")
    await eventually(lambda: "browser" not in engine.server.rooms["meet"].participants, what="the browser leaves")


async def test_the_call_page_explains_a_refused_join_and_turns_the_camera_off(
    engine: Engine, browser: BrowserContext
) -> None:
    await engine.create_room("locked")
    forged = mint_join_token(secrets.token_urlsafe(32), "locked", "eve")
    page = await browser.new_page()
    await page.goto(f"{engine.url}/call/#room=locked&token={forged}&autojoin=1")
    await page.wait_for_function("document.querySelector('#status').textContent.startsWith('Could not join')")
    assert (await page.inner_text("#status")).startswith(
        "Could not join: the join token was signed with a different secret than this server's"
    )
    assert await page_state(page, "document.querySelector('#self-video').srcObject") is None
    assert await page.is_enabled("#join") and not engine.server.sessions
