"""Provider keys through the API, in both secret backends (the local keystore, and Vault through hvac against
the Vault HTTP API test double) on both databases: shown only masked, versioned, revocable, audited; key
rotation; Vault sealed or unreachable mid-run; the full key never in a response, a log line, an audit entry or
a database row."""

from __future__ import annotations

import base64
import logging
import os
import uuid
from collections.abc import Callable, Iterator

import pytest
import structlog
from litestar import Litestar
from litestar.testing import TestClient
from pydantic import SecretStr

from control_plane.app import create_app
from control_plane.domain_errors import NotFound
from control_plane.provider_keys import service
from control_plane.provider_keys.masking import mask
from control_plane.secrets.local import LocalKeystore
from control_plane.secrets.plugin import rewrap_all
from control_plane.state import app_state
from settings import Settings
from tests.control_plane.helpers import Account, member, owner
from tests.control_plane.secrets_support import (
    places_holding,
    unused_port_url,
    vault,
    vault_server,
    vault_settings,
    with_secret_backend,
)
from tests.control_plane.vault_api_server import VaultApiServer
from tests.support.databases import Backend

__all__ = ["vault", "vault_server"]  # fixtures


@pytest.fixture(params=["local", "vault"])
def secret_app(request: pytest.FixtureRequest, settings: Settings) -> Litestar:
    """The app with each secret backend."""
    return create_app(with_secret_backend(request, settings), migrate=False)


@pytest.fixture
def vault_app(settings: Settings, vault: VaultApiServer) -> Litestar:
    return create_app(vault_settings(settings, vault.url), migrate=False)


def a_key(prefix: str = "sk-proj-") -> str:
    return prefix + uuid.uuid4().hex + uuid.uuid4().hex


