"""Retention policies delete old rows and spare held ones; the GDPR report says what is held and how it is kept."""

from __future__ import annotations

import csv
import io

from litestar import Litestar
from sqlalchemy import func
from sqlmodel import col, select

from control_plane.state import app_state
from control_plane.telemetry.models import Call, CallEventRecord, QualitySampleRecord, UsageRecord
from telemetry.records import CallEvent, QualitySample, TelemetryRecord, UsageEvent
from tests.control_plane.compliance_helpers import NOW
from tests.control_plane.helpers import Account, feed, member, owner

DAY = 86400.0


def _call(room: str, start: float) -> list[TelemetryRecord]:
    return [
        CallEvent("room-opened", room, at=start),
        CallEvent("participant-joined", room, "ann", at=start + 1),
        QualitySample(room, "ann", "audio", 3.0, 0, 0.0, 40.0, 32.0, 4.3, at=start + 5),
        UsageEvent("call_seconds", 60.0, room=room, participant="ann", at=start + 60),
        CallEvent("room-closed", room, at=start + 60),
    ]


def _counts(app: Litestar, organization_id: int) -> dict[str, int]:
    with app_state(app.state).session() as db:
        return {
            model.__name__: db.exec(
                select(func.count()).select_from(model).where(col(model.organization_id) == organization_id)
            ).one()
            for model in (Call, CallEventRecord, QualitySampleRecord, UsageRecord)
        }


def _policy(account: Account, resource_type: str, days: int, **extra: object) -> int:
    created = account.client.post(
        "/compliance/retention-policies", json={"resource_type": resource_type, "retention_days": days, **extra}
    )
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def test_the_retention_job_deletes_old_rows_and_spares_held_ones(app: Litestar) -> None:
    acme = owner(app)
    feed(app, acme.organization_id, _call("old", NOW - 100 * DAY) + _call("new", NOW - DAY))
    assert _counts(app, acme.organization_id) == {
        "Call": 2,
        "CallEventRecord": 6,
        "QualitySampleRecord": 2,
        "UsageRecord": 2,
    }
    for resource_type in ("calls", "call_events", "quality_samples"):
        _policy(acme, resource_type, 30)
    _policy(acme, "usage_events", 30, legal_hold=True, hold_reason="billing dispute")
    ran = acme.client.post("/compliance/jobs/run")
    assert ran.status_code == 200 and ran.json()["retention_deleted"] >= 5
    assert _counts(app, acme.organization_id) == {
        "Call": 1,
        "CallEventRecord": 3,
        "QualitySampleRecord": 1,
        "UsageRecord": 2,
    }
    enforced = acme.client.get("/audit", params={"action": "compliance.retention.enforce"}).json()
    assert {e["after"]["resource_type"] for e in enforced} == {"calls", "call_events", "quality_samples"}


def test_a_whole_organisation_hold_stops_retention_and_policies_can_change(app: Litestar) -> None:
    acme = owner(app)
    feed(app, acme.organization_id, _call("old", NOW - 100 * DAY))
    policy = _policy(acme, "call_events", 30)
    hold = acme.client.post("/compliance/legal-holds", json={"reason": "investigation"}).json()
    acme.client.post("/compliance/jobs/run")
    assert _counts(app, acme.organization_id)["CallEventRecord"] == 3
    acme.client.post(f"/compliance/legal-holds/{hold['id']}/release")
    changed = acme.client.patch(f"/compliance/retention-policies/{policy}", json={"retention_days": 365})
    assert changed.status_code == 200 and changed.json()["retention_days"] == 365
    acme.client.post("/compliance/jobs/run")
    assert _counts(app, acme.organization_id)["CallEventRecord"] == 3  # 100 days < 365
    assert acme.client.patch(f"/compliance/retention-policies/{policy}", json={"retention_days": 10}).status_code == 200
    acme.client.post("/compliance/jobs/run")
    assert _counts(app, acme.organization_id)["CallEventRecord"] == 0
    assert [p["id"] for p in acme.client.get("/compliance/retention-policies").json()] == [policy]
    assert acme.client.delete(f"/compliance/retention-policies/{policy}").status_code == 204
    assert acme.client.get("/compliance/retention-policies").json() == []
    actions = {e["action"] for e in acme.client.get("/audit").json()}
    assert {"compliance.retention.create", "compliance.retention.update", "compliance.retention.delete"} <= actions
    assert {"compliance.hold.place", "compliance.hold.release"} <= actions


def test_the_gdpr_report_lists_data_policies_holds_requests_and_audit_coverage(app: Litestar) -> None:
    acme = owner(app)
    zelda = member(app, acme, "member")
    feed(app, acme.organization_id, _call("r", NOW - DAY))
    _policy(acme, "quality_samples", 90, legal_hold=True, hold_reason="regulator")
    acme.client.post("/compliance/exports", json={})
    acme.client.post("/compliance/legal-holds", json={"user_id": acme.user_id, "reason": "board member"})
    acme.client.post("/compliance/erasures", json={"user_id": zelda.user_id})  # refused: a hold is in force
    report = acme.client.get("/compliance/reports/gdpr")
    assert report.status_code == 200
    body = report.json()
    categories = {c["table"]: c for c in body["data_categories"]}
    assert categories["call_participant"]["rows"] == 1
    assert categories["call_participant"]["personal_columns"] == {"identity": "pseudonymise"}
    assert categories["user_session"]["on_erasure"] == "delete_row"
    assert [(p["resource_type"], p["legal_hold"]) for p in body["retention_policies"]] == [("quality_samples", True)]
    assert [h["reason"] for h in body["legal_holds"]] == ["board member"]
    exports = body["requests"]["export"]
    assert exports["total"] == 1 and exports["completed_within_deadline"] == 1 and exports["open_past_deadline"] == []
    assert body["requests"]["erasure"]["total"] == 0
    assert body["audit"]["entries"] >= 5 and body["audit"]["compliance_entries"] >= 3
    as_csv = acme.client.get("/compliance/reports/gdpr", params={"format": "csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert {"section": "retention_policy", "key": "quality_samples", "value": "90 days (legal hold)"} in rows
