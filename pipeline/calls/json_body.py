"""Request bodies in JSON, refused in words when they nest deeper than any real request does.

The JSON decoder recurses once per level: a body of a few thousand ``[`` would end
in a ``RecursionError`` (a 500). :class:`BoundedJsonRequest` measures the depth
first, without recursing, and answers 400 past :data:`MAX_JSON_DEPTH`. Both the
engine's and the control plane's apps use it as their ``request_class``.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from litestar import Request
from litestar.exceptions import ClientException

MAX_JSON_DEPTH = 64
"""The deepest nesting of arrays and objects a request body may have; real ones stay under ten."""

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_A_BRACKET = bytes(sorted(set(range(256)) - set(b"[]{}")))
_OPENING = (ord("["), ord("{"))


def json_depth(body: bytes) -> int:
    """How deep ``body``'s arrays and objects nest (0 for a scalar); brackets inside strings do not count."""
    brackets = np.frombuffer(_STRING.sub(b"", body).translate(None, _NOT_A_BRACKET), dtype=np.uint8)
    if brackets.size == 0:
        return 0
    steps = np.where(np.isin(brackets, _OPENING), 1, -1)
    return int(np.cumsum(steps).max())


class BoundedJsonRequest(Request[Any, Any, Any]):
    """A request whose JSON body is refused with a 400 when it nests deeper than :data:`MAX_JSON_DEPTH`."""

    async def json(self) -> Any:
        if json_depth(await self.body()) > MAX_JSON_DEPTH:
            raise ClientException(f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels")
        return await super().json()
