"""The plugins the app is assembled from: the core (state, auth, errors) and one per domain."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence

import anyio.to_thread
import redis
import structlog
from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.di import Provide
from litestar.middleware.base import DefineMiddleware
from litestar.plugins import InitPluginProtocol
from litestar.types import ControllerRouterHandler
from sqlalchemy.exc import SQLAlchemyError

from control_plane.analytics.insights import refresh_all
from control_plane.analytics.realtime import MemoryRealtimeStore, RealtimeStore, RedisRealtimeStore
from control_plane.auth.middleware import AuthMiddleware
from control_plane.context import provide_tenant, request_id_middleware
from control_plane.db.engine import database_url, make_engine
from control_plane.errors import EXCEPTION_HANDLERS, log_unexpected
from control_plane.routing import provide_db
from control_plane.secrets.factory import build_store
from control_plane.state import AppState, app_state
from control_plane.stores import RateLimiter, memory_storage, redis_storage
from control_plane.telemetry.grpc_server import TelemetryServer
from control_plane.telemetry.live import MemoryLivePipelineStore, RedisLivePipelineStore
from pipeline.calls.json_body import BoundedJsonRequest
from settings import ControlPlaneSettings

log = structlog.get_logger(__name__)


class CorePlugin(InitPluginProtocol):
    """Shared state, the ``db`` and ``tenant`` dependencies, request ids, authentication, error mapping."""

    def __init__(self, settings: ControlPlaneSettings) -> None:
        self.settings = settings

    def build_state(self) -> AppState:
        client = redis.Redis.from_url(self.settings.redis_url) if self.settings.redis_url else None
        limits = redis_storage(client, self.settings.redis_key_prefix) if client else memory_storage()
        realtime: RealtimeStore = (
            RedisRealtimeStore(client, self.settings.redis_key_prefix) if client else MemoryRealtimeStore()
        )
        engine = make_engine(database_url(self.settings))
        secrets = build_store(self.settings, engine)
        live = RedisLivePipelineStore(client, self.settings.redis_key_prefix) if client else MemoryLivePipelineStore()
        return AppState(self.settings, engine, RateLimiter(limits), realtime, secrets, client, live)

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
        app_config.after_exception.append(log_unexpected)
        app_config.request_class = BoundedJsonRequest
        app_config.logging_config = None  # the process's logging is configured by its owner (auralink.logs)

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


class TelemetryPlugin(InitPluginProtocol):
    """Runs the gRPC telemetry service for as long as the app runs (when ``telemetry_port`` is set)."""

    def __init__(self, settings: ControlPlaneSettings) -> None:
        self.settings = settings

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        port = self.settings.telemetry_port
        if port is None:
            return app_config
        host = self.settings.control_plane_host

        def start(app: Litestar) -> None:
            server = TelemetryServer(app_state(app.state), host, port)
            server.start()
            app.state.telemetry_server = server

        def stop(app: Litestar) -> None:
            server = app.state.get("telemetry_server")
            if isinstance(server, TelemetryServer):
                server.stop()

        app_config.on_startup.append(start)
        app_config.on_shutdown.insert(0, stop)
        return app_config


class PeriodicJobPlugin(InitPluginProtocol):
    """Runs ``job`` in a worker thread every ``interval_s`` while the app runs.

    A run that fails, with any exception, is logged with the job's name and the
    job goes on: after ``n`` failures in a row the next run waits
    ``interval_s * 2**n`` seconds (at most ``max(interval_s, max_backoff_s)``),
    and the first run that succeeds brings the wait back to ``interval_s``.
    Runs never overlap, because the next sleep starts only when a run has finished.
    """

    def __init__(
        self, name: str, interval_s: float, job: Callable[[AppState], object], max_backoff_s: float = 300.0
    ) -> None:
        self.name = name
        self.interval_s = interval_s
        self.job = job
        self.max_backoff_s = max_backoff_s

    def delay_after(self, failures: int) -> float:
        """How long to wait before the next run, after ``failures`` failed runs in a row."""
        cap = max(self.interval_s, self.max_backoff_s)
        return min(self.interval_s * 2.0 ** min(failures, 64), cap)

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        task_key = f"job_{self.name}"

        async def loop(state: AppState) -> None:
            failures = 0
            while True:
                await asyncio.sleep(self.delay_after(failures))
                try:
                    outcome = await anyio.to_thread.run_sync(self.job, state)
                except SQLAlchemyError as error:  # expected now and then: one line is enough
                    failures += 1
                    log.error(
                        "job failed",
                        job=self.name,
                        error=str(error).splitlines()[0][:200],
                        retry_in_s=self.delay_after(failures),
                    )
                except Exception as error:  # anything else (Redis down …): log it whole, back off, go on
                    failures += 1
                    log.error(
                        "job failed",
                        job=self.name,
                        error=f"{type(error).__name__}: {error}"[:200],
                        retry_in_s=self.delay_after(failures),
                        exc_info=True,
                    )
                else:
                    failures = 0
                    log.info("job ran", job=self.name, outcome=outcome)

        def start(app: Litestar) -> None:
            app.state[task_key] = asyncio.get_running_loop().create_task(loop(app_state(app.state)))

        async def stop(app: Litestar) -> None:
            task = app.state.get(task_key)
            if isinstance(task, asyncio.Task):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

        app_config.on_startup.append(start)
        app_config.on_shutdown.insert(0, stop)
        return app_config


def insights_job(settings: ControlPlaneSettings) -> PeriodicJobPlugin:
    """The cost-insights job, every ``insights_interval_s``."""
    return PeriodicJobPlugin("insights", settings.insights_interval_s, _refresh_insights)


def _refresh_insights(state: AppState) -> int:
    with state.session() as db:
        return refresh_all(db)
