"""The plugins the app is assembled from: the core (state, auth, errors) and one per domain."""

from __future__ import annotations

from collections.abc import Sequence

import redis
from litestar.config.app import AppConfig
from litestar.di import Provide
from litestar.middleware.base import DefineMiddleware
from litestar.plugins import InitPluginProtocol
from litestar.types import ControllerRouterHandler

from auralink.settings import Settings
from control_plane.analytics.realtime import MemoryRealtimeStore, RealtimeStore, RedisRealtimeStore
from control_plane.auth.middleware import AuthMiddleware
from control_plane.context import provide_tenant, request_id_middleware
from control_plane.db.engine import database_url, make_engine
from control_plane.errors import EXCEPTION_HANDLERS
from control_plane.routing import provide_db
from control_plane.state import AppState
from control_plane.stores import Counters, MemoryCounters, RateLimiter, RedisCounters


class CorePlugin(InitPluginProtocol):
    """Shared state, the ``db`` and ``tenant`` dependencies, request ids, authentication, error mapping."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def build_state(self) -> AppState:
        client = redis.Redis.from_url(self.settings.redis_url) if self.settings.redis_url else None
        counters: Counters = RedisCounters(client, self.settings.redis_key_prefix) if client else MemoryCounters()
        realtime: RealtimeStore = (
            RedisRealtimeStore(client, self.settings.redis_key_prefix) if client else MemoryRealtimeStore()
        )
        engine = make_engine(database_url(self.settings))
        return AppState(self.settings, engine, RateLimiter(counters), realtime, client)

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        state = self.build_state()
        app_config.state["control_plane"] = state
        app_config.dependencies.update(
            {"db": Provide(provide_db), "tenant": Provide(provide_tenant, sync_to_thread=False)}
        )
        app_config.middleware[:0] = [
            request_id_middleware,
            DefineMiddleware(AuthMiddleware, exclude=["^/schema", "^/metrics"]),
        ]
        app_config.exception_handlers.update(EXCEPTION_HANDLERS)

        def close() -> None:
            state.engine.dispose()
            if state.redis is not None:
                state.redis.close()

        app_config.on_shutdown.append(close)
        return app_config


class DomainPlugin(InitPluginProtocol):
    """One domain's routes."""

    def __init__(self, name: str, handlers: Sequence[ControllerRouterHandler]) -> None:
        self.name = name
        self.handlers = list(handlers)

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.route_handlers.extend(self.handlers)
        return app_config
