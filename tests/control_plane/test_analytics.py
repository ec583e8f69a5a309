"""Analytics beyond the telemetry path: timelines, custom reports, insights, validation of periods."""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from control_plane.app import create_app
from settings import Settings
from telemetry.records import CallEvent, QualitySample, TelemetryRecord, UsageEvent
from tests.control_plane.helpers import Account, feed, member, owner

DAY = 86400.0
NOW = dt.datetime.now(dt.UTC).timestamp()


def usage_over_days(room: str = "r") -> list[TelemetryRecord]:
    start = NOW - 3 * DAY
    return [
        CallEvent("room-opened", room, at=start),
        *(
            UsageEvent("stt_audio_seconds", 600.0, room, "alice", "stt", "whisper-tiny.en", at=start + day * DAY + 10)
            for day in range(3)
        ),
        UsageEvent("translation_characters", 1_000_000, room, "bob", "translate", "nllb", at=start + 20),
        CallEvent("room-closed", room, at=start + 3600),
    ]


def high_bandwidth_call(room: str, start: float) -> list[TelemetryRecord]:
    return [
        CallEvent("room-opened", room, at=start),
        *(
            QualitySample(room, "cam", "video", 5.0, 0, 0.0, 30.0, 2500.0, 2.9, connection_type="wired", at=start + i)
            for i in range(0, 600, 60)
        ),
        CallEvent("room-closed", room, at=start + 600),
    ]


def test_the_usage_timeline_groups_by_day_week_and_month(app: Litestar) -> None:
    acme = owner(app)
    feed(app, acme.organization_id, usage_over_days())
    daily = acme.client.get("/analytics/usage/timeline", params={"granularity": "day"}).json()
    stt_days = [p for p in daily["points"] if p["metric"] == "stt_audio_seconds"]
    assert [p["quantity"] for p in stt_days] == [600.0, 600.0, 600.0]
    assert all(p["start"].endswith("T00:00:00Z") for p in stt_days)
    monthly = acme.client.get("/analytics/usage/timeline", params={"granularity": "month"}).json()
    assert sum(p["quantity"] for p in monthly["points"] if p["metric"] == "stt_audio_seconds") == 1800.0
    assert all(p["start"][8:10] == "01" for p in monthly["points"])
    weekly = acme.client.get("/analytics/usage/timeline", params={"granularity": "week"}).json()
    for point in weekly["points"]:
        assert dt.datetime.fromisoformat(point["start"]).weekday() == 0
    assert acme.client.get("/analytics/usage/timeline", params={"granularity": "year"}).status_code == 400


