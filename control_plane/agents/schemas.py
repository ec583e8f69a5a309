from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from control_plane.schemas import Input, Output, Text, shaped
from pipeline.calls.tokens import ROOM_NAME, ROOM_NAME_RULE

AgentName = Annotated[
    str,
    shaped(
        r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}",
        "an agent's name is 1 to 100 letters, digits, spaces, '.', '_' or '-', and starts with a letter or digit",
    ),
]
Language = Annotated[
    str, shaped(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}", "a language is a BCP 47 tag such as 'en' or 'pt-BR'")
]
"""A BCP 47 language tag such as ``en`` or ``pt-BR``."""
Room = Annotated[str, shaped(ROOM_NAME.pattern, ROOM_NAME_RULE)]
"""A room on the engine: its rule is the engine's."""
Identity = Annotated[
    str,
    shaped(
        r"[A-Za-z0-9][A-Za-z0-9._@-]{0,199}",
        "an identity is 1 to 200 letters, digits, '.', '_', '@' or '-', and starts with a letter or digit",
    ),
]
PipelineText = Annotated[Text, StringConstraints(min_length=1, max_length=100_000)]


class AgentCreate(Input):
    name: AgentName
    pipeline: PipelineText
    """The pipeline file (YAML) the agent runs; validated like ``auralink validate``."""
    languages: list[Language] = Field(default_factory=list, max_length=20)
    settings: dict[str, Any] = Field(default_factory=dict, max_length=50)


class AgentUpdate(Input):
    name: AgentName | None = None
    pipeline: PipelineText | None = None
    languages: list[Language] | None = Field(None, max_length=20)
    settings: dict[str, Any] | None = Field(None, max_length=50)


class AgentRead(Output):
    id: int
    organization_id: int
    name: str
    pipeline: str
    languages: list[str]
    settings: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime


class AgentJoin(Input):
    room: Room
    identity: Identity | None = None
    """The agent's name in the room (default: ``agent-<id>``)."""
    ttl_s: int = Field(300, ge=10, le=3600)
    """How long the join token stays valid."""


class AgentJoined(Output):
    agent_id: int
    room: str
    identity: str
    engine_url: str
    engine_response: dict[str, Any]
