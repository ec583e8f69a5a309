"""``auralink config``: the settings in force and where each can be set."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from settings import Settings


@click.command()
@click.pass_obj
def config(settings: Settings) -> None:
    """Show where AuraLink keeps its data, then every setting, its value and its environment variable."""
    console = Console()
    console.print(
        f"data directory: {settings.data_dir.resolve()} (join-token secret, SQLite database, keystore, models);"
        " every command run with these settings uses it, whatever the working directory",
        soft_wrap=True,
        highlight=False,
    )
    table = Table("setting", "value", "variable", "meaning")
    for name, field in Settings.model_fields.items():
        table.add_row(name, repr(getattr(settings, name)), f"AURALINK_{name.upper()}", field.description or "")
    console.print(table)
