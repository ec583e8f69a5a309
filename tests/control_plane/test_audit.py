"""The audit log: who, what, before and after, from where; filtered, exported, never altered."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from control_plane.organizations import service as organizations
from tests.control_plane.helpers import member, owner


def test_a_change_is_recorded_with_actor_request_and_before_and_after(app: Litestar) -> None:
    acme = owner(app, "Acme")
    headers = {"X-Request-ID": "req-123", "User-Agent": "audit-test/1.0"}
    acme.client.patch(f"/organizations/{acme.organization_id}", json={"name": "Acme Ltd"}, headers=headers)
    entries = acme.client.get("/audit", params={"action": "organization.update"}).json()
    assert len(entries) == 1
    entry = entries[0]
    assert entry["actor_user_id"] == acme.user_id and entry["organization_id"] == acme.organization_id
    assert entry["before"]["name"] == "Acme" and entry["after"]["name"] == "Acme Ltd"
    assert (entry["request_id"], entry["user_agent"]) == ("req-123", "audit-test/1.0")
    assert entry["ip"] and entry["resource_type"] == "organization"
    actions = {e["action"] for e in acme.client.get("/audit").json()}
    assert {"organization.create", "organization.update"} <= actions


def test_the_response_carries_the_request_id_that_was_recorded(app: Litestar) -> None:
    acme = owner(app)
    response = acme.client.post("/api-keys", json={"name": "k", "scopes": ["read"]})
    request_id = response.headers["x-request-id"]
    entry = acme.client.get("/audit", params={"action": "api_key.create"}).json()[0]
    assert entry["request_id"] == request_id
    assert "key_hash" not in entry["after"] and response.json()["key"] not in str(entry)


def test_filters_and_csv_export(app: Litestar) -> None:
    acme = owner(app)
    member(app, acme, "member")
    invitations = acme.client.get("/audit", params={"resource_type": "invitation"}).json()
    assert [e["action"] for e in invitations] == ["invitation.create"]
    exported = acme.client.get("/audit/export.csv")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert {"organization.create", "invitation.create", "invitation.accept"} <= {r["action"] for r in rows}
    assert acme.client.get("/audit", params={"limit": 0}).status_code == 400
    assert acme.client.get("/audit", params={"since": "yesterday"}).status_code == 400


def test_only_admins_read_it_and_nobody_can_change_it(app: Litestar) -> None:
    acme = owner(app)
    viewer = member(app, acme, "viewer")
    assert viewer.client.get("/audit").status_code == 403
    entry_id = acme.client.get("/audit").json()[0]["id"]
    for method in ("put", "patch", "delete"):
        response = getattr(acme.client, method)(f"/audit/{entry_id}")
        assert response.status_code in {404, 405}


def test_a_change_whose_audit_entry_fails_is_not_stored(app: Litestar, monkeypatch: pytest.MonkeyPatch) -> None:
    acme = owner(app, "Before")

    def broken_record(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("audit store down")

    monkeypatch.setattr(organizations, "record", broken_record)
    client = TestClient(app, raise_server_exceptions=False, cookies=acme.client.cookies)
    assert client.patch(f"/organizations/{acme.organization_id}", json={"name": "After"}).status_code == 500
    monkeypatch.undo()
    assert acme.client.get(f"/organizations/{acme.organization_id}").json()["name"] == "Before"
