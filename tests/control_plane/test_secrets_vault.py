"""The Vault backend through hvac, end to end against the Vault HTTP API test double
(``vault_api_server.py``: no Vault server installs here): KV v2 versions, transit encrypt/decrypt/rotate/rewrap,
and every fault (sealed, unreachable, wrong token) as one typed error, never a fallback."""

from __future__ import annotations

import uuid

import pytest

from control_plane.secrets.errors import (
    SecretIntegrityError,
    SecretNotFoundError,
    SecretRequestRefusedError,
    SecretStoreError,
    SecretStoreUnavailableError,
)
from control_plane.secrets.vault import VaultSecretStore
from settings import Settings
from tests.control_plane.secrets_support import unused_port_url, vault, vault_server, vault_settings
from tests.control_plane.vault_api_server import VaultApiServer

__all__ = ["vault", "vault_server"]  # fixtures


@pytest.fixture
def store(vault: VaultApiServer) -> VaultSecretStore:
    return VaultSecretStore(vault_settings(Settings(), vault.url))


def a_scope() -> str:
    return f"org-{uuid.uuid4().hex[:8]}"


def test_kv_v2_keeps_every_version_and_destroy_removes_them(store: VaultSecretStore, vault: VaultApiServer) -> None:
    scope = a_scope()
    assert store.put(scope, "provider-keys/a", "first value of the key") == 1
    assert store.put(scope, "provider-keys/a", "second value of the key") == 2
    assert store.get(scope, "provider-keys/a") == "second value of the key"
    assert store.get(scope, "provider-keys/a", version=1) == "first value of the key"
    assert any(f"/data/{store._kv_prefix}/{scope}/provider-keys/a" in line for line in vault.data.requests)
    store.destroy(scope, "provider-keys/a")
    with pytest.raises(SecretNotFoundError, match=f"no secret at provider-keys/a in {scope}"):
        store.get(scope, "provider-keys/a")
    store.destroy(scope, "provider-keys/a")  # nothing there: no error


def test_transit_encrypts_fields_rotates_and_rewraps(store: VaultSecretStore) -> None:
    scope = a_scope()
    token = store.encrypt_field(scope, "a field worth hiding")
    assert token.startswith("vault:v1:") and "hiding" not in token
    assert store.decrypt_field(scope, token) == "a field worth hiding"
    assert store.rotate(scope) == 2
    moved = store.rewrap_field(scope, token)
    assert moved.startswith("vault:v2:") and store.decrypt_field(scope, moved) == "a field worth hiding"
    assert store.decrypt_field(scope, token) == "a field worth hiding"  # the old version still decrypts
    status = store.key_status(scope)
    assert (status.current_version, status.versions, status.min_decryption_version) == (2, [1, 2], 1)
    with pytest.raises(SecretRequestRefusedError, match="is the current one"):
        store.retire(scope, 2)
    store.retire(scope, 1)
    assert store.key_status(scope).versions == [2]
    with pytest.raises(SecretStoreError, match="disallowed by policy"):
        store.decrypt_field(scope, token)
    assert store.rewrap(scope) == 0 and scope in store.scopes()


def test_a_tampered_transit_ciphertext_is_refused(store: VaultSecretStore) -> None:
    scope = a_scope()
    token = store.encrypt_field(scope, "value")
    forged = token[:-6] + ("AAAA" if token[-6:-2] != "AAAA" else "BBBB") + token[-2:]
    with pytest.raises(SecretStoreError, match="message authentication failed"):
        store.decrypt_field(scope, forged)
    assert not isinstance(SecretIntegrityError("x"), SecretStoreUnavailableError)


def test_check_passes_when_unsealed_and_the_token_works(store: VaultSecretStore) -> None:
    store.check()
    assert store.describe().startswith("Vault at http://127.0.0.1:")


def test_sealed_vault_is_unavailable_everywhere_and_never_falls_back(
    store: VaultSecretStore, vault: VaultApiServer
) -> None:
    scope = a_scope()
    store.put(scope, "k", "stored before the seal")
    vault.seal()
    for attempt in (
        store.check,
        lambda: store.put(scope, "k", "written while sealed"),
        lambda: store.get(scope, "k"),
        lambda: store.encrypt_field(scope, "x"),
    ):
        with pytest.raises(SecretStoreUnavailableError, match="is sealed") as raised:
            attempt()
        assert raised.value.retry_after_s > 0
    vault.unseal()
    assert store.get(scope, "k") == "stored before the seal"
    assert store.put(scope, "k", "after") == 2  # the sealed write left nothing behind


def test_a_wrong_token_is_a_permission_error_naming_the_setting(vault: VaultApiServer) -> None:
    store = VaultSecretStore(vault_settings(Settings(), vault.url, token="not-the-token"))
    with pytest.raises(SecretStoreUnavailableError, match=r"refused the token .*AURALINK_VAULT_TOKEN"):
        store.check()
    with pytest.raises(SecretStoreUnavailableError, match="permission denied"):
        store.put(a_scope(), "k", "v")


def test_an_unreachable_vault_is_unavailable() -> None:
    store = VaultSecretStore(vault_settings(Settings(), unused_port_url()))
    with pytest.raises(SecretStoreUnavailableError, match="is unreachable"):
        store.check()
    with pytest.raises(SecretStoreUnavailableError, match="is unreachable"):
        store.get("org-1", "k")


def test_vault_without_an_address_is_a_configuration_error() -> None:
    from settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match="vault_url"):
        load_settings(secret_backend="vault")
