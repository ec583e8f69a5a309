"""``auralink demo``: the example pipeline, end to end, on the bundled speech recording."""

from __future__ import annotations

import asyncio
from importlib.resources import files
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from auralink.cli.pipelines import run_pipeline
from auralink.settings import Settings
from engine.frames import EventFrame, Frame, FrameKind
from engine.runner import GraphRunner, RunResult
from pipeline.config import ConfigError, Pipeline, load_pipeline

DEMO_PIPELINE = "speech_levels.yaml"
BAR_WIDTH = 30
FLOOR_DBFS = -60.0


def demo_pipeline_path() -> Path:
    return Path(str(files("pipeline") / "examples" / DEMO_PIPELINE))


@click.command()
@click.option(
    "--output-dir",
    type=click.Path(path_type=Path),
    default=Path("auralink-demo"),
    show_default=True,
    help="Where the recording and the event log are written.",
)
@click.option("--fast", is_flag=True, help="Do not pace the recording in real time.")
@click.pass_obj
def demo(settings: Settings, output_dir: Path, fast: bool) -> None:
    """Play the bundled speech recording through the demo pipeline."""
    console = Console()
    output_dir.mkdir(parents=True, exist_ok=True)
    recording, events = output_dir / "speech-16k.wav", output_dir / "events.jsonl"
    overrides: dict[str, dict[str, Any]] = {
        "speech": {"realtime": not fast},
        "recording": {"path": str(recording)},
        "events": {"path": str(events)},
    }
    try:
        loaded = load_pipeline(demo_pipeline_path(), overrides)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    console.print(f"[bold]AuraLink demo[/]: {loaded.document.description}", soft_wrap=True)
    console.print(f"pipeline file: {loaded.path}", soft_wrap=True)
    console.print("each line is 250 ms of the recording: its loudness (RMS) as a bar, and its peak\n")
    result = asyncio.run(_run(loaded, settings, console))
    if not result.ok:
        raise SystemExit(1)
    console.print(f"\nrecording: {recording}  ({recording.stat().st_size} bytes, 16 kHz mono)")
    console.print(f"events:    {events}")
    console.print(
        f"\nnext: copy {loaded.path.name}, edit it, check it with `auralink validate FILE`, "
        "run it with `auralink run FILE`",
        soft_wrap=True,
    )


async def _run(loaded: Pipeline, settings: Settings, console: Console) -> RunResult:
    def show(frame: Frame) -> None:
        if isinstance(frame, EventFrame) and frame.name == "audio-level":
            console.print(level_line(frame), soft_wrap=True, highlight=False)

    def probe_levels(runner: GraphRunner) -> None:
        runner.add_probe("meter", show, [FrameKind.EVENT])

    return await run_pipeline(loaded, settings, live=False, prepare=probe_levels)


def level_line(event: EventFrame) -> str:
    """One line of the demo's level meter: time, bar, RMS and peak."""
    rms = float(event.data["rms_dbfs"])
    filled = round(BAR_WIDTH * max(0.0, min(1.0, (rms - FLOOR_DBFS) / -FLOOR_DBFS)))
    bar = "█" * filled + "·" * (BAR_WIDTH - filled)
    return f"{event.pts_ns / 1e9:5.2f} s {bar} rms {rms:6.1f} dBFS, peak {event.data['peak_dbfs']:6.1f}"
