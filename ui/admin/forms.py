"""HTML forms in, the control plane's input models out, with each field's error in the server's words."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from control_plane.errors import plain_message

ModelT = TypeVar("ModelT", bound=BaseModel)
CSRF_FIELD = "_csrf_token"


@dataclass
class FormState:
    """What a form shows again after a refusal: the values typed, an error per field, one for the whole form."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    problem: str = ""

    @property
    def failed(self) -> bool:
        return bool(self.errors or self.problem)


class FormError(Exception):
    """A form the server refused; the page shows it again with ``state``."""

    def __init__(self, state: FormState) -> None:
        super().__init__(state.problem or "; ".join(f"{k}: {v}" for k, v in state.errors.items()))
        self.state = state


def form_values(form: Mapping[str, Any], *, lists: frozenset[str] = frozenset()) -> dict[str, Any]:
    """A submitted form as plain values: blank fields left out, ``lists`` fields as lists, no CSRF token."""
    values: dict[str, Any] = {}
    for name, raw in form.items():
        if name == CSRF_FIELD:
            continue
        several = [str(v) for v in raw] if isinstance(raw, list) else [str(raw)]
        if name in lists:
            values[name] = [v for v in several if v != ""]
        elif several and several[-1] != "":
            values[name] = several[-1]
    return values


def parse(model: type[ModelT], values: Mapping[str, Any]) -> ModelT:
    """``values`` as ``model``; a :class:`FormError` naming each wrong field in words otherwise."""
    try:
        return model.model_validate(dict(values))
    except ValidationError as error:
        errors = field_errors(error)
        whole = errors.pop("", "")  # a check of the form as a whole (a model validator) belongs to no field
        raise FormError(FormState(dict(values), errors, whole)) from None


def field_errors(error: ValidationError) -> dict[str, str]:
    """Each field's first problem, as a person reads it."""
    found: dict[str, str] = {}
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else ""
        inner = ".".join(str(part) for part in item["loc"][1:])  # a nested field: say which
        found.setdefault(name, f"{inner}: {plain_message(item['msg'])}" if inner else plain_message(item["msg"]))
    return found
