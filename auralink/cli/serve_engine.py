"""``auralink serve engine``: calls over WebRTC (WHIP, WHEP, rooms, the call page), alone or as a cluster worker."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import TYPE_CHECKING

import click

from auralink.cli.serve import serve
from settings import Settings, SettingsError

if TYPE_CHECKING:
    from pipeline.calls.server import CallServer


@serve.command("engine")
@click.option("--host", default=None, help="Listen address (default: engine_host).")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Listen port (default: engine_port).")
@click.option(
    "--room-pipeline",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=None,
    help="Pipeline file run on each participant's audio (default: room_pipeline).",
)
@click.pass_obj
def serve_engine(settings: Settings, host: str | None, port: int | None, room_pipeline: Path | None) -> None:
    """Serve calls: WHIP at /whip/ROOM, WHEP at /whep/ROOM, rooms at /rooms, the call page at /call/.

    With cluster_redis_url (or redis_url) set, the engine joins that cluster as a worker; SIGTERM then
    drains it: no new rooms, the calls in progress finish, then it exits.
    """
    # aiortc and Litestar take seconds to import: only the commands that make calls pay for them
    from auralink.calls import call_server_options, engine_app, engine_reporter
    from pipeline.calls.server import CallServer
    from pipeline.calls.serving import serving

    try:
        options = call_server_options(settings, room_pipeline)
        reporter = engine_reporter(settings)
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    server = CallServer(options, reporter)
    address = host or settings.engine_host
    listen_port = settings.engine_port if port is None else port

    async def run() -> None:
        try:
            async with serving(engine_app(server, settings), address, listen_port) as url:
                click.echo(f"engine listening on {url} (call page: {settings.engine_public_url or url}/call/)")
                if settings.cluster_redis:
                    await _serve_in_cluster(settings, server, url)
                else:
                    await asyncio.Event().wait()
        finally:
            await reporter.aclose()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        click.echo("engine stopped")
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:
        raise click.ClickException(str(error)) from None


async def _serve_in_cluster(settings: Settings, server: CallServer, url: str) -> None:
    from auralink.cluster import join_cluster

    await server.warm_room_pipeline()  # a worker serving rooms of a dead one captions without loading a model
    membership = await join_cluster(settings, server, url)
    click.echo(f"engine joined the cluster as worker {membership.worker_id}")
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    try:
        await stop.wait()
        click.echo(f"draining: no new rooms; waiting for {len(server.sessions)} sessions to end")
        left = await membership.drain(settings.cluster_drain_timeout_s)
        click.echo(f"drained ({left} sessions still going after the drain timeout)" if left else "drained")
    finally:
        await server.aclose()  # its rooms close now, while the registry can still be told
        await membership.aclose()
        await membership.registry.aclose()
