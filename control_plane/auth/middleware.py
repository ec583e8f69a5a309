"""Authentication: ``Authorization: Bearer <API key>`` for machines, the session cookie for people."""

from __future__ import annotations

import anyio.to_thread
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from control_plane.auth.service import SESSION_COOKIE, find_api_key, key_principal, note_key_use, session_principal
from control_plane.context import AnyConnection
from control_plane.domain_errors import TooManyRequests, Unauthenticated
from control_plane.principals import Principal
from control_plane.state import AppState, app_state


class AuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: AnyConnection) -> AuthenticationResult:
        state = app_state(connection.app.state)
        authorization = connection.headers.get("authorization", "")
        if authorization:
            scheme, _, key = authorization.partition(" ")
            if scheme.lower() != "bearer" or not key.strip():
                raise Unauthenticated("Authorization must be 'Bearer <API key>'")
            principal = await anyio.to_thread.run_sync(_by_api_key, state, key.strip())
        elif token := connection.cookies.get(SESSION_COOKIE):
            principal = await anyio.to_thread.run_sync(_by_session, state, token)
        else:
            raise Unauthenticated("sign in (POST /auth/login) or send 'Authorization: Bearer <API key>'")
        return AuthenticationResult(user=principal, auth=None)


def _by_session(state: AppState, token: str) -> Principal:
    with state.session() as db:
        principal = session_principal(db, token)
    if principal is None:
        raise Unauthenticated("the session has expired or was signed out: sign in again")
    return principal


def _by_api_key(state: AppState, key: str) -> Principal:
    with state.session() as db:
        row = find_api_key(db, key)
        if row is None:
            raise Unauthenticated("unknown, revoked or expired API key")
        retry_after = state.limiter.retry_after(f"key:{row.id}", row.requests_per_minute)
        if retry_after is not None:
            raise TooManyRequests(
                f"API key {row.prefix} is limited to {row.requests_per_minute} requests a minute",
                retry_after_s=retry_after,
            )
        note_key_use(db, row)
        return key_principal(db, row)
