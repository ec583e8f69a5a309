"""Erasure: nothing that names the person survives in any table, aggregates stay, holds refuse it."""

from __future__ import annotations

from pathlib import Path

from litestar import Litestar
from sqlmodel import select

from control_plane.compliance.jobs import run_request
from control_plane.compliance.pseudonyms import is_pseudonym
from control_plane.state import app_state
from control_plane.telemetry.models import CallParticipant
from telemetry.records import CallEvent
from tests.control_plane.compliance_helpers import (
    NOW,
    figures,
    identifiers,
    person_with_a_footprint,
    request_row,
    text_values,
)
from tests.control_plane.helpers import feed, member, owner
from tests.support.databases import PASSWORD


def test_after_an_erasure_no_table_names_the_person_and_aggregates_are_unchanged(app: Litestar) -> None:
    acme = owner(app)
    zelda = person_with_a_footprint(app, acme)
    beta = owner(app, "Beta")  # another organisation invited her too: her e-mail is there as well
    invited = beta.client.post(
        f"/organizations/{beta.organization_id}/invitations", json={"email": zelda.account.email, "role": "viewer"}
    )
    assert invited.status_code == 201
    export = acme.client.post("/compliance/exports", json={"scope": "user", "user_id": zelda.account.user_id})
    assert export.status_code == 201, export.text
    export_file = Path(request_row(app, export.json()["id"]).file_path)
    assert export_file.exists()
    before = figures(acme)
    assert before["participants"] >= 4
    live = app_state(app.state).realtime  # in process on SQLite, Redis on PostgreSQL
    for who in (zelda.account.email, zelda.identity, "someone-else"):
        live.sample(acme.organization_id, zelda.room, who, 4.2, 0.0)

    erased = acme.client.post(
        "/compliance/erasures", json={"user_id": zelda.account.user_id, "participant_identities": [zelda.identity]}
    )
    assert erased.status_code == 201, erased.text
    done = acme.client.get(f"/compliance/requests/{erased.json()['id']}").json()
    assert done["status"] == "completed", done
    assert done["summary"]["call_participant"] >= 3 and done["summary"]["user"] == 1

    leaks = [(t, c, v[:120]) for t, c, v in text_values(app) for who in identifiers(zelda) if who.lower() in v.lower()]
    assert leaks == []
    user_id = str(zelda.account.user_id)
    identity_columns = {
        ("call_participant", "identity"),
        ("call_event", "participant"),
        ("quality_sample", "participant"),
        ("usage_event", "participant"),
    }
    assert [v for t, c, v in text_values(app) if (t, c) in identity_columns and v in {user_id, f"user-{user_id}"}] == []
    assert figures(acme) == before
    assert live.snapshot(acme.organization_id).participants == 1  # only someone else is still live
    assert not export_file.exists()
    pseudonyms = {v for t, c, v in text_values(app) if (t, c) == ("call_participant", "identity") and is_pseudonym(v)}
    assert len(pseudonyms) >= 3  # one per identity: distinct counts are kept
    login = zelda.account.client.post("/auth/login", json={"email": zelda.account.email, "password": PASSWORD})
    assert login.status_code == 401


def test_the_audit_trail_is_kept_with_pseudonyms_and_stays_append_only(app: Litestar) -> None:
    acme = owner(app)
    zelda = person_with_a_footprint(app, acme)
    before = acme.client.get("/audit", params={"limit": 1000}).json()
    erased = acme.client.post("/compliance/erasures", json={"email": zelda.account.email})
    assert erased.status_code == 201, erased.text
    after = acme.client.get("/audit", params={"limit": 1000}).json()
    assert {e["id"] for e in before} <= {e["id"] for e in after}  # nothing deleted
    accepted = next(e for e in after if e["action"] == "invitation.accept")
    assert accepted["actor_user_id"] == zelda.account.user_id  # the id stays: it now names a tombstone
    actions = [e["action"] for e in after]
    assert "compliance.erasure.request" in actions and "compliance.erasure.complete" in actions
    assert zelda.account.email not in str(after)


def test_running_a_finished_erasure_again_changes_nothing(app: Litestar) -> None:
    acme = owner(app)
    zelda = person_with_a_footprint(app, acme)
    erased = acme.client.post("/compliance/erasures", json={"user_id": zelda.account.user_id}).json()
    snapshot = text_values(app)
    assert run_request(app_state(app.state), erased["id"]) == "completed"
    assert text_values(app) == snapshot


def test_a_legal_hold_refuses_an_erasure_with_its_reason(app: Litestar) -> None:
    acme = owner(app)
    zelda = member(app, acme, "member")
    hold = acme.client.post("/compliance/legal-holds", json={"user_id": zelda.user_id, "reason": "litigation 2026-17"})
    assert hold.status_code == 201, hold.text
    refused = acme.client.post("/compliance/erasures", json={"user_id": zelda.user_id})
    assert refused.status_code == 409
    assert "litigation 2026-17" in refused.json()["detail"]
    own = zelda.client.post("/compliance/me/erasure", json={"password": PASSWORD})
    assert own.status_code == 409 and "legal hold" in own.json()["detail"]
    assert acme.client.post(f"/compliance/legal-holds/{hold.json()['id']}/release").status_code == 200
    policy = acme.client.post(
        "/compliance/retention-policies",
        json={
            "resource_type": "call_events",
            "retention_days": 30,
            "legal_hold": True,
            "hold_reason": "regulator audit",
        },
    )
    assert policy.status_code == 201
    refused = acme.client.post("/compliance/erasures", json={"user_id": zelda.user_id})
    assert refused.status_code == 409 and "regulator audit" in refused.json()["detail"]
    assert (
        acme.client.patch(
            f"/compliance/retention-policies/{policy.json()['id']}", json={"legal_hold": False}
        ).status_code
        == 200
    )
    assert acme.client.post("/compliance/erasures", json={"user_id": zelda.user_id}).status_code == 201


def test_the_last_owner_cannot_be_erased_and_a_person_can_erase_themselves(app: Litestar) -> None:
    acme = owner(app)
    refused = acme.client.post("/compliance/erasures", json={"user_id": acme.user_id})
    assert refused.status_code == 409 and "last owner" in refused.json()["detail"]
    zelda = person_with_a_footprint(app, acme)
    assert zelda.account.client.post("/compliance/me/erasure", json={"password": "wrong one!"}).status_code == 401
    own = zelda.account.client.post("/compliance/me/erasure", json={"password": PASSWORD})
    assert own.status_code == 201, own.text
    leaks = [v for _, _, v in text_values(app) if zelda.account.email in v or zelda.name in v]
    assert leaks == []
    members = acme.client.get(f"/organizations/{acme.organization_id}/members").json()
    assert zelda.account.user_id not in [m["user_id"] for m in members]


def test_a_bare_user_id_names_the_person_only_where_they_belong(app: Litestar) -> None:
    acme, beta = owner(app), owner(app, "Beta")
    zelda = person_with_a_footprint(app, acme)
    number = str(zelda.account.user_id)
    feed(app, beta.organization_id, [CallEvent("participant-joined", "beta-room", number, at=NOW - 60)])
    assert acme.client.post("/compliance/erasures", json={"user_id": zelda.account.user_id}).status_code == 201
    with app_state(app.state).session() as db:
        rows = db.exec(select(CallParticipant).where(CallParticipant.identity == number)).all()
    assert [r.organization_id for r in rows] == [beta.organization_id]  # beta's participant "N" is someone else
