"""Loading a pipeline file into a validated graph, reporting every problem at once."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from engine.graph import Graph, GraphError, LinkSpec, QueueSpec, StageSpec, did_you_mean
from engine.queues import QueuePolicy
from engine.stage import Stage, StageSettings
from pipeline.config.document import NAME_PATTERN, NAME_RULE, LinkEntry, PipelineDocument, StageEntry
from pipeline.config.errors import ConfigError, ConfigProblem
from pipeline.config.yaml_source import Locations, PathKey, parse_yaml, read_source
from pipeline.registry import stage_types


@dataclass(frozen=True)
class Pipeline:
    """A loaded pipeline file: its document and the graph it describes."""

    path: Path
    document: PipelineDocument
    graph: Graph


def load_pipeline(path: Path | str, overrides: dict[str, dict[str, Any]] | None = None) -> Pipeline:
    """Read, validate and plan a pipeline file; raises :class:`ConfigError`.

    ``overrides`` maps stage names to settings that replace the file's (the demo
    uses it to send output to a directory of its choosing).
    """
    path = Path(path)
    return load_pipeline_text(read_source(path), path, overrides)


def load_pipeline_text(text: str, path: Path, overrides: dict[str, dict[str, Any]] | None = None) -> Pipeline:
    """As :func:`load_pipeline`, for text already read (relative inputs resolve against ``path``)."""
    data, locations = parse_yaml(text, str(path))
    return _Loader(path, locations, overrides or {}).load(data)


class _Loader:
    def __init__(self, path: Path, locations: Locations, overrides: dict[str, dict[str, Any]]) -> None:
        self.path = path
        self.locations = locations
        self.overrides = overrides
        self.problems: list[ConfigProblem] = []

    def problem(self, where: PathKey, message: str) -> None:
        line, column = _locate(self.locations, where)
        self.problems.append(ConfigProblem(str(self.path), line, column, message))

    def load(self, data: Any) -> Pipeline:
        if not isinstance(data, dict):
            found = type(data).__name__ if data is not None else "null"
            self.problem((), f"the top level must be a mapping with 'stages', not a {found}")
            raise ConfigError(self.problems)
        document: PipelineDocument | None = None
        try:
            document = PipelineDocument.model_validate(data)
        except ValidationError as error:
            self._report_validation(error, (), PipelineDocument)
        entries = list(enumerate(document.stages)) if document else _valid_entries(data.get("stages"))
        stages = [spec for index, entry in entries if (spec := self._stage(index, entry)) is not None]
        if self.problems or document is None:
            raise ConfigError(self.problems)
        links = self._links(document)
        try:
            graph = Graph.build(document.name, stages, links)
        except GraphError as error:
            for problem in error.problems:
                where = problem.origin if isinstance(problem.origin, tuple) else ()
                self.problem(where, f"{_dotted(where)}: {problem.message}" if where else problem.message)
            raise ConfigError(self.problems) from None
        return Pipeline(self.path, document, graph)

    def _stage(self, index: int, entry: StageEntry) -> StageSpec | None:
        where: PathKey = ("stages", index)
        known = stage_types()
        stage_class = known.get(entry.type)
        if stage_class is None:
            self.problem(
                (*where, "type"),
                f"stages[{index}].type: unknown stage type '{entry.type}'"
                f"{did_you_mean(entry.type, known)}; known types: {', '.join(known)}",
            )
            return None
        raw = {**entry.settings, **self.overrides.get(entry.name, {})}
        try:
            settings = stage_class.settings_model.model_validate(raw, context={"base_dir": self.path.parent})
        except ValidationError as error:
            self._report_validation(error, (*where, "settings"), stage_class.settings_model)
            return None
        return StageSpec(entry.name, partial(_make, stage_class, entry.name, settings), entry.on_error, where)

    def _links(self, document: PipelineDocument) -> list[LinkSpec]:
        if document.links is None:
            names = [stage.name for stage in document.stages]
            return [LinkSpec(a, b, origin=("stages", i + 1)) for i, (a, b) in enumerate(itertools.pairwise(names))]
        return [_link_spec(index, entry) for index, entry in enumerate(document.links)]

    def _report_validation(self, error: ValidationError, prefix: PathKey, model: type[BaseModel]) -> None:
        for detail in error.errors():
            where = (*prefix, *detail["loc"])
            self.problem(where, f"{_dotted(where)}: {_explain(detail, model)}")


def _valid_entries(raw: Any) -> list[tuple[int, StageEntry]]:
    """The stage entries that are valid on their own (their errors are reported already)."""
    entries = []
    for index, item in enumerate(raw if isinstance(raw, list) else []):
        try:
            entries.append((index, StageEntry.model_validate(item)))
        except ValidationError:
            continue
    return entries


def _make(stage_class: type[Stage[Any]], name: str, settings: StageSettings) -> Stage[Any]:
    return stage_class(name, settings)


def _link_spec(index: int, entry: LinkEntry) -> LinkSpec:
    queue = None
    if entry.queue is not None:
        policy = QueuePolicy(entry.queue.policy) if entry.queue.policy else None
        queue = QueueSpec(entry.queue.max_size, policy)
    where: PathKey = ("links", index)
    return LinkSpec(entry.source, entry.target, queue, where, (*where, "from"), (*where, "to"))


def _locate(locations: Locations, where: PathKey) -> tuple[int, int]:
    for end in range(len(where), -1, -1):
        found = locations.get(where[:end])
        if found is not None:
            return found
    return (1, 1)


def _dotted(where: Iterable[str | int]) -> str:
    text = ""
    for part in where:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _explain(detail: Any, model: type[BaseModel]) -> str:
    kind = detail["type"]
    message = str(detail["msg"]).removeprefix("Value error, ")
    if kind == "extra_forbidden":
        name = str(detail["loc"][-1])
        fields = _fields_at(model, detail["loc"][:-1])
        hint = did_you_mean(name, fields)
        return f"unknown field{hint}; expected one of: {', '.join(fields)}" if fields else "unknown field"
    if kind == "missing":
        return "required field is missing"
    if kind == "string_pattern_mismatch":
        rule = NAME_RULE if detail.get("ctx", {}).get("pattern") == NAME_PATTERN else "not in the form this field takes"
        return f"{rule} (got {_shown(detail.get('input'))})"
    if kind in {"model_type", "dict_type"}:
        return f"expected a mapping, got {_shown(detail.get('input'))}"
    if "input" in detail and kind not in {"value_error", "assertion_error"}:
        return f"{message} (got {_shown(detail['input'])})"
    return message


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The field names (by alias) of the model found at ``loc`` inside ``model``."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) if isinstance(current, type) and issubclass(current, BaseModel) else None
        if field is None:
            return []
        current = _inner_model(field.annotation)
    if not (isinstance(current, type) and issubclass(current, BaseModel)):
        return []
    return [info.alias or name for name, info in current.model_fields.items()]


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        found = _inner_model(argument)
        if found is not None:
            return found
    return None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
