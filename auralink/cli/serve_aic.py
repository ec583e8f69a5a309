"""``auralink serve aic``: the AIC compression gRPC service."""

from __future__ import annotations

import asyncio

import click

from auralink.cli.serve import serve
from settings import Settings


@serve.command("aic")
@click.option("--host", default=None, help="address to listen on (default: setting aic_host)")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="port (0 = any free port; default: aic_port)")
@click.pass_obj
def serve_aic(settings: Settings, host: str | None, port: int | None) -> None:
    """Serve auralink.aic.v1.AICCompressionService over gRPC until Ctrl-C."""
    from pipeline.aic.service import start_server  # heavy: numba kernels

    async def run() -> None:
        server, bound = await start_server(host or settings.aic_host, settings.aic_port if port is None else port)
        click.echo(f"AIC service listening on {host or settings.aic_host}:{bound} (Ctrl-C stops)", err=True)
        try:
            await server.wait_for_termination()
        finally:
            await server.stop(grace=1.0)

    try:
        asyncio.run(run())
    except OSError as error:
        raise click.ClickException(str(error)) from None
    except KeyboardInterrupt:
        pass
