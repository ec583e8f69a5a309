"""HashiCorp Vault through ``hvac``: KV v2 holds the secrets, transit encrypts fields and rotates keys.

Each scope has its own KV v2 folder (``<vault_kv_prefix>/<scope>/…``) and its own transit key
(``<vault_transit_key>-<scope>``). Every hvac or network failure becomes one typed error: a sealed, unreachable
or token-refusing Vault is :class:`SecretStoreUnavailableError` (the API's 503 with ``Retry-After``). Nothing
ever falls back to plain text or to the local keystore.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any, TypeVar

import hvac
import requests
from hvac import exceptions as vault_errors

from control_plane.secrets.errors import (
    SecretIntegrityError,
    SecretNotFoundError,
    SecretRequestRefusedError,
    SecretStoreError,
    SecretStoreUnavailableError,
)
from control_plane.secrets.store import KeyStatus
from settings import ControlPlaneSettings

T = TypeVar("T")


class VaultSecretStore:
    """:class:`~control_plane.secrets.store.SecretStore` over Vault's KV v2 and transit engines."""

    backend = "vault"

    def __init__(self, settings: ControlPlaneSettings) -> None:
        if not settings.vault_url:
            raise SecretStoreError("secret_backend is 'vault' but vault_url (AURALINK_VAULT_URL) is not set")
        token = settings.vault_token.get_secret_value() if settings.vault_token else None
        self.url = settings.vault_url.rstrip("/")
        self._client = hvac.Client(url=self.url, token=token, timeout=settings.vault_timeout_s)
        self._kv_mount = settings.vault_kv_mount
        self._kv_prefix = settings.vault_kv_prefix.strip("/")
        self._transit_mount = settings.vault_transit_mount
        self._transit_prefix = settings.vault_transit_key
        self._has_token = token is not None
        self._known_keys: set[str] = set()

    def describe(self) -> str:
        return f"Vault at {self.url}"

    # --- readiness -----------------------------------------------------------------------------------------
    def check(self) -> None:
        health = self._call("health", lambda: self._client.sys.read_health_status(method="GET"))
        body = health if isinstance(health, dict) else _json_of(health)
        if body.get("sealed", False):
            raise SecretStoreUnavailableError(f"Vault at {self.url} is sealed; unseal it (readiness waits)")
        if not body.get("initialized", True):
            raise SecretStoreUnavailableError(f"Vault at {self.url} is not initialised")
        if not self._has_token:
            raise SecretStoreUnavailableError("no Vault token configured (set AURALINK_VAULT_TOKEN)")
        self._call("token lookup", lambda: self._client.auth.token.lookup_self())

    # --- KV v2 ---------------------------------------------------------------------------------------------
    def put(self, scope: str, path: str, value: str) -> int:
        kv = self._client.secrets.kv.v2
        answer = self._call(
            "write",
            lambda: kv.create_or_update_secret(self._kv_path(scope, path), {"value": value}, None, self._kv_mount),
        )
        return int(answer["data"]["version"])

    def get(self, scope: str, path: str, version: int | None = None) -> str:
        kv = self._client.secrets.kv.v2
        answer = self._call(
            "read",
            lambda: kv.read_secret_version(
                self._kv_path(scope, path), version, self._kv_mount, raise_on_deleted_version=True
            ),
            missing=f"no secret at {path} in {scope}",
        )
        value = (answer["data"].get("data") or {}).get("value")
        if not isinstance(value, str):
            raise SecretIntegrityError(f"Vault's secret at {path} has no text 'value' field")
        return value

    def destroy(self, scope: str, path: str) -> None:
        kv = self._client.secrets.kv.v2
        try:
            self._call(
                "destroy", lambda: kv.delete_metadata_and_all_versions(self._kv_path(scope, path), self._kv_mount)
            )
        except SecretNotFoundError:
            return

    # --- transit -------------------------------------------------------------------------------------------
    def encrypt_field(self, scope: str, plaintext: str) -> str:
        name = self._transit_key(scope)
        encoded = base64.b64encode(plaintext.encode()).decode()
        transit = self._client.secrets.transit
        answer = self._call("encrypt", lambda: transit.encrypt_data(name, encoded, mount_point=self._transit_mount))
        return str(answer["data"]["ciphertext"])

    def decrypt_field(self, scope: str, ciphertext: str) -> str:
        name = self._transit_key(scope)
        transit = self._client.secrets.transit
        answer = self._call("decrypt", lambda: transit.decrypt_data(name, ciphertext, mount_point=self._transit_mount))
        try:
            return base64.b64decode(answer["data"]["plaintext"]).decode()
        except (binascii.Error, UnicodeDecodeError, KeyError):
            raise SecretIntegrityError("Vault's transit engine returned no readable plaintext") from None

    def rewrap_field(self, scope: str, ciphertext: str) -> str:
        name = self._transit_key(scope)
        transit = self._client.secrets.transit
        answer = self._call("rewrap", lambda: transit.rewrap_data(name, ciphertext, mount_point=self._transit_mount))
        return str(answer["data"]["ciphertext"])

    def rotate(self, scope: str) -> int:
        name = self._transit_key(scope)
        transit = self._client.secrets.transit
        answer = self._call("rotate", lambda: transit.rotate_key(name, mount_point=self._transit_mount))
        if isinstance(answer, dict):  # recent Vaults answer with the key, older ones with 204
            return int(answer["data"]["latest_version"])
        return self.key_status(scope).current_version or 1

    def rewrap(self, scope: str) -> int:
        """Nothing to move: KV v2 values are encrypted by Vault's own keyring, which Vault rotates itself.
        Field ciphertexts held in AuraLink's tables move with :meth:`rewrap_field`."""
        return 0

    def retire(self, scope: str, version: int) -> None:
        key = self._read_key(scope)
        if key is None or str(version) not in key.get("keys", {}):
            raise SecretNotFoundError(f"key version {version} of {scope} does not exist (or is already retired)")
        if version >= int(key["latest_version"]):
            raise SecretRequestRefusedError(f"key version {version} of {scope} is the current one: rotate first")
        name = self._transit_key(scope)
        transit = self._client.secrets.transit
        self._call(
            "retire",
            lambda: transit.update_key_configuration(
                name, min_decryption_version=version + 1, mount_point=self._transit_mount
            ),
        )

    def key_status(self, scope: str) -> KeyStatus:
        key = self._read_key(scope)
        if key is None:
            return KeyStatus(scope, None, [], 0)
        minimum = int(key.get("min_decryption_version", 1))
        versions = sorted(int(v) for v in key.get("keys", {}) if int(v) >= minimum)
        return KeyStatus(scope, int(key["latest_version"]), versions, minimum)

    def scopes(self) -> list[str]:
        return sorted(name.removeprefix(f"{self._transit_prefix}-") for name in self._known_keys)

    # --- plumbing ------------------------------------------------------------------------------------------
    def _kv_path(self, scope: str, path: str) -> str:
        return f"{self._kv_prefix}/{scope}/{path}"

    def _transit_key(self, scope: str) -> str:
        """The scope's transit key, created on first use (creating an existing key changes nothing)."""
        name = f"{self._transit_prefix}-{scope}"
        if name not in self._known_keys:
            transit = self._client.secrets.transit
            self._call(
                "create key", lambda: transit.create_key(name, key_type="aes256-gcm96", mount_point=self._transit_mount)
            )
            self._known_keys.add(name)
        return name

    def _read_key(self, scope: str) -> dict[str, Any] | None:
        """The scope's transit key as Vault describes it; ``None`` before its first use."""
        name = f"{self._transit_prefix}-{scope}"
        transit = self._client.secrets.transit
        try:
            answer = self._call("read key", lambda: transit.read_key(name, mount_point=self._transit_mount))
        except SecretNotFoundError:
            return None
        data = answer["data"]
        assert isinstance(data, dict)
        return data

    def _call(self, what: str, request: Callable[[], T], *, missing: str = "") -> T:
        """``request``, with every Vault and network failure mapped to one of the store's typed errors."""
        try:
            return request()
        except vault_errors.VaultDown:
            raise SecretStoreUnavailableError(f"Vault at {self.url} is sealed ({what} refused)") from None
        except (vault_errors.Forbidden, vault_errors.Unauthorized):
            raise SecretStoreUnavailableError(
                f"Vault at {self.url} refused the token for {what} (permission denied): check AURALINK_VAULT_TOKEN"
            ) from None
        except vault_errors.InvalidPath:
            raise SecretNotFoundError(missing or f"Vault at {self.url} has nothing there ({what})") from None
        except vault_errors.InvalidRequest as error:
            raise SecretStoreError(f"Vault at {self.url} refused the {what}: {_first(error)}") from None
        except vault_errors.VaultError as error:
            raise SecretStoreUnavailableError(f"Vault at {self.url} failed the {what}: {_first(error)}") from None
        except requests.exceptions.Timeout:
            raise SecretStoreUnavailableError(f"Vault at {self.url} did not answer the {what} in time") from None
        except requests.exceptions.RequestException as error:
            raise SecretStoreUnavailableError(f"Vault at {self.url} is unreachable ({type(error).__name__})") from None


def _json_of(response: Any) -> dict[str, Any]:
    """The JSON body of a non-200 ``requests`` response (hvac returns those as they are)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _first(error: Exception) -> str:
    return str(error).splitlines()[0][:200] if str(error) else type(error).__name__
