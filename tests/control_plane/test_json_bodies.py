"""The control plane answers a deeply nested or broken JSON body with a 400 in words, and stores nothing."""

from __future__ import annotations

import pytest
from litestar import Litestar

from pipeline.calls.json_body import MAX_JSON_DEPTH
from tests.control_plane.helpers import owner


@pytest.mark.parametrize("levels", [MAX_JSON_DEPTH + 1, 5_000, 200_000])
def test_a_deeply_nested_body_is_refused_and_nothing_changes(app: Litestar, levels: int) -> None:
    acme = owner(app)
    before = acme.client.get("/agents").json()
    body = b'{"name": "deep", "pipeline": "x", "languages": ' + b"[" * levels + b"]" * levels + b"}"
    answer = acme.client.post("/agents", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.json() == {"status_code": 400, "detail": f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels"}
    assert acme.client.get("/agents").json() == before


def test_brackets_inside_strings_are_text_not_nesting(app: Litestar) -> None:
    acme = owner(app)
    answer = acme.client.post("/organizations", json={"name": "[" * 150})
    assert answer.status_code == 201, answer.text
