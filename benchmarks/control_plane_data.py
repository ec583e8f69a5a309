"""Synthetic call history for the control-plane benchmark, loaded into PostgreSQL with COPY.

Calls spread over the last 90 days, each with two participants, ten quality samples
and three usage events, all in one organisation (the worst case for queries scoped
to an organisation). The raw tables' secondary indexes, unique and foreign-key
constraints are dropped for the load and built once after it (what a bulk restore
does), then the hourly rollups are aggregated from the loaded rows.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import psycopg
from sqlalchemy import create_engine

from control_plane.telemetry.rollups import rebuild

DAY_S = 86400
SPAN_DAYS = 90
SAMPLES_PER_CALL = 10
CALLS_PER_CHUNK = 50_000
CALL_TYPES = ("audio", "video", "agent")
CONNECTIONS = ("wifi", "wired", "cellular", "unknown")
USERS = 5000


@dataclass(frozen=True)
class Loaded:
    calls: int
    samples: int
    usage_events: int
    participants: int
    seconds: float
    rollup_seconds: float


def load(conninfo: str, organization_id: int, calls: int, span_days: float = SPAN_DAYS, seed: int = 7) -> Loaded:
    """COPY ``calls`` calls over the last ``span_days`` days, and their rows, into the database at ``conninfo``."""
    rng = np.random.default_rng(seed)
    now = time.time()
    started = time.perf_counter()
    with psycopg.connect(conninfo, autocommit=False) as connection:
        connection.execute("SET synchronous_commit = off")
        with _indexes_built_after(connection):
            first_id = 1
            for count in _chunks(calls):
                _copy_chunk(connection, rng, organization_id, first_id, count, span_days * DAY_S, now)
                first_id += count
                connection.commit()
        connection.execute("ANALYZE")
    loaded = time.perf_counter()
    engine = create_engine(conninfo.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as rollups:
        rebuild(rollups, organization_id)
    engine.dispose()
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
    finished = time.perf_counter()
    return Loaded(calls, calls * SAMPLES_PER_CALL, calls * 3, calls * 2, loaded - started, finished - loaded)


_RAW_TABLES = ["call", "call_participant", "quality_sample", "usage_event"]


@contextmanager
def _indexes_built_after(connection: psycopg.Connection[tuple[object, ...]]) -> Iterator[None]:
    """The raw tables without their secondary indexes and unique/foreign-key constraints until the block ends."""
    constraints = connection.execute(
        "SELECT c.relname, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k"
        " JOIN pg_class c ON c.oid = k.conrelid WHERE k.contype IN ('u', 'f') AND c.relname = ANY(%s)",
        (_RAW_TABLES,),
    ).fetchall()
    indexes = connection.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)"
        " AND indexname NOT IN (SELECT conname FROM pg_constraint)",
        (_RAW_TABLES,),
    ).fetchall()
    for table, name, _ in constraints:
        connection.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        connection.execute(f'DROP INDEX "{name}"')
    connection.commit()
    yield
    connection.execute("SET maintenance_work_mem = '512MB'")
    for _, definition in indexes:
        connection.execute(str(definition))
    for table, name, definition in constraints:
        connection.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
    connection.commit()


def _chunks(total: int) -> Iterator[int]:
    while total > 0:
        yield min(total, CALLS_PER_CHUNK)
        total -= CALLS_PER_CHUNK


def _copy_chunk(
    connection: psycopg.Connection[tuple[object, ...]],
    rng: np.random.Generator,
    organization_id: int,
    first_id: int,
    count: int,
    span_s: float,
    now: float,
) -> None:
    ids = np.arange(first_id, first_id + count)
    start = now - rng.uniform(0, span_s, count)
    duration = rng.uniform(60, 3600, count)
    kinds = rng.integers(0, len(CALL_TYPES), count)
    users = rng.integers(0, USERS, (count, 2))
    calls = (
        f"{i}\t{organization_id}\troom-{i}\t{CALL_TYPES[k]}\t{s:.3f}\t{s + d:.3f}\t2\n"
        for i, k, s, d in zip(ids.tolist(), kinds.tolist(), start.tolist(), duration.tolist(), strict=True)
    )
    _copy(connection, '"call" (id, organization_id, room, call_type, started_at, ended_at, peak_participants)', calls)
    participants = (
        f"{organization_id}\t{i}\tuser-{u}\t{s:.3f}\t{s + d:.3f}\n"
        for i, pair, s, d in zip(ids.tolist(), users.tolist(), start.tolist(), duration.tolist(), strict=True)
        for u in pair
    )
    _copy(connection, "call_participant (organization_id, call_id, identity, joined_at, left_at)", participants)
    _copy(connection, _QUALITY_COLUMNS, _quality_rows(rng, organization_id, ids, start, duration, users))
    _copy(connection, _USAGE_COLUMNS, _usage_rows(organization_id, ids, start, duration, users))
    connection.execute("""SELECT setval(pg_get_serial_sequence('"call"', 'id'), %s)""", (first_id + count,))


_QUALITY_COLUMNS = (
    "quality_sample (organization_id, call_id, idempotency_key, participant, media, direction, connection_type,"
    " jitter_ms, packets_lost, loss_fraction, rtt_ms, bitrate_kbps, mos, frames_per_second, at)"
)
_USAGE_COLUMNS = (
    "usage_event (organization_id, call_id, idempotency_key, metric, quantity, participant, feature, provider, at)"
)


def _quality_rows(
    rng: np.random.Generator,
    organization_id: int,
    ids: np.ndarray,
    start: np.ndarray,
    duration: np.ndarray,
    users: np.ndarray,
) -> Iterator[str]:
    n = len(ids) * SAMPLES_PER_CALL
    call = np.repeat(ids, SAMPLES_PER_CALL)
    at = np.repeat(start, SAMPLES_PER_CALL) + np.tile(np.arange(SAMPLES_PER_CALL), len(ids)) * np.repeat(
        duration / SAMPLES_PER_CALL, SAMPLES_PER_CALL
    )
    who = users[np.repeat(np.arange(len(ids)), SAMPLES_PER_CALL), np.tile(np.arange(SAMPLES_PER_CALL) % 2, len(ids))]
    connection = rng.integers(0, len(CONNECTIONS), n)
    jitter = rng.gamma(2.0, 6.0, n)
    loss = rng.beta(1, 60, n)
    rtt = rng.gamma(3.0, 25.0, n)
    bitrate = rng.choice([32.0, 48.0, 64.0, 900.0, 2500.0], n)
    mos = np.clip(4.4 - jitter / 40 - loss * 8, 1.0, 4.5)
    for row in zip(
        call.tolist(),
        who.tolist(),
        connection.tolist(),
        jitter.tolist(),
        loss.tolist(),
        rtt.tolist(),
        bitrate.tolist(),
        mos.tolist(),
        at.tolist(),
        strict=True,
    ):
        c, u, k, j, lo, r, b, m, t = row
        media = "video" if b > 500 else "audio"
        yield (
            f"{organization_id}\t{c}\tq{c}-{t:.3f}-{u}\tuser-{u}\t{media}\tinbound\t{CONNECTIONS[k]}"
            f"\t{j:.3f}\t{int(lo * 100)}\t{lo:.5f}\t{r:.3f}\t{b}\t{m:.3f}"
            f"\t{30.0 if media == 'video' else 50.0}\t{t:.3f}\n"
        )


def _usage_rows(
    organization_id: int, ids: np.ndarray, start: np.ndarray, duration: np.ndarray, users: np.ndarray
) -> Iterator[str]:
    for i, s, d, pair in zip(ids.tolist(), start.tolist(), duration.tolist(), users.tolist(), strict=True):
        end = s + d
        yield f"{organization_id}\t{i}\tu{i}-call\tcall_seconds\t{2 * d:.3f}\tuser-{pair[0]}\tcall\t\t{end:.3f}\n"
        yield f"{organization_id}\t{i}\tu{i}-stt\tstt_audio_seconds\t{d:.3f}\tuser-{pair[0]}\tstt\twhisper\t{end:.3f}\n"
        chars = int(d * 12)
        who = f"user-{pair[1]}"
        yield f"{organization_id}\t{i}\tu{i}-tr\ttranslation_characters\t{chars}\t{who}\ttranslate\tnllb\t{end:.3f}\n"


def _copy(connection: psycopg.Connection[tuple[object, ...]], target: str, lines: Iterator[str]) -> None:
    with connection.cursor() as cursor, cursor.copy(f"COPY {target} FROM STDIN") as copy:
        buffer: list[str] = []
        for line in lines:
            buffer.append(line)
            if len(buffer) >= 20_000:
                copy.write("".join(buffer))
                buffer.clear()
        if buffer:
            copy.write("".join(buffer))
