"""The registry of stage types: a new stage plugs in by name.

Built-in stages register when their modules are imported; third-party stages
register through the ``auralink.stages`` entry-point group (each entry point
names a :class:`engine.stage.Stage` subclass).
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any, TypeVar

from engine.stage import Stage

_BUILTIN_MODULES = (
    "pipeline.sources.synthetic",
    "pipeline.sources.file",
    "pipeline.sources.microphone",
    "pipeline.stages.resample",
    "pipeline.stages.level_meter",
    "pipeline.stages.aic",
    "pipeline.speech.stt_stage",
    "pipeline.speech.translate_stage",
    "pipeline.sinks.file",
    "pipeline.sinks.jsonl",
    "pipeline.sinks.speaker",
    "pipeline.webrtc.source",
    "pipeline.webrtc.datachannel_sink",
)

_types: dict[str, type[Stage[Any]]] = {}
_loaded = False

StageClass = TypeVar("StageClass", bound=type[Stage[Any]])


def register_stage(cls: StageClass) -> StageClass:
    """Class decorator: make ``cls`` available to pipeline files as ``cls.type_name``."""
    name = cls.type_name
    if not name:
        raise ValueError(f"{cls.__qualname__} has no type_name")
    existing = _types.get(name)
    if existing is not None and existing is not cls:
        raise ValueError(f"stage type '{name}' is registered twice ({existing.__qualname__}, {cls.__qualname__})")
    _types[name] = cls
    return cls


def stage_types() -> dict[str, type[Stage[Any]]]:
    """Every known stage type, by name (built-ins and plugins)."""
    global _loaded
    if not _loaded:
        _loaded = True
        for module in _BUILTIN_MODULES:
            importlib.import_module(module)
        for entry in entry_points(group="auralink.stages"):
            register_stage(entry.load())
    return dict(sorted(_types.items()))
