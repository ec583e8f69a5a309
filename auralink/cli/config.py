"""``auralink config``: the settings in force and where each can be set."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from auralink.settings import Settings


@click.command()
@click.pass_obj
def config(settings: Settings) -> None:
    """Show every setting, its value and its environment variable."""
    table = Table("setting", "value", "variable", "meaning")
    for name, field in Settings.model_fields.items():
        table.add_row(name, repr(getattr(settings, name)), f"AURALINK_{name.upper()}", field.description or "")
    Console().print(table)
