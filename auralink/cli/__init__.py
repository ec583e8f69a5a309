"""The ``auralink`` command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from auralink import __version__
from auralink.cli.bench import bench
from auralink.cli.billing import billing
from auralink.cli.config import config
from auralink.cli.demo import demo
from auralink.cli.models import models
from auralink.cli.pipelines import run, schema, validate
from auralink.cli.serve import serve
from auralink.cli.serve_aic import serve_aic  # noqa: F401 - registers `serve aic`
from auralink.cli.serve_cluster import serve_cluster  # noqa: F401 - registers `serve cluster` and `serve front`
from auralink.cli.serve_control_plane import serve_control_plane  # noqa: F401  (registers `serve control-plane`)
from auralink.cli.serve_engine import serve_engine  # noqa: F401  (registers `serve engine`)
from auralink.cli.serve_speech import serve_speech  # noqa: F401 - registers `serve speech`
from auralink.cli.token import token
from auralink.cli.transcribe import transcribe
from auralink.logs import configure_logging
from engine.executors import configure_executor
from pipeline.speech.models import configure_models_dir
from settings import SettingsError, load_settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="auralink")
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path),
    default=None,
    help="TOML config file (default: $AURALINK_CONFIG).",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default=None,
    help="Override AURALINK_LOG_LEVEL.",
)
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None, log_level: str | None) -> None:
    """AuraLink: real-time media pipelines."""
    try:
        settings = load_settings(config_file, log_level=log_level)
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    configure_logging(settings.log_level, settings.log_format)
    configure_executor(settings.worker_threads)
    configure_models_dir(settings.speech_models_dir)
    ctx.obj = settings


for command in (validate, run, schema, demo, bench, config, serve, token, models, transcribe, billing):
    cli.add_command(command)


def main() -> None:
    """Console-script entry point."""
    sys.exit(cli.main(standalone_mode=True))
