"""Graph: stages linked into a DAG, validated before anything runs.

:meth:`Graph.build` checks names, links, cycles and caps, decides which links
are plain calls and which are queues (and with what policy), and reports every
problem at once as :class:`Problem` objects whose ``origin`` is whatever the
caller attached to the spec — the pipeline loader attaches file locations.
"""

from __future__ import annotations

import difflib
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.caps import Caps
from engine.frames import FrameKind
from engine.node import ErrorPolicy
from engine.queues import QueuePolicy
from engine.stage import Placement, Source, Stage

DEFAULT_QUEUE_SIZE = 50
"""One second of 20 ms frames."""

Origin = Hashable | None


@dataclass(frozen=True)
class StageSpec:
    """A stage to create: its name, how to make it, and its error policy."""

    name: str
    factory: Callable[[], Stage[Any]]
    policy: ErrorPolicy = field(default_factory=ErrorPolicy)
    origin: Origin = None


@dataclass(frozen=True)
class QueueSpec:
    """A bounded queue on a link; ``policy=None`` picks leaky for live streams, else block."""

    max_size: int = DEFAULT_QUEUE_SIZE
    policy: QueuePolicy | None = None


@dataclass(frozen=True)
class LinkSpec:
    """A link from one stage's output to another's input."""

    source: str
    target: str
    queue: QueueSpec | None = None
    origin: Origin = None
    source_origin: Origin = None
    target_origin: Origin = None


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a graph, and where it came from."""

    message: str
    origin: Origin = None


class GraphError(Exception):
    """The graph cannot be built; ``problems`` lists every reason."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class PlannedLink:
    spec: LinkSpec
    kinds: frozenset[FrameKind]
    caps: Caps


@dataclass(frozen=True)
class PlannedQueue:
    max_size: int
    policy: QueuePolicy


@dataclass
class Graph:
    """A validated graph, ready for :class:`engine.runner.GraphRunner`."""

    name: str
    stages: dict[str, StageSpec]
    order: list[str]
    links: list[PlannedLink]
    queues: dict[str, PlannedQueue]
    output_caps: dict[str, Caps]
    probes: dict[str, Stage[Any]] = field(default_factory=dict)

    def instance(self, stage: str) -> Stage[Any]:
        """A stage instance: the one made while planning, once, then fresh ones."""
        probe = self.probes.pop(stage, None)
        return probe if probe is not None else self.stages[stage].factory()

    @classmethod
    def build(cls, name: str, stages: Sequence[StageSpec], links: Sequence[LinkSpec]) -> Graph:
        """Validate and plan; raises :class:`GraphError` listing every problem."""
        return _Planner(name, stages, links).plan()

    def upstream(self, stage: str) -> list[PlannedLink]:
        return [link for link in self.links if link.spec.target == stage]


