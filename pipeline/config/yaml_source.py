"""Reading YAML safely, remembering where every value came from.

PyYAML composes the document into nodes that carry their line and column; we
turn those into plain Python values and a map from each value's path (such as
``("stages", 0, "settings", "rate")``) to its location. Aliases are shared
nodes, so an alias bomb stays small when composed: the conversion counts every
value it produces and stops past :data:`MAX_VALUES`. PyYAML composes nodes
recursively, so the composer itself refuses nesting deeper than
:data:`MAX_DEPTH` before Python's recursion limit is anywhere near.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pipeline.config.errors import ConfigError, ConfigProblem

MAX_FILE_BYTES = 1024 * 1024
MAX_VALUES = 100_000
MAX_DEPTH = 64

PLAIN_COLLECTION_TAGS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})

PathKey = tuple[str | int, ...]
Locations = dict[PathKey, tuple[int, int]]


def read_source(path: Path) -> str:
    """The file's text, refusing what is missing, a directory, too big or not UTF-8."""
    name = str(path)
    if path.is_dir():
        raise _whole_file(name, "is a directory, not a pipeline file")
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise _whole_file(name, "no such file") from None
    except OSError as error:
        raise _whole_file(name, f"cannot read: {error.strerror}") from None
    if size > MAX_FILE_BYTES:
        raise _whole_file(name, f"file is {size / 1e6:.1f} MB; pipeline files are limited to 1 MiB")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise _whole_file(name, f"not UTF-8 text (byte {error.start})") from None
    except OSError as error:
        raise _whole_file(name, f"cannot read: {error.strerror}") from None


def _whole_file(name: str, message: str) -> ConfigError:
    return ConfigError([ConfigProblem(name, 1, 1, message)])


def parse_yaml(text: str, name: str) -> tuple[Any, Locations]:
    """Parse one YAML document into plain values and their locations."""
    if len(text.encode("utf-8", "ignore")) > MAX_FILE_BYTES:
        raise _whole_file(name, "text is larger than the 1 MiB limit for pipeline files")
    loader = _DepthLimitedLoader(text)
    try:
        node = loader.get_single_node()
    except _NestingTooDeep as error:
        mark = error.problem_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise ConfigError([ConfigProblem(name, line, column, _too_deep())]) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise ConfigError([ConfigProblem(name, line, column, f"YAML syntax error: {_yaml_message(error)}")]) from None
    except yaml.YAMLError as error:
        raise _whole_file(name, f"YAML error: {error}") from None
    finally:
        loader.dispose()
    if node is None:
        raise _whole_file(name, "the file is empty; a pipeline needs at least 'stages'")
    converter = _Converter(name, loader)
    try:
        value = converter.convert(node, ())
    except yaml.MarkedYAMLError as error:  # an unknown tag, a bad timestamp …
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise ConfigError([ConfigProblem(name, line, column, f"YAML error: {_yaml_message(error)}")]) from None
    return value, converter.locations


def _too_deep() -> str:
    return f"nesting deeper than {MAX_DEPTH} levels"


class _NestingTooDeep(yaml.composer.ComposerError):
    """A node nested deeper than :data:`MAX_DEPTH`; raised while composing, before any deep recursion."""


class _DepthLimitedLoader(yaml.SafeLoader):
    """A safe loader whose composer counts how deep the node it composes lies (the root is depth 0)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self._depth > MAX_DEPTH:
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise _NestingTooDeep(None, None, _too_deep(), event.start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _yaml_message(error: yaml.MarkedYAMLError) -> str:
    parts = [part for part in (error.context, error.problem) if part]
    return ", ".join(parts) or "invalid YAML"


class _Converter:
    def __init__(self, name: str, loader: yaml.SafeLoader) -> None:
        self.name = name
        self.loader = loader
        self.locations: Locations = {}
        self.count = 0

    def _problem(self, node: yaml.Node, message: str) -> ConfigError:
        mark = node.start_mark
        return ConfigError([ConfigProblem(self.name, mark.line + 1, mark.column + 1, message)])

    def convert(self, node: yaml.Node, path: PathKey) -> Any:
        self.count += 1
        if self.count > MAX_VALUES:
            raise self._problem(
                node,
                f"the document expands to more than {MAX_VALUES} values "
                "(an alias bomb?); pipeline files are far smaller",
            )
        if len(path) > MAX_DEPTH:
            raise self._problem(node, _too_deep())  # an alias can still nest a node in itself
        self.locations.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and node.tag not in PLAIN_COLLECTION_TAGS:
            raise self._problem(node, f"unsupported YAML tag '{node.tag}'")
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*path, index)) for index, item in enumerate(node.value)]
        return self._scalar(node)

    def _scalar(self, node: yaml.Node) -> Any:
        value = self.loader.construct_object(node, deep=True)
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise self._problem(node, "text holds an unpaired surrogate escape (\\ud800-\\udfff)") from None
        return value

    def _mapping(self, node: yaml.MappingNode, path: PathKey) -> dict[Any, Any]:
        self.loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise self._problem(key_node, "mapping keys must be plain scalars")
            key = self._scalar(key_node)
            if not isinstance(key, str | int | bool | float) and key is not None:
                raise self._problem(key_node, f"unsupported key {key!r}")
            if key in result:
                raise self._problem(key_node, f"duplicate key '{key}'")
            child = (*path, key if isinstance(key, str | int) else str(key))
            self.locations[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = self.convert(value_node, child)
        return result
