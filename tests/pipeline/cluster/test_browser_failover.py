"""Headless Chromium on the call page, served by a cluster's front: its worker is killed mid-call and the page
reconnects by itself (a new offer through the front), back in the call with the room's events flowing."""

from __future__ import annotations

import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext

from pipeline.calls.client import ToneTrack
from tests.support.browser import CHROMIUM, chromium
from tests.support.cluster import running_cluster
from tests.support.paths import EXAMPLES

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is installed by dev.sh"),
]

LEVELS_SEEN = "window.auralink.messages.filter((m) => m.event === 'audio-level').length"


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[BrowserContext]:
    async with chromium(tmp_path / "chromium-profile") as context:
        yield context


async def test_the_call_page_comes_back_through_the_front_after_its_worker_dies(
    browser: BrowserContext, tmp_path: Path
) -> None:
    async with running_cluster(tmp_path, workers=2, room_pipeline=EXAMPLES / "room_levels.yaml") as cluster:
        bot = cluster.client("meet", "bot")
        assert (await cluster.create_room("meet")).status_code == 201
        assert (await bot.join("/rooms/meet/join", publish=ToneTrack(500))).status_code == 201
        page = await browser.new_page()
        await page.goto(f"{cluster.url}/call/#room=meet&token={cluster.token('meet', 'browser')}&autojoin=1")
        await page.wait_for_function("window.auralink.pc?.connectionState === 'connected'", timeout=30000)
        await page.wait_for_function(f"{LEVELS_SEEN} > 0", timeout=30000)

        doomed = await cluster.worker_of("meet")
        doomed.process.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        await page.wait_for_function(
            "window.auralink.reconnects > 0 && window.auralink.pc.connectionState === 'connected'", timeout=5000
        )
        back_s = time.monotonic() - killed
        seen = await page.evaluate(LEVELS_SEEN)
        await page.wait_for_function(f"{LEVELS_SEEN} > {seen}", timeout=10000)  # the room's pipeline talks again
        assert back_s < 5
        assert await cluster.worker_of("meet") is not doomed
        assert "reconnecting" not in (await page.locator("#status").inner_text())
