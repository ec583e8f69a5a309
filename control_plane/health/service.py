"""Readiness checks: each dependency answers a trivial request, timed."""

from __future__ import annotations

import time
from collections.abc import Callable

import redis
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from control_plane.billing.health import stripe_check
from control_plane.health.schemas import Check, Readiness
from control_plane.secrets.errors import SecretStoreError
from control_plane.state import AppState


def readiness(state: AppState) -> Readiness:
    checks = {"database": _timed(lambda: _ping_database(state))}
    if state.redis is None:
        checks["redis"] = Check(status="not configured", detail="realtime metrics and rate limits are in-process")
    else:
        client = state.redis
        checks["redis"] = _timed(lambda: bool(client.ping()))
    checks["secret_store"] = _secret_store_check(state)
    checks["stripe"] = stripe_check(state.settings)
    failing = any(check.status == "failing" for check in checks.values())
    return Readiness(status="not ready" if failing else "ready", checks=checks)


def _ping_database(state: AppState) -> bool:
    with state.engine.connect() as connection:
        return connection.execute(text("SELECT 1")).scalar() == 1


def _secret_store_check(state: AppState) -> Check:
    """The store opens and answers: local, the master key loads and a round trip works; Vault, unsealed and
    the token accepted."""
    started = time.perf_counter()
    try:
        state.secrets.check()
        ok, detail = True, state.secrets.describe()
    except (SecretStoreError, SQLAlchemyError) as error:
        ok, detail = False, str(error).splitlines()[0][:300]
    latency = round((time.perf_counter() - started) * 1000, 3)
    return Check(status="ok" if ok else "failing", latency_ms=latency, detail=detail)


def _timed(probe: Callable[[], bool]) -> Check:
    started = time.perf_counter()
    try:
        ok = probe()
        detail = "" if ok else "unexpected answer"
    except (SQLAlchemyError, redis.RedisError, OSError) as error:
        ok, detail = False, f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"
    latency = round((time.perf_counter() - started) * 1000, 3)
    return Check(status="ok" if ok else "failing", latency_ms=latency, detail=detail)