class _Planner:
    def __init__(self, name: str, stages: Sequence[StageSpec], links: Sequence[LinkSpec]) -> None:
        self.name = name
        self.stage_list = stages
        self.link_list = links
        self.problems: list[Problem] = []
        self.specs: dict[str, StageSpec] = {}
        self.probes: dict[str, Stage[Any]] = {}

    def plan(self) -> Graph:
        self._collect_stages()
        links = self._check_links()
        order = self._topological_order(links)
        if self.problems:
            raise GraphError(self.problems)
        planned, output_caps = self._negotiate(order, links)
        queues = self._plan_queues(order, links)
        if self.problems:
            raise GraphError(self.problems)
        return Graph(self.name, self.specs, order, planned, queues, output_caps, self.probes)

    def _collect_stages(self) -> None:
        for spec in self.stage_list:
            if spec.name in self.specs:
                self.problems.append(Problem(f"stage name '{spec.name}' is used twice", spec.origin))
                continue
            self.specs[spec.name] = spec
            self.probes[spec.name] = spec.factory()
        if not self.specs:
            self.problems.append(Problem("the graph has no stages"))

    def _check_links(self) -> list[LinkSpec]:
        valid = []
        seen: set[tuple[str, str]] = set()
        for link in self.link_list:
            ok = True
            for end, origin in ((link.source, link.source_origin), (link.target, link.target_origin)):
                if end not in self.specs:
                    self.problems.append(
                        Problem(f"no stage named '{end}'{did_you_mean(end, self.specs)}", origin or link.origin)
                    )
                    ok = False
            if not ok:
                continue
            if link.source == link.target:
                self.problems.append(Problem(f"stage '{link.source}' is linked to itself", link.origin))
            elif (link.source, link.target) in seen:
                self.problems.append(Problem(f"{link.source} -> {link.target} is linked twice", link.origin))
            elif isinstance(self.probes[link.target], Source):
                self.problems.append(
                    Problem(f"'{link.target}' is a source and takes no input", link.target_origin or link.origin)
                )
            else:
                seen.add((link.source, link.target))
                valid.append(link)
        fed = {link.target for link in valid}
        for name, probe in self.probes.items():
            if not isinstance(probe, Source) and name not in fed and not self._has_bad_link_to(name):
                self.problems.append(
                    Problem(
                        f"stage '{name}' has no input: link a source or another stage to it", self.specs[name].origin
                    )
                )
        return valid

    def _has_bad_link_to(self, name: str) -> bool:
        return any(link.target == name for link in self.link_list)

    def _topological_order(self, links: list[LinkSpec]) -> list[str]:
        indegree = dict.fromkeys(self.specs, 0)
        for link in links:
            indegree[link.target] += 1
        ready = deque(name for name, degree in indegree.items() if degree == 0)
        order = []
        while ready:
            name = ready.popleft()
            order.append(name)
            for link in links:
                if link.source == name:
                    indegree[link.target] -= 1
                    if indegree[link.target] == 0:
                        ready.append(link.target)
        if len(order) < len(self.specs):
            self._report_cycle(links, set(self.specs) - set(order))
        return order

    def _report_cycle(self, links: list[LinkSpec], remaining: set[str]) -> None:
        start = sorted(remaining)[0]
        path = [start]
        while True:
            step = next(link for link in links if link.source == path[-1] and link.target in remaining)
            if step.target in path:
                cycle = [*path[path.index(step.target) :], step.target]
                self.problems.append(Problem(f"links make a cycle: {' -> '.join(cycle)}", step.origin))
                return
            path.append(step.target)

    def _negotiate(self, order: list[str], links: list[LinkSpec]) -> tuple[list[PlannedLink], dict[str, Caps]]:
        output_caps: dict[str, Caps] = {}
        planned: list[PlannedLink] = []
        for name in order:
            probe = self.probes[name]
            incoming = Caps()
            for link in (link for link in links if link.target == name):
                upstream = output_caps[link.source]
                carried = upstream.intersect(probe.accepted_caps())
                if carried.is_empty:
                    self.problems.append(
                        Problem(
                            f"caps do not match: '{link.source}' emits {upstream.describe()} "
                            f"but '{name}' accepts {probe.accepted_caps().describe()}",
                            link.origin,
                        )
                    )
                    continue
                planned.append(PlannedLink(link, carried.kinds | {FrameKind.CONTROL}, carried))
                incoming = incoming.union(carried)
            output_caps[name] = probe.output_caps(incoming)
        return planned, output_caps

    def _plan_queues(self, order: list[str], links: list[LinkSpec]) -> dict[str, PlannedQueue]:
        live = self._live_stages(order, links)
        queues: dict[str, PlannedQueue] = {}
        for name in order:
            requested = [link for link in links if link.target == name and link.queue is not None]
            specs = {link.queue for link in requested}
            if len(specs) > 1:
                self.problems.append(
                    Problem(
                        f"links into '{name}' ask for different queues; they share one input queue", requested[1].origin
                    )
                )
                continue
            if not requested and self.probes[name].placement is Placement.INLINE:
                continue
            if isinstance(self.probes[name], Source):
                continue
            spec = next(iter(specs)) if specs else QueueSpec()
            assert spec is not None
            policy = spec.policy or (QueuePolicy.LEAKY if name in live else QueuePolicy.BLOCK)
            queues[name] = PlannedQueue(spec.max_size, policy)
        return queues

    def _live_stages(self, order: list[str], links: list[LinkSpec]) -> set[str]:
        live = {name for name, probe in self.probes.items() if isinstance(probe, Source) and probe.live()}
        for name in order:
            if any(link.source in live for link in links if link.target == name):
                live.add(name)
        return live


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """A `` (did you mean 'x'?)`` hint for a misspelt name, or an empty string."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""
