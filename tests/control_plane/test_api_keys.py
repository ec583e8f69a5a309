"""API keys: shown once, hashed, scoped, expiring, revocable, rate-limited, with last use."""

from __future__ import annotations

import datetime as dt
import time

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import text

from control_plane.state import app_state
from tests.control_plane.helpers import bearer, member, owner


def test_a_key_is_shown_once_and_listed_by_prefix(app: Litestar) -> None:
    acme = owner(app)
    created = acme.client.post("/api-keys", json={"name": "ci", "scopes": ["read"]})
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith(created.json()["prefix"] + "_")
    listed = acme.client.get("/api-keys").json()
    assert listed[0]["prefix"] == created.json()["prefix"] and "key" not in listed[0]
    assert key not in acme.client.get("/api-keys").text
    anonymous = TestClient(app)
    assert anonymous.get(f"/organizations/{acme.organization_id}", headers=bearer(key)).status_code == 200
    used = acme.client.get("/api-keys").json()[0]
    assert used["last_used_at"] is not None


def test_scopes_bound_what_a_key_may_do(app: Litestar) -> None:
    acme = owner(app)
    read_key = acme.key("read")
    client = TestClient(app)
    assert client.get("/api-keys", headers=bearer(read_key)).status_code == 403
    assert (
        client.patch(f"/organizations/{acme.organization_id}", json={"name": "x"}, headers=bearer(read_key)).status_code
        == 403
    )
    admin_key = acme.key("admin")
    assert client.get("/api-keys", headers=bearer(admin_key)).status_code == 200


def test_a_member_cannot_mint_keys_above_their_role(app: Litestar) -> None:
    acme = owner(app)
    admin = member(app, acme, "admin")
    assert admin.client.post("/api-keys", json={"name": "k", "scopes": ["admin"]}).status_code == 201
    viewer = member(app, acme, "viewer")
    assert viewer.client.post("/api-keys", json={"name": "k", "scopes": ["read"]}).status_code == 403


def test_revoked_and_expired_keys_stop_working(app: Litestar) -> None:
    acme = owner(app)
    key = acme.key("read")
    key_id = acme.client.get("/api-keys").json()[0]["id"]
    client = TestClient(app)
    assert client.get("/organizations", headers=bearer(key)).status_code == 200
    assert acme.client.delete(f"/api-keys/{key_id}").status_code == 204
    assert client.get("/organizations", headers=bearer(key)).status_code == 401
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).isoformat()
    assert (
        acme.client.post("/api-keys", json={"name": "old", "scopes": ["read"], "expires_at": past}).status_code == 400
    )
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)).isoformat()
    short_lived = acme.key("read", expires_at=soon)
    assert client.get("/organizations", headers=bearer(short_lived)).status_code == 200
    time.sleep(1.1)
    assert client.get("/organizations", headers=bearer(short_lived)).status_code == 401


def test_each_key_has_its_own_rate_limit(app: Litestar) -> None:
    acme = owner(app)
    limited = acme.key("read", requests_per_minute=3)
    other = acme.key("read")
    client = TestClient(app)
    statuses = [client.get("/organizations", headers=bearer(limited)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = client.get("/organizations", headers=bearer(limited))
    assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json() == {"status_code": 429, "detail": refused.json()["detail"]}
    assert "3 requests a minute" in refused.json()["detail"]
    assert client.get("/organizations", headers=bearer(other)).status_code == 200


def test_a_role_change_of_the_key_s_creator_applies_to_the_key_s_next_request(app: Litestar) -> None:
    acme = owner(app)
    admin = member(app, acme, "admin")
    key = admin.key("admin")
    client = TestClient(app)
    assert client.get("/api-keys", headers=bearer(key)).status_code == 200  # remembered from here on
    members = f"/organizations/{acme.organization_id}/members"
    assert acme.client.patch(f"{members}/{admin.user_id}", json={"role": "viewer"}).status_code == 200
    assert client.get("/api-keys", headers=bearer(key)).status_code == 403
    assert acme.client.delete(f"{members}/{admin.user_id}").status_code == 204
    assert client.get(f"/organizations/{acme.organization_id}", headers=bearer(key)).status_code == 403


def test_a_revocation_written_by_another_process_applies_within_the_key_cache_s_lifetime(app: Litestar) -> None:
    state = app_state(app.state)
    state.keys.ttl_s = 0.3
    acme = owner(app)
    key = acme.key("read")
    client = TestClient(app)
    assert client.get("/organizations", headers=bearer(key)).status_code == 200
    with state.engine.begin() as other_process:  # a plain connection: this process's sessions never see it
        other_process.execute(text("UPDATE api_key SET revoked_at = CURRENT_TIMESTAMP"))
    time.sleep(0.35)
    assert client.get("/organizations", headers=bearer(key)).status_code == 401