def create(account: Account, key: str, name: str = "", provider: str = "openai") -> dict[str, object]:
    response = account.client.post(
        "/provider-keys", json={"provider": provider, "name": name or f"key-{uuid.uuid4().hex[:6]}", "key": key}
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def reveal(app: Litestar, organization_id: int, name: str) -> str:
    state = app_state(app.state)
    with state.session() as db:
        return service.reveal(db, state.secrets, organization_id, name, purpose="test")


def test_masking_shows_the_vendor_label_and_last_four_only() -> None:
    assert mask("sk-proj-abcdefghijklmnopqrstuvwxyz1a2b") == "sk-proj-…1a2b"
    assert mask("0123456789abcdef0123") == "…0123"
    assert mask("gsk_short123456789") == "…6789"  # the label would leave too little hidden


def test_create_list_rotate_revoke_show_only_the_masked_form(secret_app: Litestar, backend: Backend) -> None:
    acme = owner(secret_app)
    key, new_key = a_key(), a_key()
    created = create(acme, key, name="openai-prod")
    assert created["masked"] == f"sk-proj-…{key[-4:]}" and created["version"] == 1
    assert created["backend"] == app_state(secret_app.state).secrets.backend
    listed = acme.client.get("/provider-keys")
    assert [k["name"] for k in listed.json()] == ["openai-prod"] and key not in listed.text
    key_id = created["id"]
    assert acme.client.get(f"/provider-keys/{key_id}").json()["masked"] == created["masked"]
    assert reveal(secret_app, acme.organization_id, "openai-prod") == key

    rotated = acme.client.post(f"/provider-keys/{key_id}/rotate", json={"key": new_key})
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["version"] == 2 and rotated.json()["masked"].endswith(new_key[-4:])
    assert rotated.json()["rotated_at"] is not None and new_key not in rotated.text
    assert reveal(secret_app, acme.organization_id, "openai-prod") == new_key

    revoked = acme.client.delete(f"/provider-keys/{key_id}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    with pytest.raises(NotFound, match="no active provider key named 'openai-prod'"):
        reveal(secret_app, acme.organization_id, "openai-prod")
    again = acme.client.post(f"/provider-keys/{key_id}/rotate", json={"key": a_key()})
    assert again.status_code == 409 and "revoked" in again.json()["detail"]

    audit = acme.client.get("/audit", params={"resource_type": "provider_key"})
    assert [e["action"] for e in audit.json()] == [
        "provider_key.revoke",
        "provider_key.reveal",
        "provider_key.rotate",
        "provider_key.reveal",
        "provider_key.create",
    ]
    assert key not in audit.text and new_key not in audit.text
    engine = app_state(secret_app.state).engine
    assert places_holding(engine, key, backend.data_dir) == []
    assert places_holding(engine, new_key, backend.data_dir) == []


def test_only_secret_managers_see_keys_and_only_their_own(secret_app: Litestar) -> None:
    acme, other = owner(secret_app), owner(secret_app, "Other")
    created = create(acme, a_key())
    admin = member(secret_app, acme, "admin")
    assert admin.client.get("/provider-keys").status_code == 200
    for role in ("member", "viewer", "billing_manager"):
        outsider = member(secret_app, acme, role)
        response = outsider.client.get("/provider-keys")
        assert response.status_code == 403 and "manage_secrets" in response.json()["detail"]
        assert outsider.client.post("/provider-keys", json={}).status_code == 403
    for attempt in (
        other.client.get(f"/provider-keys/{created['id']}"),
        other.client.post(f"/provider-keys/{created['id']}/rotate", json={"key": a_key()}),
        other.client.delete(f"/provider-keys/{created['id']}"),
    ):
        assert attempt.status_code == 404 and attempt.json()["detail"] == f"provider key {created['id']} not found"
    assert reveal(secret_app, acme.organization_id, str(created["name"])).startswith("sk-proj-")


def test_bad_input_gets_a_clear_4xx_that_never_echoes_the_key(app: Litestar) -> None:
    acme = owner(app)
    create(acme, a_key(), name="taken")
    spaced = "sk-" + uuid.uuid4().hex + " " + uuid.uuid4().hex
    cases: list[tuple[dict[str, object], int, str]] = [
        ({"provider": "openai", "name": "x", "key": "sk-short"}, 400, "16 to 4096 characters, not 8"),
        ({"provider": "openai", "name": "x", "key": spaced}, 400, "no spaces, line breaks or control characters"),
        ({"provider": "nobody", "name": "x", "key": a_key()}, 400, "provider"),
        ({"provider": "openai", "name": "", "key": a_key()}, 400, "name"),
        ({"provider": "openai", "name": "x"}, 400, "key"),
        ({"provider": "openai", "name": "x", "key": a_key(), "extra": 1}, 400, "extra"),
        ({"provider": "openai", "name": "taken", "key": a_key()}, 409, "a provider key named 'taken' already exists"),
    ]
    for body, status, message in cases:
        response = acme.client.post("/provider-keys", json=body)
        assert response.status_code == status, (body, response.text)
        assert message in response.text, response.text
        if isinstance(body.get("key"), str):
            assert str(body["key"]) not in response.text
    assert acme.client.post("/provider-keys/0/rotate", json={"key": a_key()}).status_code == 400
    assert acme.client.post("/provider-keys/999999/rotate", json={"key": a_key()}).status_code == 404
    assert [k["name"] for k in acme.client.get("/provider-keys").json()] == ["taken"]


def test_key_rotation_rewrap_and_retirement_through_the_api(secret_app: Litestar) -> None:
    acme = owner(secret_app)
    key = a_key()
    created = create(acme, key, name="deepgram", provider="deepgram")
    rotated = acme.client.post("/secrets/keys/rotate")
    assert rotated.status_code == 201 and rotated.json()["current_version"] == 2
    status = acme.client.get("/secrets/keys").json()
    assert status["current_version"] == 2 and status["versions"] == [1, 2]
    assert reveal(secret_app, acme.organization_id, "deepgram") == key  # written under version 1, still read
    rewrapped = acme.client.post("/secrets/keys/rewrap").json()
    assert rewrapped["current_version"] == 2
    if app_state(secret_app.state).secrets.backend == "local":
        assert rewrapped["moved"] == 1 and acme.client.get("/secrets/keys").json()["secrets_by_version"] == {"2": 1}
    refused = acme.client.delete("/secrets/keys/2")
    assert refused.status_code == 409 and "current" in refused.json()["detail"]
    retired = acme.client.delete("/secrets/keys/1")
    assert retired.status_code == 200 and retired.json()["versions"] == [2]
    assert reveal(secret_app, acme.organization_id, "deepgram") == key
    assert created["version"] == 1
    actions = [e["action"] for e in acme.client.get("/audit", params={"resource_type": "secret_key"}).json()]
    assert actions == ["secrets.retire", "secrets.rewrap", "secrets.rotate"]
    assert member(secret_app, acme, "member").client.post("/secrets/keys/rotate").status_code == 403


def test_readiness_reports_the_secret_store(secret_app: Litestar) -> None:
    ready = TestClient(secret_app).get("/health/ready")
    assert ready.status_code == 200, ready.text
    check = ready.json()["checks"]["secret_store"]
    assert check["status"] == "ok" and check["latency_ms"] >= 0
    assert ("Vault at" in check["detail"]) or ("local keystore" in check["detail"])


def test_a_sealed_vault_mid_run_is_a_503_with_retry_advice_and_nothing_changes(
    vault_app: Litestar, vault: VaultApiServer, backend: Backend
) -> None:
    acme = owner(vault_app)
    created = create(acme, a_key(), name="before")
    vault.seal()
    attempted = a_key()
    for response in (
        acme.client.post("/provider-keys", json={"provider": "azure", "name": "during", "key": attempted}),
        acme.client.post(f"/provider-keys/{created['id']}/rotate", json={"key": attempted}),
        acme.client.delete(f"/provider-keys/{created['id']}"),
        acme.client.post("/secrets/keys/rotate"),
    ):
        assert response.status_code == 503, response.text
        assert int(response.headers["retry-after"]) > 0
        assert "Vault at http://127.0.0.1:" in response.json()["detail"] and "sealed" in response.json()["detail"]
        assert "try again" in response.json()["detail"]
    ready = TestClient(vault_app).get("/health/ready")
    assert ready.status_code == 503 and "sealed" in ready.json()["checks"]["secret_store"]["detail"]
    listed = acme.client.get("/provider-keys").json()  # metadata needs no Vault
    assert [(k["name"], k["version"], k["revoked_at"]) for k in listed] == [("before", 1, None)]
    assert places_holding(app_state(vault_app.state).engine, attempted, backend.data_dir) == []
    vault.unseal()
    assert TestClient(vault_app).get("/health/ready").status_code == 200
    assert reveal(vault_app, acme.organization_id, "before").startswith("sk-proj-")


def test_an_unreachable_vault_mid_run_is_a_503_and_readiness_fails(settings: Settings) -> None:
    server = VaultApiServer(str(uuid.uuid4())).start()
    app = create_app(vault_settings(settings, server.url, token=server.data.token), migrate=False)
    acme = owner(app)
    create(acme, a_key(), name="before")
    server.stop()
    response = acme.client.post("/provider-keys", json={"provider": "openai", "name": "after", "key": a_key()})
    assert response.status_code == 503 and "unreachable" in response.json()["detail"]
    assert response.headers["retry-after"]
    ready = TestClient(app).get("/health/ready")
    assert ready.status_code == 503 and "unreachable" in ready.json()["checks"]["secret_store"]["detail"]
    nowhere = create_app(vault_settings(settings, unused_port_url()), migrate=False)
    assert TestClient(nowhere).get("/health/ready").status_code == 503


def test_a_wrong_master_key_fails_readiness_and_requests_with_a_clear_message(settings: Settings) -> None:
    right = create_app(settings, migrate=False)
    LocalKeystore(settings, app_state(right.state).engine).check()  # the keystore exists under the right key
    wrong_key = SecretStr(base64.b64encode(os.urandom(32)).decode())
    app = create_app(settings.model_copy(update={"secret_master_key": wrong_key}), migrate=False)
    ready = TestClient(app).get("/health/ready")
    detail = ready.json()["checks"]["secret_store"]["detail"]
    assert ready.status_code == 503 and "AURALINK_SECRET_MASTER_KEY does not open this keystore" in detail
    acme = owner(app)
    response = acme.client.post("/provider-keys", json={"provider": "openai", "name": "k", "key": a_key()})
    assert response.status_code == 503 and "does not open this keystore" in response.json()["detail"]


@pytest.fixture
def captured_logs(caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[], str]]:
    """Every log line written so far in the test, through structlog or the standard library, as text."""
    caplog.set_level(logging.DEBUG)
    with structlog.testing.capture_logs() as events:

        def text() -> str:
            records = [record.getMessage() + repr(record.__dict__) for record in caplog.records]
            return "\n".join([*map(repr, events), *records])

        yield text


def test_logs_and_audit_entries_hold_only_the_masked_form(
    vault_app: Litestar, vault: VaultApiServer, captured_logs: Callable[[], str], capfd: pytest.CaptureFixture[str]
) -> None:
    acme = owner(vault_app)
    first, second, during_seal = a_key(), a_key(), a_key()
    created = create(acme, first, name="logged")
    acme.client.post(f"/provider-keys/{created['id']}/rotate", json={"key": second})
    reveal(vault_app, acme.organization_id, "logged")
    acme.client.post("/provider-keys", json={"provider": "openai", "name": "bad", "key": second + " tail"})
    vault.seal()
    acme.client.post("/provider-keys", json={"provider": "openai", "name": "sealed", "key": during_seal})
    vault.unseal()
    audit = acme.client.get("/audit").text
    printed = capfd.readouterr()
    logged = captured_logs()
    everything = "\n".join([logged, audit, printed.out, printed.err])
    for secret in (first, second, during_seal):
        assert secret not in everything
    assert mask(second) in logged  # the capture saw the key's events: the masked form is there
    assert "secret store unavailable" in logged


def test_the_rewrap_job_moves_every_organisation_to_its_current_key(app: Litestar) -> None:
    acme, other = owner(app), owner(app, "Other")
    for account in (acme, other):
        create(account, a_key())
        assert account.client.post("/secrets/keys/rotate").status_code == 201
    state = app_state(app.state)
    assert rewrap_all(state) >= 2
    for account in (acme, other):
        status = account.client.get("/secrets/keys").json()
        assert set(status["secrets_by_version"]) == {str(status["current_version"])}
