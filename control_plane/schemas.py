"""Field types and bases shared by every domain's request and response bodies."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic import FiniteFloat as FiniteFloat


def _printable(value: str) -> str:
    # PostgreSQL text cannot hold NUL; other control characters never belong in a name
    if any(ord(char) < 32 and char not in "\t\n\r" for char in value):
        raise ValueError("must not contain control characters")
    return value


def shaped(pattern: str, rule: str) -> AfterValidator:
    """A check that a text matches ``pattern`` whole; its error states ``rule`` in words, never the pattern."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if compiled.fullmatch(value) is None:
            raise ValueError(rule)
        return value

    return AfterValidator(check)


Text = Annotated[str, AfterValidator(_printable)]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(_printable)
]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, max_length=320),
    shaped(r"[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+\.[^@\s\x00-\x1f]+", "that is not an e-mail address"),
]
Password = Annotated[str, StringConstraints(min_length=10, max_length=200), AfterValidator(_printable)]
DbId = Annotated[int, Field(ge=1, le=2**31 - 1)]
UnixTime = Annotated[float, Field(ge=0, le=32503680000)]
"""Seconds since 1970, up to the year 3000."""


class Input(BaseModel):
    """A request body: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)
