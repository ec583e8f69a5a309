"""``auralink serve``: the long-running servers.

Each server adds its own subcommand to :data:`serve` from its own module
(``serve engine`` for calls, ``serve aic``, ``serve control-plane``), and
``auralink.cli`` imports those modules.
"""

from __future__ import annotations

import click


@click.group()
def serve() -> None:
    """Run one of AuraLink's servers until Ctrl-C."""
