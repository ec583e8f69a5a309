"""``auralink validate``, ``auralink run`` and ``auralink schema``."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import click
from prometheus_client import CollectorRegistry, start_http_server
from rich.console import Console

from auralink.cli.live_view import LiveView
from engine.metrics import GraphMetricsCollector
from engine.runner import GraphRunner, GraphState, RunResult
from pipeline.config import ConfigError, Pipeline, load_pipeline
from pipeline.config.schema import pipeline_json_schema
from settings import Settings


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(files: tuple[Path, ...]) -> None:
    """Check pipeline files; print one line per problem as FILE:LINE:COL: message."""
    failed = 0
    for path in files:
        try:
            loaded = load_pipeline(path)
        except ConfigError as error:
            failed += 1
            _print_problems(error)
            continue
        graph = loaded.graph
        click.echo(f"{path}: ok ({len(graph.stages)} stages, {len(graph.links)} links)")
    if failed:
        raise SystemExit(1)


def _print_problems(error: ConfigError) -> None:
    """One ``FILE:LINE:COL: message`` line per problem, on stderr."""
    for problem in error.problems:
        click.echo(str(problem), err=True)


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--quiet", is_flag=True, help="No live progress, only the final summary.")
@click.option(
    "--metrics-port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Serve Prometheus metrics on this port (default: AURALINK_METRICS_PORT, else none).",
)
@click.pass_obj
def run(settings: Settings, file: Path, quiet: bool, metrics_port: int | None) -> None:
    """Run a pipeline until its sources end or Ctrl-C.

    Exit status: 0 when every stream ended (or Ctrl-C drained them), 1 when a
    stage failed, 2 when the file is invalid.
    """
    if metrics_port is not None:
        settings = settings.model_copy(update={"metrics_port": metrics_port})
    try:
        loaded = load_pipeline(file)
    except ConfigError as error:
        _print_problems(error)
        raise SystemExit(2) from None
    result = asyncio.run(run_pipeline(loaded, settings, live=not quiet and sys.stderr.isatty()))
    if not result.ok:
        raise SystemExit(1)


async def run_pipeline(
    loaded: Pipeline, settings: Settings, live: bool, prepare: Callable[[GraphRunner], None] | None = None
) -> RunResult:
    """Run ``loaded`` with progress on stderr; the first Ctrl-C drains, the second quits.

    ``prepare`` may add probes to the runner before it starts.
    """
    console = Console(stderr=True)
    runner = GraphRunner(loaded.graph)
    if prepare is not None:
        prepare(runner)
    if settings.metrics_port is not None:
        _serve_metrics(runner, settings.metrics_host, settings.metrics_port)
    view = LiveView(runner, console, live)
    main_task = asyncio.current_task()
    loop = asyncio.get_running_loop()

    def on_interrupt() -> None:
        if runner.state is GraphState.RUNNING:
            console.print("[yellow]stopping: draining what is in flight (Ctrl-C again to quit now)[/]")
            runner.request_stop()
        elif main_task is not None:
            main_task.cancel()

    loop.add_signal_handler(signal.SIGINT, on_interrupt)
    try:
        with view:
            result = await runner.run()
    except asyncio.CancelledError:
        result = runner.result()
        result.error = result.error or "interrupted"
    finally:
        loop.remove_signal_handler(signal.SIGINT)
    view.summary(result)
    return result


def _serve_metrics(runner: GraphRunner, host: str, port: int) -> None:
    """Serve the runner's stage metrics in Prometheus text format (a daemon thread)."""
    registry = CollectorRegistry()
    registry.register(GraphMetricsCollector(runner.stats))
    start_http_server(port, host, registry=registry)


@click.command()
@click.option("--output", "-o", type=click.Path(path_type=Path), default=None, help="Write to a file.")
def schema(output: Path | None) -> None:
    """Print the pipeline files' JSON Schema (for editors and CI)."""
    text = json.dumps(pipeline_json_schema(), indent=2)
    if output is None:
        click.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
