"""Settings of the control plane (``auralink serve control-plane``): database, auth, secrets, compliance, billing."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator

from settings.base import CommonSettings


class ControlPlaneSettings(CommonSettings):
    """The control plane's stores, limits, jobs and upstream services."""

    database_url: str | None = Field(
        None, description="control-plane database: postgresql://… (psycopg); unset = SQLite in data_dir"
    )
    control_plane_host: str = Field("127.0.0.1", description="address `auralink serve control-plane` listens on")
    control_plane_port: int = Field(8400, ge=0, le=65535, description="HTTP port of the control plane")
    telemetry_port: int | None = Field(
        8401, ge=0, le=65535, description="gRPC telemetry port of the control plane; unset = no gRPC server"
    )
    session_ttl_s: int = Field(7 * 24 * 3600, ge=60, description="lifetime of a UI login session, seconds")
    login_attempts_per_minute: int = Field(10, ge=1, description="password logins allowed per e-mail and address")
    api_key_requests_per_minute: int = Field(600, ge=1, description="default request budget of one API key")
    insights_interval_s: float = Field(3600.0, gt=0, description="how often the cost-insights job runs, seconds")
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
    vault_transit_key: str = Field("auralink", min_length=1, description="prefix of the transit keys (one a scope)")
    vault_timeout_s: float = Field(5.0, gt=0, le=120, description="timeout of one request to Vault, seconds")
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
    stripe_api_key: SecretStr | None = Field(None, description="Stripe secret key (sk_…); unset = paid plans off")
    stripe_api_base: str | None = Field(None, description="Stripe API address; unset = Stripe's (localstripe in tests)")
    stripe_webhook_secret: SecretStr | None = Field(None, description="signing secret of the Stripe webhook (whsec_…)")
    stripe_publishable_key: str | None = Field(
        None, description="Stripe publishable key (pk_…) for card entry in the admin UI; unset = no card entry"
    )
    stripe_webhook_tolerance_s: int = Field(300, ge=1, le=86400, description="oldest webhook signature accepted, s")
    stripe_timeout_s: float = Field(10.0, gt=0, le=120, description="seconds one Stripe request may take")
    stripe_max_network_retries: int = Field(2, ge=0, le=10, description="retries of a Stripe request that failed")
    billing_interval_s: float = Field(3600.0, gt=0, description="how often the billing job closes periods and syncs")
    billing_close_delay_s: float = Field(
        6 * 3600.0, ge=0, description="how long after a month ends its usage is closed (late events still count)"
    )
    engine_url: str = Field("http://127.0.0.1:8080", description="engine room API the control plane sends agents to")

    @field_validator("vault_transit_key")
    @classmethod
    def _transit_key_name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_-]+", value):
            raise ValueError("a transit key's name is letters, digits, '_' and '-' only")
        return value

    @model_validator(mode="after")
    def _vault_needs_its_address(self) -> Self:
        if self.secret_backend == "vault" and not self.vault_url:
            raise ValueError("secret_backend is 'vault' but vault_url (AURALINK_VAULT_URL) is not set")
        return self
