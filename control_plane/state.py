"""What the app shares between requests: settings, the database engine, Redis, stores, the secret store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import redis
from sqlalchemy import Engine
from sqlmodel import Session

from control_plane.analytics.realtime import RealtimeStore
from control_plane.auth.key_cache import KeyCache
from control_plane.secrets.store import SecretStore
from control_plane.stores import RateLimiter
from control_plane.telemetry.live import LivePipelineStore, MemoryLivePipelineStore
from settings import ControlPlaneSettings


@dataclass
class AppState:
    settings: ControlPlaneSettings
    engine: Engine
    limiter: RateLimiter
    realtime: RealtimeStore
    secrets: SecretStore
    redis: redis.Redis | None = None
    live: LivePipelineStore = field(default_factory=MemoryLivePipelineStore)
    """Room pipelines' stage stats and captions, as engines report them live."""
    keys: KeyCache = field(default_factory=KeyCache)
    """API keys' principals, remembered for a moment (a revocation here forgets them at once)."""

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)


def app_state(state: Any) -> AppState:
    """The shared state kept in the app's ``state`` (any object with a ``control_plane`` attribute)."""
    found = state.control_plane
    assert isinstance(found, AppState)
    return found
