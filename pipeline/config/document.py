"""The typed shape of a pipeline file (everything but each stage's own settings)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from engine.node import ErrorPolicy

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$"
NAME_RULE = "a name is 1 to 64 letters, digits, '_' or '-', and starts with a letter or '_'"
"""What :data:`NAME_PATTERN` asks for, in words (an error message never shows the pattern)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class QueueEntry(_Strict):
    """A bounded queue on a link (work changes task, thread or rate there)."""

    policy: Literal["block", "leaky"] | None = Field(
        None, description="block never drops; leaky drops the oldest media frame. Default: leaky for live streams"
    )
    max_size: int = Field(50, ge=1, le=100_000, description="frames the queue holds")


class LinkEntry(_Strict):
    """A link from one stage's output to another's input; also written as 'a -> b'."""

    source: str = Field(alias="from", description="the upstream stage's name")
    target: str = Field(alias="to", description="the downstream stage's name")
    queue: QueueEntry | None = Field(None, description="make this link a bounded queue")

    @model_validator(mode="before")
    @classmethod
    def _arrow_form(cls, value: Any) -> Any:
        if isinstance(value, str):
            ends = [end.strip() for end in value.split("->")]
            if len(ends) != 2 or not all(ends):
                raise ValueError(f"a link written as text must read 'from -> to', not '{value}'")
            return {"from": ends[0], "to": ends[1]}
        return value


class StageEntry(_Strict):
    """One stage: a unique name, a registered type, and that type's settings."""

    name: str = Field(pattern=NAME_PATTERN, description="unique name of this stage in the pipeline")
    type: str = Field(description="registered stage type (see `auralink schema`)")
    settings: dict[str, Any] = Field(default_factory=dict, description="the stage type's settings")
    on_error: ErrorPolicy = Field(default_factory=ErrorPolicy, description="what to do when the stage fails")


class PipelineDocument(_Strict):
    """A pipeline file."""

    version: Literal[1] = Field(1, description="format version")
    name: str = Field("pipeline", pattern=NAME_PATTERN, description="the graph's name in metrics and logs")
    description: str = Field("", description="free text")
    stages: list[StageEntry] = Field(min_length=1, description="the stages")
    links: list[LinkEntry] | None = Field(
        None, description="links between stages; when absent, the stages form a chain in the order listed"
    )
