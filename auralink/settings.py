"""Process-wide settings: defaults, then a TOML config file, then ``AURALINK_*`` variables.

Every setting is documented in ``docs/configuration.md`` (kept in step by a
test) and printed with its current value by ``auralink config``.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

CONFIG_ENV = "AURALINK_CONFIG"


class SettingsError(Exception):
    """The configuration cannot be used; the message says which file or variable and why."""


class Settings(BaseSettings):
    """AuraLink's configuration (see docs/configuration.md)."""

    model_config = SettingsConfigDict(env_prefix="AURALINK_", extra="forbid", frozen=True)

    data_dir: Path = Field(Path(".auralink"), description="where databases, keystores and caches live")
    log_level: Literal["debug", "info", "warning", "error"] = Field("info", description="least severe log level shown")
    log_format: Literal["console", "json"] = Field("console", description="human-readable or JSON log lines")
    worker_threads: int = Field(0, ge=0, le=1024, description="threads for CPU/GPU stage work; 0 = one per core")
    metrics_host: str = Field("127.0.0.1", description="address of the Prometheus endpoint of `auralink run`")
    metrics_port: int | None = Field(None, ge=1, le=65535, description="port of that endpoint; unset = off")
    aic_host: str = Field("127.0.0.1", description="address `auralink serve aic` listens on")
    aic_port: int = Field(50061, ge=0, le=65535, description="port of `auralink serve aic` (0 = any free port)")
    # calls (auralink serve engine)
    engine_host: str = Field("127.0.0.1", description="address `auralink serve engine` listens on")
    engine_port: int = Field(8080, ge=0, le=65535, description="port of the engine's HTTP server (0 = any free)")
    engine_cors_origins: list[str] = Field(
        default_factory=list, description="other origins whose pages may call the engine (WHIP/WHEP/rooms)"
    )
    engine_public_url: str | None = Field(None, description="URL browsers use to reach the engine; unset = host:port")
    join_token_secret: SecretStr | None = Field(
        None, description="signs join tokens; unset = generated once, kept in data_dir/join-token.secret"
    )
    room_pipeline: Path | None = Field(None, description="pipeline run on each participant's audio; unset = bundled")
    room_max_participants: int = Field(16, ge=1, le=1000, description="participants per room unless it says otherwise")
    room_idle_timeout_s: float = Field(300.0, gt=0, description="an empty room closes after this many seconds")
    call_connect_timeout_s: float = Field(15.0, gt=0, description="a session not connected by then is ended")
    quality_interval_s: float = Field(5.0, gt=0, description="how often each participant's call quality is sampled")
    ice_servers: list[str] = Field(default_factory=list, description="STUN/TURN URLs; empty = none (host only)")
    ice_username: str | None = Field(None, description="TURN username")
    ice_credential: SecretStr | None = Field(None, description="TURN credential")
    ice_host_addresses: list[str] = Field(
        default_factory=list, description="local addresses for host candidates; empty = every interface"
    )
    ice_remote_networks: list[str] = Field(
        default_factory=list, description="remote candidates outside these CIDRs are ignored; empty = any"
    )
    # control plane
    database_url: str | None = Field(
        None, description="control-plane database: postgresql://… (psycopg); unset = SQLite in data_dir"
    )
    redis_url: str | None = Field(None, description="Redis for realtime metrics and rate limits; unset = in-process")
    redis_key_prefix: str = Field("auralink:", min_length=1, description="prefix of every Redis key written")
    control_plane_host: str = Field("127.0.0.1", description="address `auralink serve control-plane` listens on")
    control_plane_port: int = Field(8400, ge=0, le=65535, description="HTTP port of the control plane")
    telemetry_port: int | None = Field(
        8401, ge=0, le=65535, description="gRPC telemetry port of the control plane; unset = no gRPC server"
    )
    session_ttl_s: int = Field(7 * 24 * 3600, ge=60, description="lifetime of a UI login session, seconds")
    login_attempts_per_minute: int = Field(10, ge=1, description="password logins allowed per e-mail and address")
    api_key_requests_per_minute: int = Field(600, ge=1, description="default request budget of one API key")
    insights_interval_s: float = Field(3600.0, gt=0, description="how often the cost-insights job runs, seconds")
    # secrets
    secret_backend: Literal["local", "vault"] = Field(
        "local", description="where provider keys live: the local keystore (embedded) or HashiCorp Vault"
    )
    secret_master_key: SecretStr | None = Field(
        None, description="local keystore master key, base64 of 32 bytes; unset = secret_master_key_file"
    )
    secret_master_key_file: Path | None = Field(
        None, description="file holding the master key; unset = DATA_DIR/keystore/master.key, generated once"
    )
    secret_previous_master_keys: list[SecretStr] = Field(
        default_factory=list, description="master keys being rotated out: they still open keys until rewrapped"
    )
    secret_rewrap_interval_s: float = Field(
        3600.0, gt=0, description="how often stored secrets are re-wrapped to their scope's newest key, seconds"
    )
    vault_url: str | None = Field(None, description="Vault's address, e.g. https://vault.example:8200")
    vault_token: SecretStr | None = Field(None, description="the Vault token the control plane acts with")
    vault_kv_mount: str = Field("secret", min_length=1, description="mount point of Vault's KV v2 engine")
    vault_kv_prefix: str = Field("auralink", min_length=1, description="path prefix of every KV v2 secret written")
    vault_transit_mount: str = Field("transit", min_length=1, description="mount point of Vault's transit engine")
    vault_transit_key: str = Field(
        "auralink", min_length=1, pattern=r"^[A-Za-z0-9_-]+$", description="prefix of the transit keys (one a scope)"
    )
    vault_timeout_s: float = Field(5.0, gt=0, le=120, description="timeout of one request to Vault, seconds")

    # compliance
    compliance_interval_s: float = Field(
        60.0, gt=0, description="how often the compliance job runs requests and enforces retention, seconds"
    )
    compliance_export_ttl_days: int = Field(
        30, ge=1, le=3650, description="days an export's download link works before its file is deleted"
    )
    compliance_run_on_request: bool = Field(
        True, description="run an export or erasure as soon as it is requested; off = only the scheduled job does"
    )
    compliance_pseudonym_secret: SecretStr | None = Field(
        None, description="key of the erasure pseudonyms (HMAC); unset = generated once in data_dir"
    )
    # billing
    stripe_api_key: SecretStr | None = Field(None, description="Stripe secret key (sk_…); unset = paid plans off")
    stripe_api_base: str | None = Field(None, description="Stripe API address; unset = Stripe's (localstripe in tests)")
    stripe_webhook_secret: SecretStr | None = Field(None, description="signing secret of the Stripe webhook (whsec_…)")
    stripe_webhook_tolerance_s: int = Field(300, ge=1, le=86400, description="oldest webhook signature accepted, s")
    stripe_timeout_s: float = Field(10.0, gt=0, le=120, description="seconds one Stripe request may take")
    stripe_max_network_retries: int = Field(2, ge=0, le=10, description="retries of a Stripe request that failed")
    billing_interval_s: float = Field(3600.0, gt=0, description="how often the billing job closes periods and syncs")
    billing_close_delay_s: float = Field(
        6 * 3600.0, ge=0, description="how long after a month ends its usage is closed (late events still count)"
    )
    engine_url: str = Field("http://127.0.0.1:8080", description="engine room API the control plane sends agents to")
    telemetry_target: str | None = Field(
        None, description="host:port of the control plane's gRPC telemetry for an engine; unset = not reported"
    )
    telemetry_api_key: SecretStr | None = Field(None, description="API key (scope telemetry) an engine reports with")
    models_dir: Path | None = Field(None, description="cache of joined speech models; unset = DATA_DIR/models")
    stt_model: str = Field("tiny.en", description="speech model of `auralink transcribe` and the speech endpoints")
    stt_device: Literal["cpu", "cuda", "auto"] = Field("auto", description="where Whisper runs; auto = cuda if seen")
    stt_compute_type: str = Field("auto", description="CTranslate2 compute type; auto = int8 on CPU, float16 on GPU")
    speech_ws_max_message_bytes: int = Field(65536, ge=1024, le=16 << 20, description="largest audio message")
    speech_ws_max_backlog_s: float = Field(10.0, gt=0, le=120, description="audio waiting per connection, at most")

    @model_validator(mode="after")
    def _vault_needs_its_address(self) -> Settings:
        if self.secret_backend == "vault" and not self.vault_url:
            raise ValueError("secret_backend is 'vault' but vault_url (AURALINK_VAULT_URL) is not set")
        return self

    @property
    def speech_models_dir(self) -> Path:
        """Where joined speech models are cached."""
        return self.models_dir or self.data_dir / "models"


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Settings from ``config_file`` (or ``$AURALINK_CONFIG``), the environment and overrides."""
    path = config_file or (Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else None)
    from_file = _read_config_file(path) if path else {}
    try:
        return Settings(**{**from_file, **{k: v for k, v in overrides.items() if v is not None}})
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        source = f"{path} or AURALINK_* variables" if path else "AURALINK_* variables"
        raise SettingsError(f"invalid configuration ({source}): {problems}") from None


def _read_config_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise SettingsError(f"{path}: config file not found") from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{path}: invalid TOML: {error}") from None
    section = data.get("auralink", data)
    if not isinstance(section, dict):
        raise SettingsError(f"{path}: [auralink] must be a table")
    return section
