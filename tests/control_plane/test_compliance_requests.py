"""Requests as jobs (states, cancel, failures, the scheduled job), who may do what, and bad input."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import update
from sqlmodel import col

from control_plane.app import create_app
from control_plane.compliance.jobs import compliance_job, run_request
from control_plane.compliance.models import ComplianceRequest
from control_plane.state import app_state
from settings import Settings
from tests.control_plane.compliance_helpers import without_background_runs
from tests.control_plane.helpers import bearer, member, owner


def test_a_pending_request_can_be_cancelled_once_and_a_finished_one_is_never_run_again(settings: Settings) -> None:
    app = without_background_runs(settings)
    acme = owner(app)
    first = acme.client.post("/compliance/exports", json={}).json()
    assert first["status"] == "pending" and first["download_url"] is None
    cancelled = acme.client.post(f"/compliance/requests/{first['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = acme.client.post(f"/compliance/requests/{first['id']}/cancel")
    assert again.status_code == 409 and "only a pending request" in again.json()["detail"]
    second = acme.client.post("/compliance/exports", json={"format": "csv"}).json()
    assert compliance_job(app_state(app.state))["requests"] >= 1
    done = acme.client.get(f"/compliance/requests/{second['id']}").json()
    assert done["status"] == "completed" and done["started_at"] and done["finished_at"]
    assert acme.client.get(f"/compliance/requests/{first['id']}").json()["status"] == "cancelled"
    assert run_request(app_state(app.state), second["id"]) == "completed"
    assert acme.client.get(f"/compliance/requests/{second['id']}").json() == done
    late = acme.client.post(f"/compliance/requests/{second['id']}/cancel")
    assert late.status_code == 409 and "completed" in late.json()["detail"]
    listed = acme.client.get("/compliance/requests", params={"status": "cancelled"}).json()
    assert [r["id"] for r in listed] == [first["id"]]
    actions = [e["action"] for e in acme.client.get("/audit").json()]
    assert {"compliance.export.request", "compliance.export.cancel", "compliance.export.complete"} <= set(actions)


def test_a_request_that_cannot_run_fails_and_keeps_the_reason(settings: Settings) -> None:
    app = without_background_runs(settings)
    acme = owner(app)
    zelda = member(app, acme, "member")
    pending = acme.client.post("/compliance/erasures", json={"user_id": zelda.user_id}).json()
    acme.client.post("/compliance/legal-holds", json={"reason": "subpoena 42"})
    assert run_request(app_state(app.state), pending["id"]) == "failed"
    failed = acme.client.get(f"/compliance/requests/{pending['id']}").json()
    assert failed["status"] == "failed" and "subpoena 42" in failed["error"]
    assert zelda.client.get("/users/me").status_code == 200  # nothing was erased
    assert "compliance.erasure.fail" in [e["action"] for e in acme.client.get("/audit").json()]


def test_the_scheduled_job_runs_requests_by_itself(settings: Settings) -> None:
    app = create_app_with(settings, compliance_run_on_request=False, compliance_interval_s=0.2)
    with TestClient(app):
        acme = owner(app)
        created = acme.client.post("/compliance/exports", json={}).json()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if acme.client.get(f"/compliance/requests/{created['id']}").json()["status"] == "completed":
                break
            time.sleep(0.1)
        assert acme.client.get(f"/compliance/requests/{created['id']}").json()["status"] == "completed"


def create_app_with(settings: Settings, **changes: Any) -> Litestar:
    return create_app(settings.model_copy(update=changes), migrate=False)


@pytest.mark.parametrize("role", ["member", "viewer", "billing_manager"])
def test_only_owners_and_admins_manage_compliance(app: Litestar, role: str) -> None:
    acme = owner(app)
    someone = member(app, acme, role)
    for method, path, body in [
        ("post", "/compliance/exports", {}),
        ("post", "/compliance/erasures", {"user_id": acme.user_id}),
        ("get", "/compliance/requests", None),
        ("post", "/compliance/retention-policies", {"resource_type": "calls", "retention_days": 30}),
        ("get", "/compliance/legal-holds", None),
        ("get", "/compliance/reports/gdpr", None),
    ]:
        response = getattr(someone.client, method)(path, **({"json": body} if body is not None else {}))
        assert response.status_code == 403, (role, path, response.text)
        assert "manage_compliance" in response.json()["detail"]
    admin = member(app, acme, "admin")
    assert admin.client.post("/compliance/exports", json={}).status_code == 201
    refused = admin.client.post("/compliance/erasures", json={"user_id": acme.user_id})
    assert refused.status_code == 403 and "cannot erase a owner" in refused.json()["detail"]
    assert someone.client.post("/compliance/me/exports", json={}).status_code == 201  # one's own data: anyone


def test_another_organisations_requests_policies_and_holds_are_not_found(app: Litestar) -> None:
    acme, beta = owner(app), owner(app, "Beta")
    request = acme.client.post("/compliance/exports", json={}).json()
    policy = acme.client.post(
        "/compliance/retention-policies", json={"resource_type": "calls", "retention_days": 9}
    ).json()
    hold = acme.client.post("/compliance/legal-holds", json={"reason": "r"}).json()
    assert beta.client.get(f"/compliance/requests/{request['id']}").status_code == 404
    assert beta.client.get(f"/compliance/requests/{request['id']}/download").status_code == 404
    assert beta.client.post(f"/compliance/requests/{request['id']}/cancel").status_code == 404
    assert (
        beta.client.patch(f"/compliance/retention-policies/{policy['id']}", json={"retention_days": 1}).status_code
        == 404
    )
    assert beta.client.delete(f"/compliance/retention-policies/{policy['id']}").status_code == 404
    assert beta.client.post(f"/compliance/legal-holds/{hold['id']}/release").status_code == 404
    stranger = member(app, beta, "member")
    assert acme.client.post("/compliance/erasures", json={"user_id": stranger.user_id}).status_code == 404
    assert (
        acme.client.post("/compliance/exports", json={"scope": "user", "user_id": stranger.user_id}).status_code == 404
    )
    assert (
        acme.client.post("/compliance/legal-holds", json={"user_id": stranger.user_id, "reason": "x"}).status_code
        == 404
    )
    assert [r["id"] for r in beta.client.get("/compliance/requests").json()] == []


def test_own_routes_are_for_people_not_keys(app: Litestar) -> None:
    acme = owner(app)
    key = bearer(acme.key("admin"))
    with TestClient(app) as anonymous:
        assert anonymous.post("/compliance/me/exports", json={}, headers=key).status_code == 403
        assert anonymous.post("/compliance/exports", json={}, headers=key).status_code == 201  # an admin key may
        assert anonymous.post("/compliance/me/exports", json={}).status_code == 401


@pytest.mark.parametrize(
    ("path", "body", "says"),
    [
        ("/compliance/exports", {"scope": "user"}, "needs user_id"),
        ("/compliance/exports", {"user_id": 1}, "belong to a user export"),
        ("/compliance/exports", {"format": "xml"}, "format"),
        ("/compliance/exports", {"surprise": 1}, "surprise"),
        ("/compliance/erasures", {}, "name the person"),
        ("/compliance/erasures", {"email": "not-an-address"}, "email"),
        ("/compliance/erasures", {"participant_identities": [""]}, "participant_identities"),
        ("/compliance/retention-policies", {"resource_type": "cats", "retention_days": 3}, "unknown resource type"),
        ("/compliance/retention-policies", {"resource_type": "audit_entries", "retention_days": 3}, "append-only"),
        ("/compliance/retention-policies", {"resource_type": "calls", "retention_days": -1}, "retention_days"),
        ("/compliance/retention-policies", {"resource_type": "calls", "retention_days": 0}, "retention_days"),
        ("/compliance/legal-holds", {"reason": ""}, "reason"),
        ("/compliance/me/erasure", {}, "password"),
    ],
)
def test_bad_input_is_a_clear_400(app: Litestar, path: str, body: dict[str, Any], says: str) -> None:
    acme = owner(app)
    response = acme.client.post(path, json=body)
    assert response.status_code == 400, response.text
    assert says in response.text


def test_wrong_states_and_unknown_things_are_clear_4xx(settings: Settings) -> None:
    app = without_background_runs(settings)
    acme = owner(app)
    pending = acme.client.post("/compliance/exports", json={}).json()
    early = acme.client.get(f"/compliance/requests/{pending['id']}/download")
    assert early.status_code == 409 and "once completed" in early.json()["detail"]
    zelda = member(app, acme, "member")
    erasure = acme.client.post("/compliance/erasures", json={"user_id": zelda.user_id}).json()
    assert acme.client.get(f"/compliance/requests/{erasure['id']}/download").status_code == 404
    assert acme.client.get("/compliance/requests/999999").status_code == 404
    assert acme.client.get("/compliance/reports/hipaa").status_code == 404
    policy = {"resource_type": "calls", "retention_days": 30}
    assert acme.client.post("/compliance/retention-policies", json=policy).status_code == 201
    duplicate = acme.client.post("/compliance/retention-policies", json=policy)
    assert duplicate.status_code == 409 and "already has retention policy" in duplicate.json()["detail"]
    mismatch = acme.client.post("/compliance/erasures", json={"user_id": zelda.user_id, "email": "x@example.com"})
    assert mismatch.status_code == 400


def test_a_request_interrupted_by_a_crash_runs_again(settings: Settings) -> None:
    app = without_background_runs(settings)
    acme = owner(app)
    created = acme.client.post("/compliance/exports", json={}).json()
    with app_state(app.state).session() as db:
        two_hours_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
        statement = update(ComplianceRequest).where(col(ComplianceRequest.id) == created["id"])
        db.execute(statement.values(status="processing", started_at=two_hours_ago))
        db.commit()
    acme.client.post("/compliance/jobs/run")
    assert acme.client.get(f"/compliance/requests/{created['id']}").json()["status"] == "completed"
