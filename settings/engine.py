"""Settings of the call engine (``auralink serve engine``, ``auralink run``): HTTP, rooms, ICE, telemetry."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr

from settings.base import CommonSettings


class EngineSettings(CommonSettings):
    """How the engine serves calls and where it reports them."""

    metrics_host: str = Field("127.0.0.1", description="address of the Prometheus endpoint of `auralink run`")
    metrics_port: int | None = Field(None, ge=1, le=65535, description="port of that endpoint; unset = off")
    engine_host: str = Field("127.0.0.1", description="address `auralink serve engine` listens on")
    engine_port: int = Field(8080, ge=0, le=65535, description="port of the engine's HTTP server (0 = any free)")
    engine_cors_origins: list[str] = Field(
        default_factory=list, description="other origins whose pages may call the engine (WHIP/WHEP/rooms)"
    )
    engine_public_url: str | None = Field(None, description="URL browsers use to reach the engine; unset = host:port")
    room_pipeline: Path | None = Field(None, description="pipeline run on each participant's audio; unset = bundled")
    room_max_participants: int = Field(16, ge=1, le=1000, description="participants per room unless it says otherwise")
    room_idle_timeout_s: float = Field(300.0, gt=0, description="an empty room closes after this many seconds")
    call_connect_timeout_s: float = Field(15.0, gt=0, description="a session not connected by then is ended")
    quality_interval_s: float = Field(5.0, gt=0, description="how often each participant's call quality is sampled")
    usage_checkpoint_s: float = Field(
        60.0, ge=1, le=3600, description="how often a call's seconds so far are reported (what a crash can lose)"
    )
    ice_servers: list[str] = Field(default_factory=list, description="STUN/TURN URLs; empty = none (host only)")
    ice_username: str | None = Field(None, description="TURN username")
    ice_credential: SecretStr | None = Field(None, description="TURN credential")
    ice_host_addresses: list[str] = Field(
        default_factory=list, description="local addresses for host candidates; empty = every interface"
    )
    ice_remote_networks: list[str] = Field(
        default_factory=list, description="remote candidates outside these CIDRs are ignored; empty = any"
    )
    telemetry_target: str | None = Field(
        None, description="host:port of the control plane's gRPC telemetry for an engine; unset = not reported"
    )
    telemetry_api_key: SecretStr | None = Field(None, description="API key (scope telemetry) an engine reports with")
    cluster_redis_url: str | None = Field(
        None, description="Redis of the engine cluster this engine joins; unset = redis_url; neither = no cluster"
    )
    cluster_advertise_url: str | None = Field(
        None, description="URL the cluster's fronts reach this engine at; unset = the address it listens on"
    )
    cluster_whip_redirect: bool = Field(
        False,
        description="a cluster's front answers a WHIP offer with 307 to the room's worker (RFC 9725) instead of "
        "proxying it; the client must follow redirects and reach the workers",
    )
    cluster_drain_timeout_s: float = Field(
        3600.0, gt=0, description="a draining engine (SIGTERM) exits after this even with calls in progress"
    )

    @property
    def cluster_redis(self) -> str | None:
        """The Redis of the cluster: ``cluster_redis_url``, else ``redis_url``; ``None``: no cluster."""
        return self.cluster_redis_url or self.redis_url
