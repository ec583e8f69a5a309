"""``auralink demo``: a real call on this machine.

The engine starts on loopback, a room opens, and a scripted participant joins
it over WebRTC and speaks the bundled recording. The room's pipeline (each
participant's audio -> 16 kHz -> level meter -> data channel) meters the speech,
and what it emits comes back over the participant's data channel and is printed
here, together with the URL where a browser can join the same room.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from settings import Settings, SettingsError
from telemetry.records import QualitySample

BAR_WIDTH = 30
FLOOR_DBFS = -60.0


@click.command()
@click.option(
    "--output-dir",
    type=click.Path(path_type=Path),
    default=Path("auralink-demo"),
    show_default=True,
    help="Where the log of what the room's pipeline emitted is written.",
)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=None, help="Engine port (default: engine_port; 0 = any free port)."
)
@click.option("--stay", is_flag=True, help="Keep the room open after the recording, for a browser, until Ctrl-C.")
@click.pass_obj
def demo(settings: Settings, output_dir: Path, port: int | None, stay: bool) -> None:
    """Start a call: a scripted participant speaks the bundled recording into a room."""
    # aiortc and Litestar take seconds to import: only the commands that make calls pay for them
    from auralink.demo_call import demo_call, demo_server

    console = Console(highlight=False)
    try:
        server, reporter = demo_server(settings)
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    output_dir.mkdir(parents=True, exist_ok=True)
    listen_port = settings.engine_port if port is None else port
    try:
        messages = asyncio.run(demo_call(settings, server, listen_port, stay, console, message_line))
    except OSError as error:
        raise click.ClickException(f"{error} (is another engine running? try --port 0)") from None
    except KeyboardInterrupt:
        messages = []
    events = output_dir / "events.jsonl"
    events.write_text("".join(json.dumps(message) + "\n" for message in messages))
    latest = {sample.participant: sample for sample in reporter.of_type(QualitySample)}
    for sample in latest.values():
        rtt = "n/a" if sample.rtt_ms is None else f"{sample.rtt_ms:.1f} ms"
        console.print(
            f"call quality of {sample.participant}: MOS {sample.mos:.2f} (jitter {sample.jitter_ms:.1f} ms, "
            f"loss {100 * sample.loss_fraction:.1f} %, RTT {rtt}, connection {sample.bitrate_kbps:.0f} kbit/s)",
            soft_wrap=True,
        )
    console.print(f"\nevents: {events}  ({len(messages)} messages from the room's pipeline)")
    console.print(
        "next: `auralink serve engine` keeps an engine running; `auralink token` mints join tokens for it",
        soft_wrap=True,
    )


def message_line(message: dict[str, Any]) -> str:
    """One printed line for a data-channel message: a level bar, or the text."""
    seconds = float(message.get("pts_ms", 0.0)) / 1000
    if message.get("event") == "audio-level":
        rms = float(message["data"]["rms_dbfs"])
        filled = round(BAR_WIDTH * max(0.0, min(1.0, (rms - FLOOR_DBFS) / -FLOOR_DBFS)))
        bar = "█" * filled + "·" * (BAR_WIDTH - filled)
        return (
            f"{seconds:5.2f} s {message.get('speaker')}: {bar} rms {rms:6.1f} dBFS, "
            f"peak {float(message['data']['peak_dbfs']):6.1f}  ({message.get('latency_ms', 0):.0f} ms after the audio)"
        )
    if message.get("type") == "event":
        return f"{seconds:5.2f} s {message.get('speaker')}: event {message.get('event')} {message.get('data')}"
    state = "" if message.get("final") else " …"
    label = f"{message.get('type')}, {message.get('language')}"
    stamp = f"{seconds:5.2f} s"
    if message.get("type") == "translation" and "end" in message:
        # a translation covers a whole sentence: stamped by its start alone it read as if it came at once
        stamp = f"{seconds:5.2f}-{float(message['end']):.2f} s"
    return f"{stamp} {message.get('speaker')} [{label}]: {message.get('text')}{state}"
