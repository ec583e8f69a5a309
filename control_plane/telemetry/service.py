"""Storing telemetry: each record once (by idempotency key), calls and participants kept current.

A batch is one transaction. The realtime store is told only after the commit, so a
batch that fails leaves no trace anywhere and can simply be sent again.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from sqlalchemy import Table, func, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from control_plane.analytics.realtime import STALE_AFTER_S, RealtimeStore
from control_plane.telemetry.models import Call, CallEventRecord, CallParticipant, QualitySampleRecord, UsageRecord
from control_plane.telemetry.rollups import (
    CALLS,
    PARTICIPANTS,
    RollupDelta,
    add_stored,
)
from telemetry.records import CallEvent, QualitySample, TelemetryRecord, UsageEvent


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    live_updates: list[tuple[float, Callable[[RealtimeStore], None]]] = field(default_factory=list)
    """What to tell the realtime store once committed, with the time each thing happened."""


def ingest(db: Session, organization_id: int, records: Sequence[TelemetryRecord]) -> IngestResult:
    """Store ``records`` for ``organization_id`` and commit; call :func:`publish` with the result afterwards."""
    result = IngestResult()
    rollups = RollupDelta(organization_id)
    calls = _CallFinder(db, organization_id, rollups)
    events = sorted((r for r in records if isinstance(r, CallEvent)), key=lambda e: e.at)
    for event in events:
        _apply_event(db, organization_id, event, calls, result)
    samples = [r for r in records if isinstance(r, QualitySample)]
    usage = [r for r in records if isinstance(r, UsageEvent)]
    stored = _store_many(db, QualitySampleRecord, [_sample_row(organization_id, s, calls) for s in samples], result)
    stored_usage = _store_many(db, UsageRecord, [_usage_row(organization_id, u, calls) for u in usage], result)
    # aggregated in the database from exactly the rows this batch stored (the raw rows' own definition)
    add_stored(db, rollups, QualitySampleRecord, stored.values())
    add_stored(db, rollups, UsageRecord, stored_usage.values())
    rollups.write(db)
    recent = time.time() - STALE_AFTER_S  # a replayed old sample says nothing about who is in a call now
    for sample in samples:
        if sample.idempotency_key in stored and sample.at > recent:
            update_live = functools.partial(_live_sample, organization_id=organization_id, sample=sample)
            result.live_updates.append((sample.at, update_live))
    db.commit()
    return result


def _live_sample(store: RealtimeStore, organization_id: int, sample: QualitySample) -> None:
    store.sample(organization_id, sample.room, sample.participant, sample.mos, sample.frames_per_second)


def publish(result: IngestResult, store: RealtimeStore) -> None:
    """Tell the realtime store what the committed batch changed, in the order it happened."""
    for _, update_live in sorted(result.live_updates, key=lambda pair: pair[0]):
        update_live(store)


def _insert_ignoring_duplicates(db: Session, table: Table) -> Any:
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    return (
        dialect.insert(table)
        .on_conflict_do_nothing(index_elements=["organization_id", "idempotency_key"])
        .returning(table.c.idempotency_key)
    )


def _first_of_each_key(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A batch may repeat a record; the database keeps the first, and so does everything counted from it."""
    return list({row["idempotency_key"]: row for row in reversed(rows)}.values())


def _store_many(db: Session, model: type[Any], rows: list[dict[str, Any]], result: IngestResult) -> dict[str, int]:
    """Insert the rows not stored before; returns the idempotency keys of those inserted now, with their ids."""
    if not rows:
        return {}
    unique = _first_of_each_key(rows)
    result.duplicates += len(rows) - len(unique)
    table = model.__table__
    if db.get_bind().dialect.name == "postgresql":
        stored = dict(_copy_insert(db, table, unique))
    else:  # SQLAlchemy sends these as multi-row INSERTs ("insertmanyvalues")
        statement = _insert_ignoring_duplicates(db, table).returning(table.c.id)
        stored = dict(db.connection().execute(statement, unique).all())
    result.accepted += len(stored)
    result.duplicates += len(unique) - len(stored)
    return stored


