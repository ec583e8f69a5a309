"""``auralink serve speech``: the live speech WebSocket endpoints on their own.

The engine's HTTP app mounts the same router (:func:`speech_routes`); this
command serves it alone, for development and for a speech-only deployment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from auralink.cli.serve import serve
from auralink.speech import speech_config
from settings import Settings, SettingsError

if TYPE_CHECKING:
    from litestar import Litestar


def speech_app(settings: Settings) -> Litestar:
    """A Litestar app serving only the speech endpoints (and a liveness check).

    Usage goes where an engine's goes (:func:`~auralink.calls.engine_reporter`), so a speech-only
    deployment is billed like an engine.
    """
    from litestar import Litestar, get

    from auralink.calls import engine_reporter
    from pipeline.speech.ws import speech_routes

    reporter = engine_reporter(settings)

    @get("/healthz", sync_to_thread=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return Litestar(
        route_handlers=[speech_routes(speech_config(settings), reporter), healthz], on_shutdown=[reporter.aclose]
    )


@serve.command("speech")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any free).")
@click.pass_obj
def serve_speech(settings: Settings, host: str, port: int) -> None:
    """Serve /ws/stt and /ws/translate until Ctrl-C."""
    import uvicorn  # the web stack loads only for this command: every other command starts faster

    try:
        app = speech_app(settings)
    except SettingsError as error:  # the telemetry settings its usage reporter needs
        raise click.ClickException(str(error)) from None
    click.echo(f"speech endpoints: ws://{host}:{port}/ws/stt and ws://{host}:{port}/ws/translate")
    uvicorn.run(app, host=host, port=port, log_level=settings.log_level, ws_max_size=16 << 20)
