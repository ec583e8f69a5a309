"""The pipeline file's JSON Schema, built from the same models the loader validates with.

Each registered stage type contributes one branch of a union discriminated by
``type``, whose ``settings`` is that stage's own settings model — so editors
complete and check stage settings as the loader would.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Field, create_model

from engine.node import ErrorPolicy
from pipeline.config.document import NAME_PATTERN, LinkEntry, PipelineDocument, StageEntry
from pipeline.registry import stage_types

SCHEMA_ID = "https://auralink.dev/schemas/pipeline-v1.json"


def pipeline_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) for pipeline files."""
    branches = []
    for type_name, stage_class in stage_types().items():
        branch = create_model(
            f"Stage_{type_name}",
            __base__=StageEntry,
            __doc__=stage_class.description or stage_class.__doc__,
            type=(Literal[type_name], Field(description=stage_class.description)),  # type: ignore[arg-type]
            settings=(
                stage_class.settings_model,
                Field(default_factory=stage_class.settings_model) if _all_defaults(stage_class.settings_model) else ...,
            ),
            name=(str, Field(pattern=NAME_PATTERN)),
            on_error=(ErrorPolicy, Field(default_factory=ErrorPolicy)),
        )
        branches.append(branch)
    any_stage = Annotated[Union[tuple(branches)], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007
    document = create_model(
        "PipelineFile",
        __base__=PipelineDocument,
        stages=(list[any_stage], Field(min_length=1)),  # type: ignore[valid-type]
        links=(list[LinkEntry | str] | None, None),
    )
    schema = document.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = "AuraLink pipeline file"
    return schema


def _all_defaults(model: Any) -> bool:
    return all(not field.is_required() for field in model.model_fields.values())