def _copy_insert(db: Session, table: Table, rows: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """PostgreSQL's fast path: COPY the rows into a temporary table (dropped at the end of the connection,
    emptied at each commit), then move those not stored before in one ``INSERT … SELECT``."""
    names = list(rows[0])
    quoted = ", ".join(f'"{name}"' for name in names)
    staging = f"incoming_{table.name}"
    connection = db.connection().connection.dbapi_connection
    assert isinstance(connection, psycopg.Connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f'CREATE TEMPORARY TABLE IF NOT EXISTS "{staging}" (LIKE "{table.name}" INCLUDING DEFAULTS)'
            " ON COMMIT DELETE ROWS"
        )
        with cursor.copy(f'COPY "{staging}" ({quoted}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([row[name] for name in names])
        cursor.execute(
            f'INSERT INTO "{table.name}" ({quoted}) SELECT {quoted} FROM "{staging}"'
            " ON CONFLICT (organization_id, idempotency_key) DO NOTHING RETURNING idempotency_key, id"
        )
        stored = [(str(key), int(row_id)) for key, row_id in cursor.fetchall()]
        cursor.execute(f'DELETE FROM "{staging}"')  # a second batch in this transaction starts empty
    return stored


class _CallFinder:
    """The call a room's records belong to: the room's open call, else its latest, else a new one."""

    def __init__(self, db: Session, organization_id: int, rollups: RollupDelta) -> None:
        self.db = db
        self.organization_id = organization_id
        self.rollups = rollups
        self._known: dict[str, int] = {}

    def open_call(self, room: str) -> Call | None:
        query = select(Call).where(Call.organization_id == self.organization_id, Call.room == room)
        return self.db.exec(query.where(col(Call.ended_at).is_(None)).order_by(col(Call.id).desc())).first()

    def id_for(self, room: str, at: float, call_type: str = "audio") -> int:
        if room in self._known:
            return self._known[room]
        call = (
            self.open_call(room)
            or self.db.exec(
                select(Call)
                .where(Call.organization_id == self.organization_id, Call.room == room, col(Call.started_at) <= at)
                .order_by(col(Call.started_at).desc())
            ).first()
        )
        if call is None:
            call = self.start(room, at, call_type)
        assert call.id is not None
        self._known[room] = call.id
        return call.id

    def start(self, room: str, at: float, call_type: str) -> Call:
        call = Call(organization_id=self.organization_id, room=room, call_type=call_type, started_at=at)
        self.db.add(call)
        self.db.flush()
        assert call.id is not None
        self._known[room] = call.id
        self.rollups.add(CALLS, at, (call_type,), calls=1)
        return call

    def forget(self, room: str) -> None:
        self._known.pop(room, None)


def _apply_event(db: Session, organization_id: int, event: CallEvent, calls: _CallFinder, result: IngestResult) -> None:
    row = {
        "organization_id": organization_id,
        "idempotency_key": event.idempotency_key,
        "type": event.type,
        "room": event.room,
        "participant": event.participant,
        "at": event.at,
        "attributes": event.attributes,
    }
    statement = _insert_ignoring_duplicates(db, CallEventRecord.__table__)  # type: ignore[attr-defined]
    if not db.connection().execute(statement, [row]).all():
        result.duplicates += 1
        return
    result.accepted += 1
    room, who = event.room, event.participant or ""
    if event.type == "room-opened":
        if calls.open_call(room) is None:
            calls.start(room, event.at, str(event.attributes.get("call_type", "audio"))[:32])
        result.live_updates.append((event.at, lambda store: store.room_opened(organization_id, room)))
    elif event.type == "participant-joined":
        call_id = calls.id_for(room, event.at)
        _join(db, organization_id, call_id, who, event.at, calls.rollups, event.attributes.get("reconnect") is True)
        _note_peak(db, call_id, calls.rollups)
        result.live_updates.append((event.at, lambda store: store.joined(organization_id, room, who)))
    elif event.type == "participant-left":
        _close_participants(db, calls.id_for(room, event.at), event.at, calls.rollups, who)
        result.live_updates.append((event.at, lambda store: store.left(organization_id, room, who)))
    else:
        call = calls.open_call(room)
        if call is not None and call.id is not None:
            call.ended_at = max(event.at, call.started_at)
            db.add(call)
            calls.rollups.add(CALLS, call.started_at, (call.call_type,), seconds=call.ended_at - call.started_at)
            _close_participants(db, call.id, event.at, calls.rollups)
        calls.forget(room)
        result.live_updates.append((event.at, lambda store: store.room_closed(organization_id, room)))


def _join(
    db: Session, organization_id: int, call_id: int, identity: str, at: float, rollups: RollupDelta, reconnect: bool
) -> None:
    """A participant row; the identity's first in this call also counts the call for them. A participant back
    after its engine died (a reconnect) goes on in its latest attendance instead of starting a second one."""
    if reconnect and _resume_participant(db, call_id, identity, rollups):
        db.flush()
        return
    before = db.exec(
        select(func.count())
        .select_from(CallParticipant)
        .where(CallParticipant.call_id == call_id, CallParticipant.identity == identity)
    ).one()
    db.add(CallParticipant(organization_id=organization_id, call_id=call_id, identity=identity, joined_at=at))
    db.flush()
    rollups.add(PARTICIPANTS, at, (identity,), joins=1, calls=0 if before else 1)


def _resume_participant(db: Session, call_id: int, identity: str, rollups: RollupDelta) -> bool:
    """Reopen ``identity``'s latest attendance of the call; ``False`` when it has none to continue. Seconds its
    leaving added to the rollups are taken back: the attendance's final leave adds them again, whole."""
    latest = db.exec(
        select(CallParticipant)
        .where(CallParticipant.call_id == call_id, CallParticipant.identity == identity)
        .order_by(col(CallParticipant.joined_at).desc())
        .limit(1)
    ).first()
    if latest is None:
        return False
    if latest.left_at is not None:
        rollups.add(PARTICIPANTS, latest.joined_at, (identity,), seconds=-(latest.left_at - latest.joined_at))
    latest.left_at = None
    db.add(latest)
    return True


def _close_participants(
    db: Session, call_id: int, at: float, rollups: RollupDelta, identity: str | None = None
) -> None:
    p = CallParticipant
    conditions = [col(p.call_id) == call_id, col(p.left_at).is_(None)]
    if identity is not None:
        conditions.append(col(p.identity) == identity)
    present = db.exec(select(p.id, p.identity, p.joined_at).where(*conditions)).all()
    if not present:
        return
    db.execute(update(p).where(col(p.id).in_([row[0] for row in present])).values(left_at=at))
    for _, who, joined_at in present:
        rollups.add(PARTICIPANTS, joined_at, (who,), seconds=at - joined_at)


def _note_peak(db: Session, call_id: int, rollups: RollupDelta) -> None:
    present = db.exec(
        select(func.count())
        .select_from(CallParticipant)
        .where(CallParticipant.call_id == call_id, col(CallParticipant.left_at).is_(None))
    ).one()
    call = db.get(Call, call_id)
    if call is not None and present > call.peak_participants:
        call.peak_participants = present
        db.add(call)
        rollups.add(CALLS, call.started_at, (call.call_type,), max_participants=present)


def _sample_row(organization_id: int, sample: QualitySample, calls: _CallFinder) -> dict[str, Any]:
    return {
        "organization_id": organization_id,
        "call_id": calls.id_for(sample.room, sample.at),
        "idempotency_key": sample.idempotency_key,
        "participant": sample.participant,
        "media": sample.media,
        "direction": sample.direction,
        "connection_type": sample.connection_type,
        "jitter_ms": sample.jitter_ms,
        "packets_lost": sample.packets_lost,
        "loss_fraction": sample.loss_fraction,
        "rtt_ms": sample.rtt_ms,
        "bitrate_kbps": sample.bitrate_kbps,
        "mos": sample.mos,
        "frames_per_second": sample.frames_per_second,
        "at": sample.at,
    }


def _usage_row(organization_id: int, event: UsageEvent, calls: _CallFinder) -> dict[str, Any]:
    return {
        "organization_id": organization_id,
        "call_id": calls.id_for(event.room, event.at) if event.room else None,
        "idempotency_key": event.idempotency_key,
        "metric": event.metric,
        "quantity": event.quantity,
        "participant": event.participant,
        "feature": event.feature or event.metric.split("_")[0],
        "provider": event.provider,
        "at": event.at,
    }
