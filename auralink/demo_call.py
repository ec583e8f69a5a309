"""The call behind ``auralink demo``: an engine, a room, and a narrator who speaks the bundled recording."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from auralink.calls import call_server_options, engine_app
from pipeline.calls.client import CallClient
from pipeline.calls.server import CallServer
from pipeline.calls.serving import serving
from pipeline.calls.tokens import Grant, mint_join_token
from settings import Settings
from telemetry.records import MemoryReporter

DEMO_ROOM = "demo"
SPEECH = "speech_en_16k.flac"
SPEECH_SECONDS = 7.1


def speech_sample() -> Path:
    return Path(str(files("pipeline") / "samples" / SPEECH))


async def _until_quiet(received: list[dict[str, Any]], quiet_s: float = 2.5, at_most_s: float = 12.0) -> None:
    """Wait for the last captions and translations: until the pipeline has said nothing for ``quiet_s``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + at_most_s
    seen, last_change = len(received), loop.time()
    while loop.time() < deadline and loop.time() - last_change < quiet_s:
        await asyncio.sleep(0.1)
        if len(received) != seen:
            seen, last_change = len(received), loop.time()


def demo_server(settings: Settings) -> tuple[CallServer, MemoryReporter]:
    """A call server on these settings, reporting into memory (the demo prints the quality at the end)."""
    reporter = MemoryReporter()
    return CallServer(call_server_options(settings), reporter), reporter


async def demo_call(
    settings: Settings,
    server: CallServer,
    port: int,
    stay: bool,
    console: Console,
    describe: Callable[[dict[str, Any]], str],
) -> list[dict[str, Any]]:
    """Serve the engine, open the room, let the narrator speak; returns what the room's pipeline sent back."""
    secret = server.options.secret
    received: list[dict[str, Any]] = []
    async with serving(engine_app(server, settings), settings.engine_host, port) as url:
        public = settings.engine_public_url or url
        server.create_room(mint_join_token(secret, DEMO_ROOM, "demo"), DEMO_ROOM, None)
        guest = mint_join_token(secret, DEMO_ROOM, "guest", ttl_s=3600)
        console.print(f"[bold]AuraLink demo[/]: a call in room '{DEMO_ROOM}' on {url}", soft_wrap=True)
        console.print(
            f"join it from a browser: {public}/call/#room={DEMO_ROOM}&token={guest}&autojoin=1", soft_wrap=True
        )
        console.print(f"room pipeline: {server.options.room_pipeline}", soft_wrap=True)
        console.print("the narrator speaks the bundled recording; each line is what the pipeline sent back:\n")

        def show(message: dict[str, Any]) -> None:
            if message.get("type") in ("event", "transcript", "translation", "text"):
                received.append(message)
                console.print(describe(message), soft_wrap=True, markup=False)

        # a listener hears the room and reads its data channel; it stays after the narrator leaves, so the
        # captions and translations the pipeline flushes at the end of the narrator's speech reach it too
        listener_grants = frozenset({Grant.SUBSCRIBE, Grant.DATA})
        listener = CallClient(url, mint_join_token(secret, DEMO_ROOM, "listener", listener_grants), on_message=show)
        narrator_grants = frozenset({Grant.PUBLISH, Grant.SUBSCRIBE})
        narrator = CallClient(url, mint_join_token(secret, DEMO_ROOM, "narrator", narrator_grants))
        for client, publish in ((listener, None), (narrator, str(speech_sample()))):
            response = await client.join(f"/rooms/{DEMO_ROOM}/join", publish=publish)
            if response.status_code != 201:
                raise click.ClickException(f"could not join the demo room: {response.status_code} {response.text}")
            await client.connected()
        await asyncio.sleep(SPEECH_SECONDS)
        await narrator.leave()
        await _until_quiet(received)
        await listener.leave()
        if stay:
            console.print("\nthe recording is over; the room stays open for browsers (Ctrl-C ends the demo)")
            await asyncio.Event().wait()
    return received
