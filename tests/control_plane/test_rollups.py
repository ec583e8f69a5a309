"""The hourly rollups against the raw rows, on SQLite and PostgreSQL.

Random calls, samples and usage events are ingested in shuffled batches (late arrivals),
some records twice and some batches again (duplicates); then every analytics endpoint answers
random periods from the rollups and from raw rows alone, and the two must agree. Erasure and
retention keep them consistent.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import asdict
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from sqlalchemy import select

from control_plane.analytics import charts, service
from control_plane.analytics.reports import ReportDefinition, run_report
from control_plane.analytics.schemas import Period
from control_plane.compliance.models import RetentionPolicy
from control_plane.compliance.retention import enforce_all
from control_plane.organizations.models import Organization
from control_plane.state import app_state
from control_plane.telemetry.rollups import HOUR_S, SPECS, raw_source, rebuild
from control_plane.telemetry.service import ingest
from telemetry.records import CallEvent, QualitySample, TelemetryRecord, UsageEvent
from tests.control_plane.compliance_helpers import person_with_a_footprint
from tests.control_plane.helpers import feed, owner

BASE = 1_780_000_000 - 1_780_000_000 % 86400  # midnight UTC, long enough ago to be history
SPAN_S = 16 * 86400  # long enough for whole 7-day blocks (the per-person week rollups)
ROOMS = ("r0", "r1", "r2")
PEOPLE = ("ann", "bob", "cy", "dee")
CONNECTIONS = ("wifi", "wired", "cellular")

moments = st.integers(0, SPAN_S - 1).map(lambda s: float(BASE + s))
figures = st.integers(0, 20_000).map(lambda n: n / 100)
events = st.builds(
    CallEvent,
    st.sampled_from(["room-opened", "participant-joined", "participant-left", "room-closed"]),
    st.sampled_from(ROOMS),
    st.sampled_from(PEOPLE),
    moments,
    st.sampled_from([{}, {"call_type": "video"}, {"call_type": "agent"}]),
)
samples = st.builds(
    QualitySample,
    st.sampled_from(ROOMS),
    st.sampled_from(PEOPLE),
    st.sampled_from(["audio", "video"]),
    figures,
    st.integers(0, 100),
    st.integers(0, 100).map(lambda n: n / 100),
    st.none() | figures,
    figures,
    st.integers(100, 450).map(lambda n: n / 100),
    st.sampled_from(["inbound", "outbound"]),
    st.sampled_from(CONNECTIONS),
    moments,
)
usage = st.builds(
    UsageEvent,
    st.sampled_from(["call_seconds", "stt_audio_seconds", "translation_characters", "aic_bytes_saved"]),
    st.integers(0, 10_000).map(float),
    st.sampled_from(ROOMS),
    st.sampled_from(PEOPLE),
    st.sampled_from(["stt", "translate", ""]),
    st.sampled_from(["whisper", "nllb", ""]),
    moments,
)


@st.composite
def call_scripts(draw: st.DrawFn) -> list[TelemetryRecord]:
    """A call from open to close, with people joining, leaving and rejoining (some as reconnects) in between."""
    room = draw(st.sampled_from(ROOMS))
    start = draw(moments)
    end = start + draw(st.integers(60, 3 * HOUR_S))
    script: list[TelemetryRecord] = [
        CallEvent("room-opened", room, at=start, attributes=draw(st.sampled_from([{}, {"call_type": "video"}])))
    ]
    for who in draw(st.lists(st.sampled_from(PEOPLE), max_size=5)):
        joined = draw(st.floats(start, end).map(round))
        script.append(CallEvent("participant-joined", room, who, at=joined))
        left = draw(st.floats(joined, end).map(round))
        script.append(CallEvent("participant-left", room, who, at=left))
        if draw(st.booleans()):  # back after its engine died: the same attendance goes on
            back = draw(st.floats(left, end).map(round))
            script.append(CallEvent("participant-joined", room, who, at=back, attributes={"reconnect": True}))
            script.append(CallEvent("participant-left", room, who, at=draw(st.floats(back, end).map(round))))
    return [*script, CallEvent("room-closed", room, at=end)]


records = st.tuples(
    st.lists(call_scripts(), max_size=3), st.lists(st.one_of(events, samples, usage), min_size=1, max_size=50)
).map(lambda parts: [record for script in parts[0] for record in script] + parts[1])
offsets = st.one_of(st.integers(-1, SPAN_S // HOUR_S).map(lambda hours: hours * HOUR_S), st.integers(-HOUR_S, SPAN_S))
periods = st.lists(st.tuples(offsets, offsets.map(lambda s: abs(s) + 1)), min_size=1, max_size=3)
REPORTS: list[dict[str, Any]] = [
    {"dataset": "calls", "measures": ["calls", "minutes", "max_participants"], "dimensions": ["call_type"]},
    {"dataset": "quality", "measures": ["samples", "avg_mos", "min_mos", "max_latency_ms"], "granularity": "day"},
    {"dataset": "quality", "measures": ["avg_jitter_ms", "avg_loss"], "dimensions": ["media", "direction"]},
    {"dataset": "usage", "measures": ["events", "quantity", "cost_usd"], "dimensions": ["provider", "metric"]},
    {"dataset": "usage", "measures": ["events"], "filters": {"feature": "stt"}, "granularity": "week"},
]


def same(rolled: Any, raw: Any, where: str = "") -> None:
    """Equal, floats to the rounding the endpoints apply (sums added in another order may differ in the last bit)."""
    if isinstance(rolled, dict):
        assert rolled.keys() == raw.keys(), where
        for key in rolled:
            same(rolled[key], raw[key], f"{where}.{key}")
    elif isinstance(rolled, list):
        assert len(rolled) == len(raw), where
        for index, (a, b) in enumerate(zip(rolled, raw, strict=True)):
            same(a, b, f"{where}[{index}]")
    elif isinstance(rolled, float) and isinstance(raw, float | int):
        assert math.isclose(rolled, raw, rel_tol=1e-9, abs_tol=1.5e-4), f"{where}: {rolled} != {raw}"
    else:
        assert rolled == raw, where


def new_organization(app: Litestar) -> int:
    with app_state(app.state).session() as db:
        organization = Organization(name="Rollups")
        db.add(organization)
        db.commit()
        assert organization.id is not None
        return organization.id


def ingest_shuffled(app: Litestar, organization_id: int, batch: list[TelemetryRecord], rng: random.Random) -> None:
    """In random batches and order, with a few records repeated inside a batch and a few batches sent again."""
    cuts = sorted(rng.sample(range(1, len(batch)), min(len(batch) - 1, rng.randint(0, 8))))
    chunks = [batch[a:b] for a, b in zip([0, *cuts], [*cuts, len(batch)], strict=True)]
    rng.shuffle(chunks)
    chunks += [rng.choice(chunks) for _ in range(2)]
    for chunk in chunks:
        repeated = chunk + rng.sample(chunk, min(2, len(chunk)))
        with app_state(app.state).session() as db:
            ingest(db, organization_id, repeated)


def answers(app: Litestar, organization_id: int, since: float, until: float, *, use_rollups: bool) -> dict[str, Any]:
    period = Period(since=dt.datetime.fromtimestamp(since, dt.UTC), until=dt.datetime.fromtimestamp(until, dt.UTC))
    source = {"use_rollups": use_rollups}
    with app_state(app.state).session() as db:
        found = {
            "overview": service.overview(db, organization_id, period, **source),
            "quality": service.quality_report(db, organization_id, period, None, None, **source),
            "quality_of_bob": service.quality_report(db, organization_id, period, None, "bob", **source),
            "usage": service.usage_summary(db, organization_id, period, **source),
            **{
                f"timeline_{g}": service.usage_timeline(db, organization_id, period, g, **source)
                for g in ("day", "week", "month")
            },
        }
        dumped: dict[str, Any] = {name: answer.model_dump(mode="json") for name, answer in found.items()}
        dumped["calls_per_day"] = asdict(charts.calls_per_day(db, organization_id, period, **source))
        dumped["mos_distribution"] = charts.mos_distribution(db, organization_id, period, **source)
        for index, definition in enumerate(REPORTS):
            report = ReportDefinition.model_validate({**definition, "last_days": 1})
            run = run_report(db, organization_id, report, now=until, use_rollups=use_rollups)
            dumped[f"report_{index}"] = run.rows
        return dumped


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=records, windows=periods, seed=st.integers(0, 2**16))
def test_every_endpoint_answers_the_same_from_rollups_as_from_raw_rows(
    app: Litestar, batch: list[TelemetryRecord], windows: list[tuple[int, int]], seed: int
) -> None:
    organization_id = new_organization(app)
    ingest_shuffled(app, organization_id, batch, random.Random(seed))
    for start, length in windows:
        since = BASE + start + 0.25 * (seed % 3)  # on, and off, the hour
        until = since + length
        rolled = answers(app, organization_id, since, until, use_rollups=True)
        raw = answers(app, organization_id, since, until, use_rollups=False)
        same(rolled, raw)


def test_the_rollups_hold_exactly_what_a_rebuild_from_raw_rows_computes(app: Litestar) -> None:
    """Kept up batch by batch, the rollups end where aggregating the raw rows once ends."""
    organization_id = new_organization(app)
    rng = random.Random(5)
    batch: list[TelemetryRecord] = [CallEvent("room-opened", "r0", at=BASE + 10.0)]
    for second in range(0, 3 * HOUR_S, 97):
        who = PEOPLE[second % 4]
        batch.append(CallEvent("participant-joined", "r0", who, at=BASE + second))
        batch.append(QualitySample("r0", who, "audio", 3.0, 0, 0.01, None, 48.0, 4.1, at=BASE + second + 1))
        batch.append(UsageEvent("stt_audio_seconds", 5.0, "r0", who, "stt", "whisper", at=BASE + second + 2))
        if second % 3 == 0:
            batch.append(CallEvent("participant-left", "r0", who, at=BASE + second + 50))
        if second % 5 == 0:
            batch.append(
                CallEvent("participant-joined", "r0", who, at=BASE + second + 60, attributes={"reconnect": True})
            )
    batch.append(CallEvent("room-closed", "r0", at=BASE + 3 * HOUR_S))
    ingest_shuffled(app, organization_id, batch, rng)
    state = app_state(app.state)
    with state.session() as db:
        kept = {spec.table.name: _rows(db, spec, organization_id) for spec in SPECS}
        rebuild(db.connection(), organization_id)
        rebuilt = {spec.table.name: _rows(db, spec, organization_id) for spec in SPECS}
        dialect = db.get_bind().dialect.name
        assert db.execute(raw_source(SPECS[0], organization_id, (None, None, None, None), dialect)).all()
    same(kept, rebuilt)


def _rows(db: Any, spec: Any, organization_id: int) -> list[dict[str, Any]]:
    table = spec.table
    query = select(table).where(table.c.organization_id == organization_id).order_by(*table.primary_key.columns)
    return [dict(row._mapping) for row in db.execute(query).all()]


def _month_figures(app: Litestar, organization_id: int, month_start: dt.datetime) -> dict[str, Any]:
    until = (month_start + dt.timedelta(days=32)).replace(day=1)
    with app_state(app.state).session() as db:
        period = Period(since=month_start, until=until)
        return {
            "overview": service.overview(db, organization_id, period).model_dump(mode="json"),
            "usage": service.usage_summary(db, organization_id, period).model_dump(mode="json"),
        }


def test_retention_never_changes_a_past_months_totals(app: Litestar) -> None:
    organization_id = new_organization(app)
    month = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    start = month.timestamp() + 5 * 86400
    batch: list[TelemetryRecord] = [
        CallEvent("room-opened", "old", at=start),
        CallEvent("participant-joined", "old", "ann", at=start + 1),
        QualitySample("old", "ann", "audio", 3.0, 0, 0.0, 40.0, 32.0, 4.3, at=start + 5),
        UsageEvent("stt_audio_seconds", 60.0, "old", "ann", "stt", "whisper", at=start + 60),
        CallEvent("room-closed", "old", at=start + 600),
    ]
    with app_state(app.state).session() as db:
        ingest(db, organization_id, batch)
    before = _month_figures(app, organization_id, month)
    assert before["overview"]["calls"] == 1 and before["overview"]["quality"]["samples"] == 1
    with app_state(app.state).session() as db:
        for resource in ("calls", "call_events", "quality_samples", "usage_events"):
            db.add(RetentionPolicy(organization_id=organization_id, resource_type=resource, retention_days=30))
        db.commit()
        assert enforce_all(db, organization_id=organization_id) >= 4  # every raw row of March is gone
    assert _month_figures(app, organization_id, month) == before


def test_erasure_pseudonymises_the_rollups_as_it_does_the_raw_rows(app: Litestar) -> None:
    acme = owner(app)
    zelda = person_with_a_footprint(app, acme)
    whole = {"since": "2000-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z"}
    before = acme.client.get("/analytics/overview", params=whole).json()
    assert zelda.identity in {user["participant"] for user in before["top_users"]}
    erased = acme.client.post(
        "/compliance/erasures", json={"user_id": zelda.account.user_id, "participant_identities": [zelda.identity]}
    )
    assert erased.status_code == 201, erased.text
    after = acme.client.get("/analytics/overview", params=whole).json()
    assert zelda.identity not in {user["participant"] for user in after["top_users"]}
    assert sorted(u["minutes"] for u in after["top_users"]) == sorted(u["minutes"] for u in before["top_users"])
    with app_state(app.state).session() as db:
        period = Period(since=dt.datetime(2000, 1, 1, tzinfo=dt.UTC), until=dt.datetime(2100, 1, 1, tzinfo=dt.UTC))
        rolled = service.quality_report(db, acme.organization_id, period, None, None).model_dump(mode="json")
        raw = service.quality_report(db, acme.organization_id, period, None, None, use_rollups=False)
        same(rolled, raw.model_dump(mode="json"))
        people = service.overview(db, acme.organization_id, period).model_dump(mode="json")
        same(people, service.overview(db, acme.organization_id, period, use_rollups=False).model_dump(mode="json"))


def test_an_erasure_after_late_records_merges_them_into_the_pseudonyms_rollups(app: Litestar) -> None:
    """An engine's journal may replay records of a person after their erasure; erasing again must merge them."""
    acme = owner(app)
    moment = BASE + 600.0

    def records_of(who: str, at: float) -> list[TelemetryRecord]:
        return [
            CallEvent("room-opened", "late", at=at),
            CallEvent("participant-joined", "late", who, at=at + 1),
            QualitySample("late", who, "audio", 3.0, 0, 0.0, 40.0, 32.0, 4.3, at=at + 5),
            CallEvent("room-closed", "late", at=at + 60),
        ]

    feed(app, acme.organization_id, records_of("yuri", moment))
    for _ in range(2):
        erased = acme.client.post("/compliance/erasures", json={"participant_identities": ["yuri"]})
        assert erased.status_code == 201, erased.text
        done = acme.client.get(f"/compliance/requests/{erased.json()['id']}").json()
        assert done["status"] == "completed", done
        feed(app, acme.organization_id, records_of("yuri", moment + 120))  # late, in the same hour and day
    with app_state(app.state).session() as db:
        period = Period(since=dt.datetime(2000, 1, 1, tzinfo=dt.UTC), until=dt.datetime(2100, 1, 1, tzinfo=dt.UTC))
        rolled = service.quality_report(db, acme.organization_id, period, None, None).model_dump(mode="json")
        raw = service.quality_report(db, acme.organization_id, period, None, None, use_rollups=False)
        same(rolled, raw.model_dump(mode="json"))
        overview = service.overview(db, acme.organization_id, period).model_dump(mode="json")
        same(overview, service.overview(db, acme.organization_id, period, use_rollups=False).model_dump(mode="json"))
    people = {user["participant"] for user in overview["top_users"]}
    assert "yuri" in people and len(people) == 2  # the pseudonym holds both erased calls, yuri the latest