def test_periods_are_validated(app: Litestar) -> None:
    acme = owner(app)
    backwards = acme.client.get(
        "/analytics/overview", params={"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}
    )
    assert backwards.status_code == 400 and "since must be before until" in backwards.json()["detail"]
    assert acme.client.get("/analytics/overview", params={"since": "last tuesday"}).status_code == 400
    empty = acme.client.get("/analytics/overview").json()
    assert (empty["calls"], empty["minutes"], empty["quality"]["samples"], empty["members"]) == (0, 0, 0, 1)


def test_custom_reports_run_validated_definitions_as_json_and_csv(app: Litestar) -> None:
    acme = owner(app)
    feed(app, acme.organization_id, usage_over_days())
    definition = {"dataset": "usage", "measures": ["events", "cost_usd"], "dimensions": ["provider"], "last_days": 7}
    created = acme.client.post("/reports", json={"name": "spend by provider", "definition": definition})
    assert created.status_code == 201, created.text
    report_id = created.json()["id"]
    rows = acme.client.get(f"/reports/{report_id}/run").json()["rows"]
    assert rows == [
        {"provider": "nllb", "events": 1, "cost_usd": 20.0},
        {"provider": "whisper-tiny.en", "events": 3, "cost_usd": 0.18},
    ]
    exported = acme.client.get(f"/reports/{report_id}/run", params={"format": "csv"})
    assert next(csv.reader(io.StringIO(exported.text))) == ["provider", "events", "cost_usd"]
    assert [r["name"] for r in acme.client.get("/reports").json()] == ["spend by provider"]
    assert acme.client.delete(f"/reports/{report_id}").status_code == 204
    assert acme.client.get(f"/reports/{report_id}").status_code == 404


def test_report_definitions_only_name_known_things(app: Litestar) -> None:
    acme = owner(app)
    for definition, expected in (
        ({"dataset": "usage", "measures": ["sum(password_hash)"]}, "unknown measure"),
        ({"dataset": "quality", "measures": ["samples"], "dimensions": ["1; DROP TABLE user"]}, "unknown dimension"),
        ({"dataset": "calls", "measures": ["calls"], "filters": {"password": "x"}}, "unknown filter"),
        ({"dataset": "users", "measures": ["calls"]}, "dataset"),
    ):
        response = acme.client.post("/reports", json={"name": "bad", "definition": definition})
        assert response.status_code == 400 and expected in response.text, response.text


def test_a_timeline_report_with_filters(app: Litestar) -> None:
    acme = owner(app)
    feed(app, acme.organization_id, high_bandwidth_call("video-1", NOW - DAY))
    definition = {
        "dataset": "quality",
        "measures": ["samples", "avg_bitrate_kbps"],
        "dimensions": ["media"],
        "granularity": "day",
        "filters": {"connection_type": "wired"},
    }
    report = acme.client.post("/reports", json={"name": "video", "definition": definition}).json()
    rows = acme.client.get(f"/reports/{report['id']}/run").json()["rows"]
    assert len(rows) in {1, 2}  # the call may straddle midnight
    assert sum(r["samples"] for r in rows) == 10 and rows[0]["avg_bitrate_kbps"] == 2500.0 and rows[0]["period"]


def _insights(account: Account) -> dict[str, dict[str, Any]]:
    return {i["kind"]: i for i in account.client.get("/analytics/insights").json()}


def test_the_insights_job_finds_savings_once_and_they_can_be_acknowledged_or_dismissed(app: Litestar) -> None:
    acme = owner(app)
    acme.client.put(f"/organizations/{acme.organization_id}/limits", json={"monthly_spend_alert": 5})
    feed(app, acme.organization_id, usage_over_days() + high_bandwidth_call("video-1", NOW - DAY))
    assert acme.client.post("/analytics/insights/refresh").json() == {"new": 3}
    assert acme.client.post("/analytics/insights/refresh").json() == {"new": 0}
    found = _insights(acme)
    assert set(found) == {"spend_over_threshold", "aic_off_high_bandwidth", "poor_quality"}
    assert found["aic_off_high_bandwidth"]["estimated_monthly_savings"] >= 0
    spend_id, aic_id = found["spend_over_threshold"]["id"], found["aic_off_high_bandwidth"]["id"]
    assert acme.client.post(f"/analytics/insights/{spend_id}/acknowledge").json()["status"] == "acknowledged"
    assert acme.client.post(f"/analytics/insights/{aic_id}/dismiss").json()["status"] == "dismissed"
    assert [i["kind"] for i in acme.client.get("/analytics/insights", params={"status": "open"}).json()] == [
        "poor_quality"
    ]
    audited = {e["action"] for e in acme.client.get("/audit", params={"resource_type": "insight"}).json()}
    assert audited == {"insight.acknowledged", "insight.dismissed"}
    viewer = member(app, acme, "viewer")
    assert viewer.client.post(f"/analytics/insights/{spend_id}/dismiss").status_code == 403
    assert len(viewer.client.get("/analytics/insights").json()) == 3


def test_the_scheduled_job_raises_insights_by_itself(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"insights_interval_s": 0.2}), migrate=False)
    with TestClient(app):
        acme = owner(app)
        acme.client.put(f"/organizations/{acme.organization_id}/limits", json={"monthly_spend_alert": 1})
        feed(app, acme.organization_id, usage_over_days())
        deadline = time.monotonic() + 20
        while not acme.client.get("/analytics/insights").json() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [i["kind"] for i in acme.client.get("/analytics/insights").json()] == ["spend_over_threshold"]


def test_csv_cells_that_look_like_formulas_are_defused(app: Litestar) -> None:
    acme = owner(app)
    feed(
        app,
        acme.organization_id,
        [UsageEvent("stt_audio_seconds", 1.0, feature="stt", provider="=HYPERLINK(1)", at=NOW)],
    )
    definition = {"dataset": "usage", "measures": ["events"], "dimensions": ["provider"]}
    report = acme.client.post("/reports", json={"name": "providers", "definition": definition}).json()
    exported = acme.client.get(f"/reports/{report['id']}/run", params={"format": "csv"}).text
    assert list(csv.reader(io.StringIO(exported)))[1] == ["'=HYPERLINK(1)", "1"]
