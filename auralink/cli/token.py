"""``auralink token``: mint a join token for scripts and tests."""

from __future__ import annotations

import click

from settings import Settings, SettingsError

GRANTS = ("publish", "subscribe", "data", "agent")
"""The values of :class:`pipeline.calls.tokens.Grant` (a test keeps them equal)."""
DEFAULT_GRANTS = ("publish", "subscribe", "data")
MAX_TTL_S = 24 * 3600


@click.command()
@click.option("--room", required=True, help="The room the token admits to.")
@click.option("--identity", required=True, help="Who joins (unique in the room).")
@click.option(
    "--grant",
    "grants",
    multiple=True,
    type=click.Choice(GRANTS),
    help="What the holder may do (repeatable; default: publish, subscribe, data).",
)
@click.option("--ttl", type=click.FloatRange(1, MAX_TTL_S), default=600.0, show_default=True, help="Seconds valid.")
@click.pass_obj
def token(settings: Settings, room: str, identity: str, grants: tuple[str, ...], ttl: float) -> None:
    """Print a signed join token (send it as 'Authorization: Bearer TOKEN')."""
    # PyJWT and its crypto back end are imported only when a token is minted, not for every `auralink` command
    from pipeline.calls.tokens import Grant, TokenError, mint_join_token
    from settings import join_token_secret

    try:
        secret = join_token_secret(settings)
        chosen = {Grant(value) for value in (grants or DEFAULT_GRANTS)}
        click.echo(mint_join_token(secret, room, identity, chosen, ttl_s=ttl))
    except (SettingsError, TokenError) as error:
        raise click.ClickException(str(error)) from None
