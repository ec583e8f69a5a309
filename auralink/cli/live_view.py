"""What ``auralink run`` shows on a terminal: live per-stage statistics and bus messages."""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from engine.frames import EventFrame
from engine.runner import GraphRunner, RunResult

SHOWN_MESSAGES = {"stage-error", "stage-restarted", "graph-error"}


def _ms(value: object) -> str:
    return "-" if value is None else f"{value:.3f}"


class LiveView:
    """Renders a runner's statistics while it runs, and a summary when it ends."""

    def __init__(self, runner: GraphRunner, console: Console, live: bool) -> None:
        self.runner = runner
        self.console = console
        self.started = time.monotonic()
        self._live = Live(get_renderable=self._render, console=console, refresh_per_second=4) if live else None
        runner.bus.subscribe(self._on_message)

    def __enter__(self) -> LiveView:
        if self._live is not None:
            self._live.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self._live is not None:
            self._live.stop()

    def _on_message(self, message: EventFrame) -> None:
        if message.name in SHOWN_MESSAGES:
            details = message.data.get("message") or message.data.get("restarts")
            self.console.print(f"[red]{message.name}[/] {message.source}: {details}")

    def table(self) -> Table:
        table = Table(box=None, header_style="bold")
        for column in ("stage", "in", "out", "dropped", "queue", "errors", "proc p50 ms", "latency p50 ms"):
            table.add_column(column, justify="left" if column == "stage" else "right")
        for name, stats in self.runner.snapshot().items():
            table.add_row(
                name,
                str(stats["frames_in"]),
                str(stats["frames_out"]),
                str(stats["dropped"]),
                str(stats["queue_depth"]),
                str(stats["errors"]),
                _ms(stats["processing_p50_ms"]),
                _ms(stats["latency_p50_ms"]),
            )
        return table

    def _render(self) -> Group:
        elapsed = time.monotonic() - self.started
        header = Text(f"{self.runner.graph.name}: {self.runner.state.value}, {elapsed:.1f} s", style="bold")
        return Group(header, self.table())

    def summary(self, result: RunResult) -> None:
        if self._live is None:  # a live view already shows the final table
            self.console.print(self.table())
        elapsed = time.monotonic() - self.started
        if result.ok:
            self.console.print(f"[green]{result.graph}: finished in {elapsed:.2f} s[/]")
        else:
            self.console.print(f"[red]{result.graph}: {result.error}[/]")
