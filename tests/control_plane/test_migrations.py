"""Alembic: upgrade builds exactly the models' schema, downgrade removes it, the audit trail is append-only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session

from control_plane.analytics.charts import mos_distribution
from control_plane.analytics.schemas import Period
from control_plane.db.migrate import downgrade, upgrade
from control_plane.db.tables import metadata
from tests.support.databases import Backend, create_postgres_database, drop_postgres_database


@pytest.fixture
def empty_database(backend: Backend) -> Iterator[str]:
    """A database of the backend's kind with nothing in it."""
    if backend.name == "sqlite":
        yield f"sqlite:///{backend.data_dir / 'migrations.db'}"
        (backend.data_dir / "migrations.db").unlink(missing_ok=True)
        return
    url = create_postgres_database(suffix="_migrations")
    yield url.replace("postgresql://", "postgresql+psycopg://", 1)
    drop_postgres_database(url.rpartition("/")[2])


def test_upgrade_matches_the_models_and_downgrade_removes_everything(empty_database: str) -> None:
    upgrade(empty_database)
    engine = create_engine(empty_database)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []
    downgrade(empty_database, "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    upgrade(empty_database)  # and back up again, cleanly
    assert "audit_entry" in inspect(engine).get_table_names()
    engine.dispose()


def test_the_database_refuses_to_change_or_delete_audit_entries(empty_database: str) -> None:
    upgrade(empty_database)
    engine = create_engine(empty_database)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO audit_entry (action, resource_type, resource_id, ip, user_agent, request_id, created_at)"
                " VALUES ('x.y', 'thing', '1', '', '', '', CURRENT_TIMESTAMP)"
            )
        )
    for statement in ("UPDATE audit_entry SET action = 'forged'", "DELETE FROM audit_entry"):
        with pytest.raises(DatabaseError, match="cannot be changed or deleted"), engine.begin() as connection:
            connection.execute(text(statement))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT action FROM audit_entry")).scalars().all() == ["x.y"]
    engine.dispose()


def _store_history(engine: Engine, hour: int, samples: list[tuple[str, float]]) -> None:
    """An organisation with one video call in ``hour`` and its quality samples (who, MOS), as raw rows only."""
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO organization (id, name, plan, max_members, max_agents, monthly_minutes,"
                " monthly_spend_alert, created_at) VALUES (1, 'Old', 'free', 5, 1, 100, 10, CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(
                'INSERT INTO "call" (id, organization_id, room, call_type, started_at, ended_at, peak_participants)'
                " VALUES (1, 1, 'r', 'video', :start, :end, 2)"
            ),
            {"start": hour + 10.0, "end": hour + 130.0},
        )
        for index, (who, mos) in enumerate(samples):
            connection.execute(
                text(
                    "INSERT INTO quality_sample (organization_id, call_id, idempotency_key, participant, media,"
                    " direction, connection_type, jitter_ms, packets_lost, loss_fraction, rtt_ms, bitrate_kbps, mos,"
                    " frames_per_second, at) VALUES (1, 1, :key, :who, 'audio', 'inbound', 'wifi', 5, 0, 0, NULL,"
                    " 48, :mos, 0, :at)"
                ),
                {"key": f"k{index}", "who": who, "mos": mos, "at": hour + 20.0 + index},
            )


HOUR = 1_780_000_000 - 1_780_000_000 % 3600


def test_the_rollup_migration_fills_the_rollups_from_the_history_already_stored(empty_database: str) -> None:
    upgrade(empty_database, "0004")
    engine = create_engine(empty_database)
    hour = HOUR
    _store_history(engine, hour, [("ann", 4.0), ("bob", 3.0), ("ann", 2.0)])
    upgrade(empty_database)
    with engine.connect() as connection:
        calls = connection.execute(text("SELECT hour, call_type, calls, seconds FROM call_rollup")).all()
        quality = connection.execute(
            text("SELECT participant, samples, mos_sum, mos_min, rtt_samples FROM quality_participant_rollup")
        ).all()
        days = connection.execute(text("SELECT hour, samples FROM quality_participant_day_rollup")).all()
    engine.dispose()
    assert [tuple(row) for row in calls] == [(hour, "video", 1, 120.0)]
    assert sorted(tuple(row) for row in quality) == [("ann", 2, 6.0, 2.0, 0), ("bob", 1, 3.0, 3.0, 0)]
    assert sorted(row[1] for row in days) == [1, 2] and all(row[0] % 86400 == 0 for row in days)


def test_the_mos_band_migration_counts_the_samples_already_stored_as_the_chart_did(empty_database: str) -> None:
    """Migration 0008 adds the MOS bands to rollups built before it; the overview's distribution then reads
    them and agrees with the raw rows, band edges included (a sample on an edge is in the band above)."""
    upgrade(empty_database, "0004")
    engine = create_engine(empty_database)
    mos = [0.5, 1.0, 1.99, 2.0, 2.5, 3.0, 3.59, 3.6, 3.99, 4.0, 4.5, 4.5]
    _store_history(engine, HOUR, [("ann", value) for value in mos])
    upgrade(empty_database, "0007")  # 0005 builds the quality rollup of that history, with no bands yet
    assert "mos_1_2" not in {column["name"] for column in inspect(engine).get_columns("quality_rollup")}
    upgrade(empty_database)
    expected = [("1–2", 3), ("2–3", 2), ("3–3.6", 2), ("3.6–4", 2), ("4–4.5", 3)]
    with engine.connect() as connection:
        bands = connection.execute(
            text("SELECT mos_1_2, mos_2_3, mos_3_36, mos_36_4, mos_4_45 FROM quality_rollup")
        ).all()
    assert [tuple(row) for row in bands] == [tuple(n for _, n in expected)]
    whole_hour = Period(
        since=dt.datetime.fromtimestamp(HOUR, dt.UTC), until=dt.datetime.fromtimestamp(HOUR + 3600, dt.UTC)
    )
    with Session(engine) as db:
        assert mos_distribution(db, 1, whole_hour) == expected
        assert mos_distribution(db, 1, whole_hour, use_rollups=False) == expected
    engine.dispose()
