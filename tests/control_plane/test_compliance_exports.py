"""Exports: complete and correct JSON and CSV, files only the server can read, links that expire."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from sqlalchemy import update
from sqlmodel import col

from control_plane.app import create_app
from control_plane.compliance.jobs import compliance_job
from control_plane.compliance.models import ComplianceRequest
from control_plane.state import app_state
from settings import Settings
from tests.control_plane.compliance_helpers import Person, person_with_a_footprint, request_row
from tests.control_plane.helpers import Account, member, owner
from tests.control_plane.secrets_support import vault, vault_server, vault_settings, with_secret_backend
from tests.control_plane.vault_api_server import VaultApiServer

__all__ = ["vault", "vault_server"]  # fixtures


def _export(account: Account, path: str, body: dict[str, Any]) -> dict[str, Any]:
    created = account.client.post(path, json=body)
    assert created.status_code == 201, created.text
    found = account.client.get(f"{path.rsplit('/', 1)[0]}/requests/{created.json()['id']}").json()
    assert found["status"] == "completed", found
    return dict(found)


def _identities(person: Person) -> set[str]:
    return {person.identity, person.account.email, str(person.account.user_id)}


def test_a_member_export_as_json_holds_everything_about_them_and_nothing_else(app: Litestar) -> None:
    acme = owner(app)
    zelda = person_with_a_footprint(app, acme, peer="bob-the-peer")
    admin = member(app, acme, "admin")
    admin.key("read")
    body = {"scope": "user", "user_id": zelda.account.user_id, "participant_identities": [zelda.identity]}
    done = _export(acme, "/compliance/exports", body)
    download = acme.client.get(done["download_url"])
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("application/json")
    tables = download.json()["tables"]
    assert [u["email"] for u in tables["user"]] == [zelda.account.email]
    assert tables["user"][0]["name"] == zelda.name and "password_hash" not in tables["user"][0]
    assert [m["user_id"] for m in tables["membership"]] == [zelda.account.user_id]
    assert {p["identity"] for p in tables["call_participant"]} == _identities(zelda)
    assert {u["participant"] for u in tables["usage_event"]} == _identities(zelda)
    assert sum(u["quantity"] for u in tables["usage_event"] if u["metric"] == "call_seconds") == 1800.0
    assert len(tables["quality_sample"]) == 3 and len(tables["call_event"]) == 3
    actions = {e["action"] for e in tables["audit_entry"]}
    assert {"invitation.create", "invitation.accept"} <= actions
    assert "user.update" not in actions  # not the organisation's record: her own export has it
    assert tables["api_key"] == []  # zelda made none; the admin's key is not about her
    assert "bob-the-peer" not in download.text
    assert download.json()["manifest"]["rows"]["call_participant"] == 3


def test_an_organisation_export_as_csv_has_one_file_per_table_and_never_a_hash(app: Litestar) -> None:
    acme = owner(app)
    zelda = person_with_a_footprint(app, acme, peer="bob-the-peer")
    acme.key("read")
    done = _export(acme, "/compliance/exports", {"format": "csv"})
    download = acme.client.get(done["download_url"])
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["scope"] == "organization" and manifest["rows"]["membership"] == 2
    users = list(csv.DictReader(io.StringIO(archive.read("user.csv").decode())))
    assert {u["email"] for u in users} == {acme.email, zelda.account.email}
    keys = list(csv.DictReader(io.StringIO(archive.read("api_key.csv").decode())))
    assert len(keys) == 1 and "key_hash" not in keys[0] and keys[0]["prefix"].startswith("alk_")
    participants = list(csv.DictReader(io.StringIO(archive.read("call_participant.csv").decode())))
    assert {p["identity"] for p in participants} == _identities(zelda) | {"bob-the-peer"}
    for name in archive.namelist():
        assert "hash" not in archive.read(name).decode().splitlines()[0], name


def test_export_files_are_private_and_expire_with_410_then_the_job_deletes_them(app: Litestar) -> None:
    acme = owner(app)
    done = _export(acme, "/compliance/exports", {})
    path = Path(request_row(app, done["id"]).file_path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.is_relative_to(app_state(app.state).settings.data_dir)
    expires = dt.datetime.fromisoformat(done["expires_at"]) - dt.datetime.fromisoformat(done["finished_at"])
    assert round(expires / dt.timedelta(days=1)) == 30
    with app_state(app.state).session() as db:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        db.execute(update(ComplianceRequest).where(col(ComplianceRequest.id) == done["id"]).values(expires_at=past))
        db.commit()
    gone = acme.client.get(done["download_url"])
    assert gone.status_code == 410 and "expired" in gone.json()["detail"]
    assert compliance_job(app_state(app.state))["expired_exports"] >= 1
    assert not path.exists()
    assert acme.client.get(done["download_url"]).status_code == 410


def test_a_person_exports_their_own_data_and_only_they_can_download_it(app: Litestar) -> None:
    acme = owner(app)
    zelda = person_with_a_footprint(app, acme)
    done = _export(zelda.account, "/compliance/me/exports", {"format": "json"})
    assert done["download_url"] == f"/compliance/me/requests/{done['id']}/download"
    mine = zelda.account.client.get(done["download_url"])
    assert mine.status_code == 200 and mine.json()["tables"]["user"][0]["email"] == zelda.account.email
    assert "user.update" in {e["action"] for e in mine.json()["tables"]["audit_entry"]}
    assert acme.client.get(f"/compliance/me/requests/{done['id']}/download").status_code == 404
    assert acme.client.get(f"/compliance/requests/{done['id']}").status_code == 404
    listed = zelda.account.client.get("/compliance/me/requests").json()
    assert [r["id"] for r in listed] == [done["id"]]


@pytest.fixture(params=["local", "vault"])
def secret_backend_app(request: pytest.FixtureRequest, settings: Settings) -> Litestar:
    """The app with each secret backend wrapping the exports' file keys."""
    return create_app(with_secret_backend(request, settings), migrate=False)


