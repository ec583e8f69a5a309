"""Authentication: ``Authorization: Bearer <API key>`` for machines, the session cookie for people."""

from __future__ import annotations

import anyio.to_thread
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from control_plane.auth.key_cache import KnownKey, generation
from control_plane.auth.service import SESSION_COOKIE, find_api_key, key_principal, note_key_use, session_principal
from control_plane.context import AnyConnection
from control_plane.db.types import utcnow
from control_plane.domain_errors import TooManyRequests, Unauthenticated
from control_plane.principals import Principal
from control_plane.state import AppState, app_state
from control_plane.tokens import digest


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
    key_digest = digest(key)
    known = state.keys.get(key_digest, utcnow()) or _look_up_key(state, key, key_digest)
    retry_after = state.limiter.retry_after(f"key:{known.api_key_id}", known.requests_per_minute)
    if retry_after is not None:
        raise TooManyRequests(
            f"API key {known.prefix} is limited to {known.requests_per_minute} requests a minute",
            retry_after_s=retry_after,
        )
    return known.principal


def _look_up_key(state: AppState, key: str, key_digest: str) -> KnownKey:
    read_under = generation()
    with state.session() as db:
        row = find_api_key(db, key)
        if row is None or row.id is None:
            raise Unauthenticated("unknown, revoked or expired API key")
        known = KnownKey(row.id, row.prefix, row.requests_per_minute, row.expires_at, key_principal(db, row))
        note_key_use(db, row)
    state.keys.put(key_digest, known, read_under)
    return known
