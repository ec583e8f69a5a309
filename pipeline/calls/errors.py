"""The call server's errors: each carries the HTTP status a client should see."""

from __future__ import annotations


class CallError(Exception):
    """A request the call server refuses; ``status`` is the HTTP status, the message says why."""

    status = 400

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class BadRequestError(CallError):
    status = 400


class UnauthorizedError(CallError):
    """No token, or one that is expired, forged or malformed."""

    status = 401


class ForbiddenError(CallError):
    """A valid token that does not allow this (another room, a missing grant)."""

    status = 403


class NotFoundError(CallError):
    status = 404


def room_not_found(name: str) -> NotFoundError:
    """What an engine (or a cluster's front) answers for a room it does not have."""
    return NotFoundError(f"room '{name}' does not exist: create it with POST /rooms first")


class ConflictError(CallError):
    """The room is full, or the name is taken."""

    status = 409


class UnsupportedMediaTypeError(CallError):
    status = 415


class UnprocessableError(CallError):
    """A pipeline file that does not load; ``problems`` holds its FILE:LINE:COL messages."""

    status = 422


class BadGatewayError(CallError):
    """The engine worker that holds a room could not be reached (the front answers this)."""

    status = 502


class ServiceUnavailableError(CallError):
    """No engine worker can take the room now, or the cluster's Redis is unreachable."""

    status = 503
