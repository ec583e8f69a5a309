"""``auralink serve front`` and ``auralink serve cluster``: rooms spread over engine workers through Redis."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from typing import TYPE_CHECKING

import click

from auralink.cli.serve import serve
from settings import Settings, SettingsError

if TYPE_CHECKING:
    from pipeline.cluster.registry import ClusterRegistry

WORKERS_READY_S = 90.0


@serve.command("front")
@click.option("--host", default=None, help="Listen address (default: engine_host).")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Listen port (default: engine_port).")
@click.pass_obj
def serve_front(settings: Settings, host: str | None, port: int | None) -> None:
    """Route every room's requests to the engine worker it lives on (workers join with cluster_redis_url)."""
    _run(settings, host, port, workers=0)


@serve.command("cluster")
@click.option(
    "--workers", type=click.IntRange(1, 256), default=None, help="Engine worker processes (default: one per core)."
)
@click.option("--host", default=None, help="Listen address of the front and the workers (default: engine_host).")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="The front's port (default: engine_port).")
@click.pass_obj
def serve_cluster(settings: Settings, workers: int | None, host: str | None, port: int | None) -> None:
    """A front on PORT and WORKERS engine processes on this machine; a worker that dies is started again.

    SIGTERM drains the workers (no new rooms, calls in progress finish) and then stops the front.
    """
    _run(settings, host, port, workers=workers or os.cpu_count() or 1)


def _run(settings: Settings, host: str | None, port: int | None, workers: int) -> None:
    address = host or settings.engine_host
    listen_port = settings.engine_port if port is None else port
    try:
        asyncio.run(_serve(settings, address, listen_port, workers))
    except KeyboardInterrupt:
        click.echo("cluster stopped")
    except (SettingsError, OSError) as error:
        raise click.ClickException(str(error)) from None


async def _serve(settings: Settings, host: str, port: int, workers: int) -> None:
    from auralink.cluster import cluster_registry
    from pipeline.calls.serving import serving
    from pipeline.cluster.front import Front, create_front_app
    from settings import join_token_secret

    if settings.log_level != "debug":  # httpx logs every proxied request at info
        logging.getLogger("httpx").setLevel(logging.WARNING)
    registry = await cluster_registry(settings)
    front = Front(registry, join_token_secret(settings), whip_redirect=settings.cluster_whip_redirect)
    supervisor = WorkerSupervisor(settings, host, workers)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    try:
        async with serving(create_front_app(front), host, port) as url:
            await supervisor.start()
            if workers:
                ready = await _workers_ready(registry, workers)
                click.echo(f"{ready} of {workers} engine workers serving")
            click.echo(f"front listening on {url} (call page: {url}/call/, workers: {url}/cluster/workers)")
            await stop.wait()
            click.echo("draining the workers")
            await supervisor.stop()
    finally:
        await supervisor.kill()
        await registry.aclose()


async def _workers_ready(registry: ClusterRegistry, expected: int) -> int:
    deadline = time.monotonic() + WORKERS_READY_S
    serving = 0
    while time.monotonic() < deadline:
        serving = sum(worker.state == "serving" for worker in await registry.workers())
        if serving >= expected:
            break
        await asyncio.sleep(0.5)
    return serving


class WorkerSupervisor:
    """Engine worker processes (``auralink serve engine`` in the cluster); one that dies is started again."""

    def __init__(self, settings: Settings, host: str, count: int) -> None:
        self.settings = settings
        self.host = host
        self.count = count
        self.processes: list[asyncio.subprocess.Process] = []
        self._stopping = False
        self._watchers: list[asyncio.Task[None]] = []

    def _command(self) -> list[str]:
        root = click.get_current_context(silent=True)
        config = root.find_root().params.get("config_file") if root is not None else None
        config_args = ["--config", str(config)] if config else []
        return [sys.executable, "-m", "auralink", *config_args, "serve", "engine", "--host", self.host, "--port", "0"]

    async def start(self) -> None:
        command = self._command()
        env = {**os.environ, "AURALINK_CLUSTER_REDIS_URL": self.settings.cluster_redis or ""}
        for index in range(self.count):
            self._watchers.append(asyncio.get_running_loop().create_task(self._keep(index, command, env)))

    async def _keep(self, index: int, command: list[str], env: dict[str, str]) -> None:
        while not self._stopping:
            process = await asyncio.create_subprocess_exec(*command, env=env)
            self.processes.append(process)
            code = await process.wait()
            self.processes.remove(process)
            if not self._stopping:
                click.echo(f"engine worker {index} (pid {process.pid}) exited with {code}: starting it again")
                await asyncio.sleep(0.5)

    async def stop(self) -> None:
        """SIGTERM every worker (they drain) and wait for them to exit."""
        self._stopping = True
        for process in list(self.processes):
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        await asyncio.gather(*self._watchers, return_exceptions=True)

    async def kill(self) -> None:
        self._stopping = True
        for process in list(self.processes):
            with contextlib.suppress(ProcessLookupError):
                process.kill()
        for task in self._watchers:
            task.cancel()
        await asyncio.gather(*self._watchers, return_exceptions=True)
