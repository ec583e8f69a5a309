"""JSON bodies nested past any real request's depth are a 400 in words, not a RecursionError's 500."""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.calls.json_body import MAX_JSON_DEPTH, json_depth
from tests.support.engine import Engine

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab,:'),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(alphabet='[]{}"\\k'), inner, max_size=4),
    max_leaves=40,
)


def nesting(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((nesting(item) for item in value), default=0)
    if isinstance(value, dict):
        return 1 + max((nesting(item) for item in value.values()), default=0)
    return 0


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_the_measured_depth_is_the_nesting_of_the_decoded_value(value: Any) -> None:
    # brackets and escaped quotes inside strings (keys included) must not count
    assert json_depth(json.dumps(value).encode()) == nesting(value)


def test_depth_is_measured_without_recursing_even_at_a_million_levels() -> None:
    assert json_depth(b"[" * 1_000_000 + b"]" * 1_000_000) == 1_000_000
    assert json_depth(b'"' + b"[" * 1_000_000 + b'"') == 0


async def test_the_engine_refuses_a_deep_body_in_words(engine: Engine) -> None:
    token = engine.token("deep", "creator")
    deep = b'{"room": "deep", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    just_deep_enough = b'{"room": "deep", "x": ' + b"[" * (MAX_JSON_DEPTH - 1) + b"]" * (MAX_JSON_DEPTH - 1) + b"}"
    async with httpx.AsyncClient(base_url=engine.url) as http:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        refused = await http.post("/rooms", content=deep, headers=headers)
        accepted = await http.post("/rooms", content=just_deep_enough, headers=headers)
    assert refused.status_code == 400
    assert refused.json()["detail"] == f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels"
    assert accepted.status_code != 500 and "nests deeper" not in accepted.text
