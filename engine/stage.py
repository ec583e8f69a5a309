"""Stage: one job, one class.

A stage declares the caps it accepts and emits, is configured from a typed,
frozen settings model, and says where its work runs (:class:`Placement`).
Sources produce frames from an async iterator; every other stage reacts to
frames pushed into :meth:`Stage.process` and calls :meth:`Stage.emit` for what
it produces. The graph wires ``emit`` to the downstream links.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from engine.caps import ANYTHING, Caps
from engine.frames import EventFrame, Frame, now_ns


class Placement(enum.Enum):
    """Where a stage's work runs."""

    INLINE = "inline"
    """Cheap and non-blocking: called directly by the upstream stage, in its task."""
    EXECUTOR = "executor"
    """CPU or GPU work that releases the GIL: runs in the executor, behind a queue."""
    TASK = "task"
    """Awaits I/O: runs in its own task, behind a queue (``process_async``)."""


class StageSettings(BaseModel):
    """Base of every stage's settings: frozen, and unknown fields are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class StageError(Exception):
    """A failure a stage reports with a message meant for the operator."""


SettingsT = TypeVar("SettingsT", bound=StageSettings)

Emit = Callable[[Frame], None]
Post = Callable[[EventFrame], None]


def _unbound_emit(frame: Frame) -> None:
    raise RuntimeError("stage is not linked into a graph")


def _discard_post(event: EventFrame) -> None:
    return None


class Stage(Generic[SettingsT]):
    """A graph element that transforms or consumes frames.

    Subclasses set ``type_name`` (the name pipeline files use), ``settings_model``,
    ``placement`` and ``input_caps``, and override :meth:`process` (or
    :meth:`process_async` for ``Placement.TASK``) and, where the output differs
    from the input, :meth:`output_caps`.
    """

    type_name: ClassVar[str] = ""
    settings_model: ClassVar[type[StageSettings]] = StageSettings
    placement: ClassVar[Placement] = Placement.INLINE
    input_caps: ClassVar[Caps] = ANYTHING
    description: ClassVar[str] = ""

    def __init__(self, name: str, settings: SettingsT) -> None:
        self.name = name
        self.settings = settings
        self.emit: Emit = _unbound_emit
        self._post: Post = _discard_post

    def accepted_caps(self) -> Caps:
        """The caps this instance accepts (may depend on settings)."""
        return self.input_caps

    def output_caps(self, upstream: Caps) -> Caps:
        """The caps this stage emits, given what reaches it. Default: the same."""
        return upstream

    async def warm(self) -> None:
        """Load ahead of any graph what :meth:`start` would load slowly (a model), so that a later start is
        quick; by default nothing. A failure here is only logged: :meth:`start` reports it again."""

    async def start(self) -> None:
        """Acquire resources (open files, devices, models) before frames flow."""

    async def stop(self) -> None:
        """Release resources. Called once, also after a failure."""

    def process(self, frame: Frame) -> None:
        """Handle one frame; call :meth:`emit` for each frame produced."""
        self.emit(frame)

    async def process_async(self, frame: Frame) -> None:
        """Handle one frame in a ``Placement.TASK`` stage."""
        self.process(frame)

    def end_of_stream(self) -> None:
        """Every upstream has ended: emit whatever is still buffered."""

    def post(self, name: str, pts_ns: int = 0, **data: Any) -> None:
        """Put an event on the graph's bus (not downstream)."""
        self._post(EventFrame(pts_ns=pts_ns, ingest_ns=now_ns(), name=name, source=self.name, data=data))

    def bind(self, emit: Emit, post: Post) -> None:
        """Called by the graph: wire this stage's outputs."""
        self.emit = emit
        self._post = post


class Source(Stage[SettingsT], ABC):
    """A stage with no inputs that produces frames from :meth:`frames`."""

    input_caps: ClassVar[Caps] = Caps()
    is_live: ClassVar[bool] = False
    """True when frames arrive at the pace of the real world (microphone, network)."""

    def live(self) -> bool:
        """Whether this instance is live (may depend on settings)."""
        return self.is_live

    def output_caps(self, upstream: Caps) -> Caps:
        return self.source_caps()

    @abstractmethod
    def source_caps(self) -> Caps:
        """The caps of the frames this source produces."""

    @abstractmethod
    def frames(self) -> AsyncIterator[Frame]:
        """Produce the stream's frames (an async generator); return at the end of the stream."""
