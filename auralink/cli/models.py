"""``auralink models``: which speech models are available, where, how big, and whether they are intact."""

from __future__ import annotations

import click
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from pipeline.speech.models import ModelError, catalogue, resolve_model, verify_model
from settings import Settings


@click.group()
def models() -> None:
    """Speech models: packaged (tiny.en, base) or local directories."""


@models.command("list")
@click.pass_obj
def list_models(settings: Settings) -> None:
    """Show every packaged model, where it is and how big."""
    for entry in catalogue(settings.speech_models_dir):
        size = f"{entry.size_bytes / 1e6:.1f} MB" if entry.size_bytes else "-"
        click.echo(f"{entry.name:<8} {entry.languages:<12} {entry.status:<13} {size:>9}  from {entry.source}")
        click.echo(f"{'':<8} {entry.path or '(joined into ' + str(settings.speech_models_dir) + ' on first use)'}")
    click.echo("Any faster-whisper model directory works too: --model PATH, or stt_model in the settings.")


@models.command()
@click.argument("names", nargs=-1)
@click.pass_obj
def verify(settings: Settings, names: tuple[str, ...]) -> None:
    """Check models (all packaged ones by default): files present, checksums match; joins base if needed."""
    wanted = list(names) or [entry.name for entry in catalogue(settings.speech_models_dir)]
    failed = 0
    for name in wanted:
        try:
            path = prepare_model(name, settings)
            entry = next((e for e in catalogue(settings.speech_models_dir) if e.name == name), None)
            checked = verify_model(entry) if entry is not None else "files present"
        except ModelError as error:
            failed += 1
            click.echo(f"FAILED {name}: {error}", err=True)
            continue
        click.echo(f"ok     {name}: {path} ({checked})")
    if failed:
        raise click.exceptions.Exit(1)


def prepare_model(name: str, settings: Settings) -> str:
    """Resolve ``name``; a split model is joined into the cache the first time, behind a progress bar."""
    bars: list[Progress] = []

    def advance(done: int, total: int) -> None:
        if not bars:  # only a model that is being joined shows a bar
            columns = (TextColumn(f"joining {name}"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
            bars.append(Progress(*columns, console=Console(stderr=True), transient=True))
            bars[0].start()
            bars[0].add_task(name, total=total)
        bars[0].update(bars[0].task_ids[0], completed=done)

    try:
        return str(resolve_model(name, settings.speech_models_dir, progress=advance))
    finally:
        for bar in bars:
            bar.stop()
