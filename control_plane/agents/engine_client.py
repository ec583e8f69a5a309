"""Asking an engine to run an agent in a room, through the engine's room API.

``POST {engine_url}/rooms/{room}/agents`` with ``Authorization: Bearer <join token>``
(a token with the ``agent`` grant for that room and identity) and the agent's pipeline;
the engine answers 201 once the agent has joined.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from pipeline.calls.tokens import Grant, mint_join_token


class EngineUnavailableError(Exception):
    """The engine could not be reached or refused the agent; the message says which and why."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        """The engine's HTTP status when it answered; ``None`` when it could not be reached."""


def send_agent(
    engine_url: str,
    secret: str,
    room: str,
    identity: str,
    pipeline: str,
    languages: list[str],
    ttl_s: int,
    timeout_s: float = 10.0,
) -> dict[str, Any]:
    token = mint_join_token(secret, room, identity, {Grant.AGENT}, ttl_s)
    url = f"{engine_url.rstrip('/')}/rooms/{quote(room, safe='')}/agents"
    body = {"identity": identity, "pipeline": pipeline, "languages": languages}
    try:
        response = httpx.post(url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=timeout_s)
    except httpx.HTTPError as error:
        raise EngineUnavailableError(f"engine at {engine_url} is unreachable: {type(error).__name__}") from None
    if response.status_code != 201:
        raise EngineUnavailableError(
            f"engine at {engine_url} refused the agent: HTTP {response.status_code} {_detail(response)}",
            response.status_code,
        )
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {"answer": answer}


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    return str(body.get("detail", body) if isinstance(body, dict) else body)[:200]
