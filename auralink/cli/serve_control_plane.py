"""``auralink serve control-plane``: the control plane's HTTP API and gRPC telemetry, until Ctrl-C."""

from __future__ import annotations

import click

from auralink.cli.serve import serve
from settings import Settings


@serve.command("control-plane")
@click.option("--host", default=None, help="Listen address (default: control_plane_host).")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="HTTP port (default: control_plane_port).")
@click.option(
    "--telemetry-port", type=click.IntRange(0, 65535), default=None, help="gRPC port (default: telemetry_port)."
)
@click.option("--migrate-only", is_flag=True, help="Bring the database to the latest schema, then exit.")
@click.pass_obj
def serve_control_plane(
    settings: Settings, host: str | None, port: int | None, telemetry_port: int | None, migrate_only: bool
) -> None:
    """The control plane: organisations, auth, audit, analytics, agents; migrates the database first."""
    # imported here: Litestar, SQLAlchemy and uvicorn would add a second to every other command's start
    import uvicorn
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from control_plane.app import create_app
    from control_plane.db.engine import database_url
    from control_plane.db.migrate import upgrade
    from ui.admin import AdminUiPlugin

    overrides = {"control_plane_host": host, "control_plane_port": port, "telemetry_port": telemetry_port}
    settings = settings.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    url = database_url(settings)
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        upgrade(url)
    except SQLAlchemyError as error:
        cause = getattr(error, "orig", None) or error
        raise click.ClickException(f"cannot migrate {shown}: {str(cause).splitlines()[0]}") from None
    click.echo(f"database {shown} is at the latest schema", err=True)
    if migrate_only:
        return
    app = create_app(settings, migrate=False, extra=[AdminUiPlugin(settings)])
    where = f"{settings.control_plane_host}:{settings.control_plane_port}"
    grpc_port = settings.telemetry_port
    telemetry = "no gRPC telemetry" if grpc_port is None else f"gRPC telemetry on port {grpc_port}"
    click.echo(f"control plane on http://{where} (admin UI at /, OpenAPI at /schema/swagger), {telemetry}", err=True)
    uvicorn.run(
        app,
        host=settings.control_plane_host,
        port=settings.control_plane_port,
        log_level=settings.log_level,
        access_log=settings.log_level == "debug",
    )
