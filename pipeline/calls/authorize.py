"""Checking a join token against the room a request names (the engine and the cluster's front both do)."""

from __future__ import annotations

from pipeline.calls.errors import ForbiddenError, UnauthorizedError
from pipeline.calls.tokens import Grant, JoinClaims, TokenError, verify_join_token


def authorize(secret: str, token: str | None, room: str, *any_of: Grant) -> JoinClaims:
    """The token's claims when it is valid for ``room`` with one of ``any_of`` (all grants if empty)."""
    if not token:
        raise UnauthorizedError("a join token is required: send 'Authorization: Bearer <token>'")
    try:
        claims = verify_join_token(secret, token)
    except TokenError as error:
        raise UnauthorizedError(str(error)) from None
    if claims.room != room:
        raise ForbiddenError(f"this token is for room '{claims.room}', not '{room}'")
    if any_of and not any(claims.allows(grant) for grant in any_of):
        wanted = " or ".join(grant.value for grant in any_of)
        raise ForbiddenError(f"this token lacks the {wanted} grant")
    return claims