def test_export_files_are_encrypted_at_rest_under_a_key_the_secret_store_wraps(secret_backend_app: Litestar) -> None:
    app = secret_backend_app
    acme = owner(app)
    zelda = person_with_a_footprint(app, acme)
    done = _export(acme, "/compliance/exports", {"scope": "user", "user_id": zelda.account.user_id})
    row = request_row(app, done["id"])
    stored = Path(row.file_path).read_bytes()
    for identifier in (zelda.account.email, zelda.name, zelda.identity, '"tables"'):
        assert identifier.encode() not in stored
    backend = app_state(app.state).secrets.backend
    assert row.file_key.startswith("vault:v1:" if backend == "vault" else "alk:v1:")
    download = acme.client.get(done["download_url"])
    assert download.status_code == 200, download.text
    assert download.headers["content-disposition"] == f'attachment; filename="auralink-export-{done["id"]}.json"'
    assert download.json()["tables"]["user"][0]["email"] == zelda.account.email


def test_a_sealed_vault_fails_new_exports_and_makes_downloads_wait_never_serving_plain_files(
    settings: Settings, vault: VaultApiServer
) -> None:
    app = create_app(vault_settings(settings, vault.url), migrate=False)
    acme = owner(app)
    done = _export(acme, "/compliance/exports", {})
    vault.seal()
    refused = acme.client.get(done["download_url"])
    assert refused.status_code == 503 and refused.headers["retry-after"]
    assert "sealed" in refused.json()["detail"]
    asked = acme.client.post("/compliance/exports", json={})  # no file is written that the store cannot wrap
    failed = acme.client.get(f"/compliance/requests/{asked.json()['id']}").json()
    assert failed["status"] == "failed" and "sealed" in failed["error"] and failed["download_url"] is None
    vault.unseal()
    assert acme.client.get(done["download_url"]).json()["manifest"]["request_id"] == done["id"]
