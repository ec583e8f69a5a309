"""Wiring the engine cluster from settings: the registry (Redis), a worker's membership, the front."""

from __future__ import annotations

from typing import TYPE_CHECKING

from settings import Settings, SettingsError

if TYPE_CHECKING:
    from pipeline.calls.server import CallServer
    from pipeline.cluster.registry import ClusterRegistry
    from pipeline.cluster.worker import ClusterMembership

NO_REDIS = (
    "a cluster needs Redis: set cluster_redis_url (AURALINK_CLUSTER_REDIS_URL) or redis_url, "
    "for example redis://127.0.0.1:6379/0"
)


async def cluster_registry(settings: Settings) -> ClusterRegistry:
    """The cluster's registry, once Redis has answered; :class:`SettingsError` saying what is wrong otherwise."""
    from pipeline.cluster.registry import ClusterRegistry, ClusterUnavailableError

    url = settings.cluster_redis
    if not url:
        raise SettingsError(NO_REDIS)
    try:
        registry = ClusterRegistry.from_url(url, settings.redis_key_prefix)
        await registry.check()
    except ClusterUnavailableError as error:
        raise SettingsError(f"{error} (cluster_redis_url / redis_url = {url!r})") from None
    return registry


async def join_cluster(settings: Settings, server: CallServer, url: str) -> ClusterMembership:
    """Register ``server``, listening on ``url``, as a worker of the cluster and keep it beating."""
    from pipeline.cluster.registry import new_worker_id
    from pipeline.cluster.worker import ClusterMembership

    registry = await cluster_registry(settings)
    membership = ClusterMembership(registry, server, new_worker_id(), settings.cluster_advertise_url or url)
    await membership.start()
    return membership
