"""Property-based fuzzing of the HTTP API from its own OpenAPI document: no input makes a 5xx.

Bounded (a few derandomised examples per operation) so it stays fast; it runs on both backends.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from litestar import Litestar
from schemathesis.core.result import Err, Ok

from tests.control_plane.helpers import Account, bearer, owner

EXAMPLES_PER_OPERATION = 8


@pytest.fixture
def fuzzer(app: Litestar) -> Account:
    """An organisation owner with an agent and a report for the fuzzer to find."""
    acme = owner(app)
    acme.client.post("/agents", json={"name": "fuzzed", "pipeline": "version: 1\nstages: []\n"})
    acme.client.post("/reports", json={"name": "fuzzed", "definition": {"dataset": "calls", "measures": ["calls"]}})
    return acme


@pytest.mark.slow
def test_no_request_makes_a_server_error(app: Litestar, fuzzer: Account) -> None:
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    # deletions last, and a fresh admin key per operation: the fuzzer may well revoke the key it uses
    loaded = list(schema.get_all_operations())
    invalid = [str(result.err()) for result in loaded if isinstance(result, Err)]
    assert invalid == [], "the OpenAPI document has operations schemathesis cannot read"
    operations = sorted(
        (result.ok() for result in loaded if isinstance(result, Ok)), key=lambda op: op.method == "delete"
    )
    assert len(operations) >= 35
    failures: list[str] = []
    for operation in operations:
        headers = bearer(fuzzer.key("admin", requests_per_minute=1_000_000))
        failure = _fuzz(operation, headers)
        if failure:
            failures.append(failure)
    assert failures == []


def _fuzz(operation: Any, headers: dict[str, str]) -> str | None:
    """The first server error a few generated requests to ``operation`` provoke, if any."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def no_server_error(case: Any) -> None:
        response = case.call(headers=headers)
        where = f"{case.method} {case.formatted_path} {str(case.body)[:300]}"
        assert response.status_code < 500, f"{where}: {response.text[:300]}"

    try:
        no_server_error()
    except AssertionError as error:
        return str(error).splitlines()[0]
    return None
