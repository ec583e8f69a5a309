"""Hourly rollups of the raw telemetry, kept in step with it inside the ingestion transaction.

Each rollup table holds, per organisation, hour (Unix seconds of its start, UTC) and the
dimensions the analytics group by, the sums, counts and extremes that every figure is made
of. :class:`RollupDelta` gathers what one batch adds (only records stored now, so a replayed
or duplicate record adds nothing) and :meth:`RollupDelta.write` adds it with one upsert per
table, before the batch commits: a rollup can neither miss nor double a record.

:func:`raw_source` is the other definition of the same numbers, aggregated from the raw rows;
analytics read it for the open edges of a period, the migration and the benchmark loader fill
the rollups from it, and the tests compare the two.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    ForeignKey,
    Integer,
    Select,
    Table,
    bindparam,
    case,
    exists,
    func,
    literal,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased
from sqlmodel import Field, Session, SQLModel

from control_plane.analytics.sql import floor_div
from control_plane.db.types import columns
from control_plane.telemetry.models import Call, CallParticipant, QualitySampleRecord, UsageRecord

HOUR_S = 3600
DAY_S = 86400
WEEK_S = 7 * DAY_S
"""Weeks of the per-person rollups are 7-day blocks from the epoch (Thursdays): any alignment nests days."""
Merge = Literal["sum", "max", "min"]


def hour_of(at: float, grain: int = HOUR_S) -> int:
    """The start of ``at``'s hour (or day), computed exactly as :func:`hour_column` computes it in SQL."""
    return math.floor(at / grain) * grain


def hour_column(at: Any, dialect: str, grain: int = HOUR_S) -> ColumnElement[Any]:
    return floor_div(at, grain, dialect) * grain


def _hour() -> Any:
    return Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))


def _organization() -> Any:
    return Field(
        sa_column=Column(
            Integer,
            ForeignKey("organization.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        )
    )


class CallRollup(SQLModel, table=True):
    """Calls by the hour they started in: how many, their seconds so far, the largest one."""

    __tablename__ = "call_rollup"
    organization_id: int = _organization()
    hour: int = _hour()
    call_type: str = Field(primary_key=True, max_length=32)
    calls: int = 0
    seconds: float = 0.0
    max_participants: int = 0


class ParticipantTotals(SQLModel):
    joins: int = 0
    calls: int = 0
    """Calls this identity joined for the first time in this hour (a rejoin is not another call)."""
    seconds: float = 0.0


class ParticipantRollup(ParticipantTotals, table=True):
    """Participants by identity and the hour they joined in."""

    __tablename__ = "participant_rollup"
    organization_id: int = _organization()
    hour: int = _hour()
    identity: str = Field(primary_key=True, max_length=200)


class ParticipantDayRollup(ParticipantTotals, table=True):
    """:class:`ParticipantRollup` by day (``hour`` is the day's start): one row per person a day, not an hour."""

    __tablename__ = "participant_day_rollup"
    organization_id: int = _organization()
    hour: int = _hour()
    identity: str = Field(primary_key=True, max_length=200)


class ParticipantWeekRollup(ParticipantTotals, table=True):
    """:class:`ParticipantRollup` by 7-day block (``hour`` is the block's start): a 30-day period reads about four
    rows per person instead of thirty."""

    __tablename__ = "participant_week_rollup"
    organization_id: int = _organization()
    hour: int = _hour()
    identity: str = Field(primary_key=True, max_length=200)


class QualityTotals(SQLModel):
    samples: int = 0
    rtt_sum: float = 0.0
    rtt_samples: int = 0
    rtt_max: float | None = None
    jitter_sum: float = 0.0
    jitter_max: float | None = None
    loss_sum: float = 0.0
    mos_sum: float = 0.0
    mos_min: float | None = None
    bitrate_sum: float = 0.0


class QualityRollup(QualityTotals, table=True):
    """Quality by connection type, media and direction, with how many samples fall in each MOS band (the
    overview's distribution: the per-person quality rollups leave those out)."""

    __tablename__ = "quality_rollup"
    organization_id: int = _organization()
    hour: int = _hour()
    connection_type: str = Field(primary_key=True, max_length=32)
    media: str = Field(primary_key=True, max_length=8)
    direction: str = Field(primary_key=True, max_length=8)
    mos_1_2: int = 0
    mos_2_3: int = 0
    mos_3_36: int = 0
    mos_36_4: int = 0
    mos_4_45: int = 0


class QualityParticipantRollup(QualityTotals, table=True):
    __tablename__ = "quality_participant_rollup"
    organization_id: int = _organization()
    hour: int = _hour()
    participant: str = Field(primary_key=True, max_length=200)


class QualityParticipantDayRollup(QualityTotals, table=True):
    """:class:`QualityParticipantRollup` by day (``hour`` is the day's start)."""

    __tablename__ = "quality_participant_day_rollup"
    organization_id: int = _organization()
    hour: int = _hour()
    participant: str = Field(primary_key=True, max_length=200)


class QualityParticipantWeekRollup(QualityTotals, table=True):
    """:class:`QualityParticipantRollup` by 7-day block (``hour`` is the block's start)."""

    __tablename__ = "quality_participant_week_rollup"
    organization_id: int = _organization()
    hour: int = _hour()
    participant: str = Field(primary_key=True, max_length=200)


class UsageRollup(SQLModel, table=True):
    __tablename__ = "usage_rollup"
    organization_id: int = _organization()
    hour: int = _hour()
    metric: str = Field(primary_key=True, max_length=32)
    feature: str = Field(primary_key=True, max_length=50)
    provider: str = Field(primary_key=True, max_length=100)
    events: int = 0
    quantity: float = 0.0


QUALITY_MEASURES: dict[str, Merge] = {
    "samples": "sum",
    "rtt_sum": "sum",
    "rtt_samples": "sum",
    "rtt_max": "max",
    "jitter_sum": "sum",
    "jitter_max": "max",
    "loss_sum": "sum",
    "mos_sum": "sum",
    "mos_min": "min",
    "bitrate_sum": "sum",
}
MOS_BANDS: dict[str, float] = {"mos_1_2": 1.0, "mos_2_3": 2.0, "mos_3_36": 3.0, "mos_36_4": 3.6, "mos_4_45": 4.0}
"""Each MOS band's column and lower bound; a sample is in the highest band it reaches (below 1, in the first)."""
_BAND_MEASURES: dict[str, Merge] = dict.fromkeys(MOS_BANDS, "sum")


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one object per table
class RollupSpec:
    """One rollup table: its dimensions (after organisation and hour) and how each measure merges."""

    model: type[SQLModel]
    dimensions: tuple[str, ...]
    measures: dict[str, Merge]
    grain: int = HOUR_S
    coarser: RollupSpec | None = None
    """The same rollup by a longer block (hour → day → week), for dimensions with many values (people): a
    period reads each whole block inside it as one row a person."""
    hourly: RollupSpec | None = None
    """For a coarser rollup: the hourly one it copies (and whose raw rows it aggregates)."""

    @property
    def table(self) -> Table:
        return columns(self.model).organization_id.table  # type: ignore[no-any-return]

    @property
    def keys(self) -> tuple[str, ...]:
        return ("organization_id", "hour", *self.dimensions)


def _with_coarser(hourly: RollupSpec, *blocks: tuple[int, type[SQLModel]]) -> RollupSpec:
    """``hourly`` chained to rollups of the same rows by each of ``blocks`` (grain, model), finest first."""
    finer = hourly
    for grain, model in blocks:
        coarser = RollupSpec(model, hourly.dimensions, hourly.measures, grain, hourly=hourly)
        object.__setattr__(finer, "coarser", coarser)
        finer = coarser
    return hourly


def chain(spec: RollupSpec) -> Iterator[RollupSpec]:
    """``spec`` and its coarser rollups, finest first."""
    step: RollupSpec | None = spec
    while step is not None:
        yield step
        step = step.coarser


_PEOPLE_MEASURES: dict[str, Merge] = {"joins": "sum", "calls": "sum", "seconds": "sum"}
CALLS = RollupSpec(CallRollup, ("call_type",), {"calls": "sum", "seconds": "sum", "max_participants": "max"})
PARTICIPANTS = _with_coarser(
    RollupSpec(ParticipantRollup, ("identity",), _PEOPLE_MEASURES),
    (DAY_S, ParticipantDayRollup),
    (WEEK_S, ParticipantWeekRollup),
)
QUALITY = RollupSpec(
    QualityRollup,
    ("connection_type", "media", "direction"),
    QUALITY_MEASURES | _BAND_MEASURES,
)
QUALITY_BY_PARTICIPANT = _with_coarser(
    RollupSpec(QualityParticipantRollup, ("participant",), QUALITY_MEASURES),
    (DAY_S, QualityParticipantDayRollup),
    (WEEK_S, QualityParticipantWeekRollup),
)
USAGE = RollupSpec(UsageRollup, ("metric", "feature", "provider"), {"events": "sum", "quantity": "sum"})
SPECS = tuple(
    spec for hourly in (CALLS, PARTICIPANTS, QUALITY, QUALITY_BY_PARTICIPANT, USAGE) for spec in chain(hourly)
)


def _merged(kind: Merge, old: Any, new: Any) -> Any:
    if old is None:
        return new
    if new is None:
        return old
    if kind == "sum":
        return old + new
    return max(old, new) if kind == "max" else min(old, new)


def _merged_sql(kind: Merge, old: Any, new: Any) -> Any:
    """The same merge in SQL (GREATEST/LEAST differ between the databases on NULL, so CASE)."""
    if kind == "sum":
        return old + new
    wins = new > old if kind == "max" else new < old
    return case((new.is_(None), old), (old.is_(None), new), (wins, new), else_=old)


@dataclass
class RollupDelta:
    """What one batch adds to the rollups, merged in memory until :meth:`write`."""

    organization_id: int
    rows: dict[RollupSpec, dict[tuple[Any, ...], dict[str, Any]]] = field(default_factory=dict)

    def add(self, spec: RollupSpec, at: float, dimensions: Sequence[Any], **measures: Any) -> None:
        """Add to ``spec``'s row for ``at`` (and to its coarser rollups', if it has any)."""
        if spec.coarser is not None:
            self.add(spec.coarser, at, dimensions, **measures)
        key = (self.organization_id, hour_of(at, spec.grain), *dimensions)
        row = self.rows.setdefault(spec, {}).get(key)
        if row is None:
            self.rows[spec][key] = {name: measures.get(name, _nothing(spec, name)) for name in spec.measures}
            return
        for name, value in measures.items():
            row[name] = _merged(spec.measures[name], row[name], value)

    def write(self, db: Session) -> None:
        """Add everything gathered to the rollup tables (in the caller's transaction) and forget it."""
        dialect = db.get_bind().dialect.name
        connection = db.connection()
        for spec, rows in self.rows.items():
            # sorted: concurrent batches lock rows in one order; one cached statement, run for many rows
            ordered = [dict(zip(spec.keys, key, strict=True)) | values for key, values in sorted(rows.items())]
            connection.execute(_upsert(spec, dialect), ordered)
        self.rows.clear()


@functools.cache
def _upsert(spec: RollupSpec, dialect: str) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(spec.table)
    merges = {
        name: _merged_sql(kind, spec.table.c[name], statement.excluded[name]) for name, kind in spec.measures.items()
    }
    return statement.on_conflict_do_update(index_elements=list(spec.keys), set_=merges)


def add_stored(db: Session, delta: RollupDelta, model: type[SQLModel], ids: Iterable[int]) -> None:
    """Add the raw samples or usage events ``ids`` (just stored, in the caller's transaction) to ``delta``.

    The database aggregates them with the raw rows' own measures, by hour and every dimension of the
    rollups they feed at once (a batch of thousands of samples comes back as a row per participant,
    connection, media and direction an hour), and ``delta`` merges those into each rollup."""
    ids = list(ids)
    if not ids:
        return
    for hour, *values in db.execute(_stored_figures(model, db.get_bind().dialect.name), {"ids": ids}):
        if model is UsageRecord:
            metric, feature, provider, *figures = values
            delta.add(USAGE, hour, (metric, feature, provider), **dict(zip(USAGE.measures, figures, strict=True)))
            continue
        connection_type, media, direction, participant, *figures = values
        measures = dict(zip(QUALITY.measures, figures, strict=True))
        delta.add(QUALITY, hour, (connection_type, media, direction), **measures)
        delta.add(QUALITY_BY_PARTICIPANT, hour, (participant,), **{name: measures[name] for name in QUALITY_MEASURES})


@functools.cache
def _stored_figures(model: type[SQLModel], dialect: str) -> Select[Any]:
    """The figures of the rows whose ids are bound as ``ids``, by hour and the dimensions of their rollups."""
    spec = USAGE if model is UsageRecord else QUALITY
    time, dimensions, measures, _ = _raw_columns(spec)
    c = columns(model)
    if model is QualitySampleRecord:
        dimensions = [*dimensions, c.participant]
    if dialect == "postgresql":  # one array parameter, not one parameter a row
        stored = c.id == func.any(bindparam("ids", type_=postgresql.ARRAY(BigInteger)))
    else:
        stored = c.id.in_(bindparam("ids", expanding=True))
    hour = hour_column(time, dialect)
    # by id alone: the organisation's index would bring every row it holds into the plan (ids are its own)
    return select(hour, *dimensions, *measures.values()).where(stored).group_by(hour, *dimensions)


def rename(db: Session, table: Table, where: ColumnElement[bool], column: str, old: str, new: str) -> int | None:
    """Erasure's rename of a person in a rollup ``table``: their rows are merged into those already under
    ``new`` (a pseudonym may hold rows from records that arrived after an earlier erasure). ``None`` when
    ``table`` is not a rollup."""
    spec = next((spec for spec in SPECS if spec.table is table), None)
    if spec is None:
        return None
    keys = [table.c[key] if key != column else literal(new, table.c[key].type).label(key) for key in spec.keys]
    moved = select(*keys, *(table.c[name] for name in spec.measures)).where(where, table.c[column] == old)
    statement = _upsert_from(spec, db.get_bind().dialect.name, moved)
    db.execute(statement)
    return int(db.execute(table.delete().where(where, table.c[column] == old)).rowcount)  # type: ignore[attr-defined]


def _upsert_from(spec: RollupSpec, dialect: str, rows: Select[Any]) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(spec.table).from_select([*spec.keys, *spec.measures], rows)
    merges = {
        name: _merged_sql(kind, spec.table.c[name], statement.excluded[name]) for name, kind in spec.measures.items()
    }
    return statement.on_conflict_do_update(index_elements=list(spec.keys), set_=merges)


def _nothing(spec: RollupSpec, measure: str) -> Any:
    """What a measure starts from: no value for an extreme that may have none, else zero."""
    return None if spec.table.c[measure].nullable else 0


# --- the same figures from the raw rows -------------------------------------------------------------------------

Window = tuple[float | None, float | None, int | None, int | None]
"""``(since, until, first_hour, end_hour)``: raw rows with ``since <= at < until`` whose hour is in
``[first_hour, end_hour)`` (``None``: unbounded)."""


def raw_source(
    spec: RollupSpec,
    organization_id: int | None,
    window: Window,
    dialect: str,
    where: Sequence[ColumnElement[bool]] = (),
    measures: Sequence[str] | None = None,
) -> Select[Any]:
    """The rollup rows ``spec``'s table would hold for the raw rows in ``window`` (and ``where``, conditions
    on the raw table), aggregated from them: every measure, or only ``measures``."""
    time, dimensions, aggregates, model = _raw_columns(spec.hourly or spec)
    hour = hour_column(time, dialect, spec.grain)
    since, until, first_hour, end_hour = window
    conditions: list[ColumnElement[bool]] = list(where)
    if organization_id is not None:
        conditions.append(columns(model).organization_id == organization_id)
    if since is not None:
        conditions.append(time >= since)
    if until is not None:
        conditions.append(time < until)
    if first_hour is not None:
        conditions.append(hour >= first_hour)
    if end_hour is not None:
        conditions.append(hour < end_hour)
    organization = columns(model).organization_id
    groups = [organization, hour, *dimensions]
    labelled = [organization.label("organization_id"), hour.label("hour")]
    labelled += [d.label(n) for n, d in zip(spec.dimensions, dimensions, strict=True)]
    labelled += [aggregates[name].label(name) for name in (spec.measures if measures is None else measures)]
    return select(*labelled).where(*conditions).group_by(*groups)


def _raw_columns(spec: RollupSpec) -> tuple[Any, list[Any], dict[str, ColumnElement[Any]], type[SQLModel]]:
    if spec is CALLS:
        c = columns(Call)
        seconds = func.coalesce(func.sum(func.coalesce(c.ended_at, c.started_at) - c.started_at), 0.0)
        return (
            c.started_at,
            [c.call_type],
            {"calls": func.count(), "seconds": seconds, "max_participants": func.max(c.peak_participants)},
            Call,
        )
    if spec is PARTICIPANTS:
        p = columns(CallParticipant)
        earlier = aliased(CallParticipant)
        first_join = ~exists().where(
            earlier.call_id == p.call_id,
            earlier.identity == p.identity,
            earlier.id < p.id,
        )
        seconds = func.coalesce(func.sum(func.coalesce(p.left_at, p.joined_at) - p.joined_at), 0.0)
        calls = func.coalesce(func.sum(case((first_join, 1), else_=0)), 0)
        return p.joined_at, [p.identity], {"joins": func.count(), "calls": calls, "seconds": seconds}, CallParticipant
    if spec is USAGE:
        u = columns(UsageRecord)
        measures: dict[str, ColumnElement[Any]] = {
            "events": func.count(),
            "quantity": func.coalesce(func.sum(u.quantity), 0.0),
        }
        return u.at, [u.metric, u.feature, u.provider], measures, UsageRecord
    q = columns(QualitySampleRecord)
    if spec is QUALITY:
        dimensions = [q.connection_type, q.media, q.direction]
        return q.at, dimensions, _quality_measures(q) | _band_counts(q), QualitySampleRecord
    return q.at, [q.participant], _quality_measures(q), QualitySampleRecord


def _band_counts(q: Any) -> dict[str, ColumnElement[Any]]:
    """How many samples fall in each of :data:`MOS_BANDS`."""
    lows = list(MOS_BANDS.items())
    band = case(*((q.mos >= low, name) for name, low in reversed(lows[1:])), else_=lows[0][0])
    return {name: func.sum(case((band == name, 1), else_=0)) for name in MOS_BANDS}


def _quality_measures(q: Any) -> dict[str, ColumnElement[Any]]:
    return {
        "samples": func.count(),
        "rtt_sum": func.coalesce(func.sum(q.rtt_ms), 0.0),
        "rtt_samples": func.count(q.rtt_ms),
        "rtt_max": func.max(q.rtt_ms),
        "jitter_sum": func.coalesce(func.sum(q.jitter_ms), 0.0),
        "jitter_max": func.max(q.jitter_ms),
        "loss_sum": func.coalesce(func.sum(q.loss_fraction), 0.0),
        "mos_sum": func.coalesce(func.sum(q.mos), 0.0),
        "mos_min": func.min(q.mos),
        "bitrate_sum": func.coalesce(func.sum(q.bitrate_kbps), 0.0),
    }


def rebuild(
    connection: Connection,
    organization_id: int | None = None,
    specs: Iterable[RollupSpec] = SPECS,
    measures: Collection[str] | None = None,
) -> None:
    """Fill the rollups from the raw rows (of one organisation, or all), replacing what they held; ``measures``:
    only those of each table's measures (a migration fills the columns its table had then)."""
    dialect = connection.dialect.name
    for spec in specs:
        table = spec.table
        clear = table.delete()
        if organization_id is not None:
            clear = clear.where(table.c.organization_id == organization_id)
        connection.execute(clear)
        names = [name for name in spec.measures if measures is None or name in measures]
        source = raw_source(spec, organization_id, (None, None, None, None), dialect, measures=names)
        # no column defaults added: a migration's table has only the columns named
        connection.execute(table.insert().from_select([*spec.keys, *names], source, include_defaults=False))


def backfill(connection: Connection, spec: RollupSpec, measures: Sequence[str]) -> None:
    """Set ``measures`` (columns just added to ``spec``'s table) on its rows from the raw rows they hold. Rows
    whose raw rows retention has deleted keep what the columns started from."""
    table = spec.table
    source = raw_source(spec, None, (None, None, None, None), connection.dialect.name, measures=measures)
    rows = [dict(row._mapping) for row in connection.execute(source)]
    if not rows:
        return
    keyed = table.update().where(*(table.c[key] == bindparam(f"key_{key}") for key in spec.keys))
    values: dict[str, Any] = {name: bindparam(f"new_{name}") for name in measures}
    parameters = [
        {f"key_{key}": row[key] for key in spec.keys} | {f"new_{name}": row[name] for name in measures} for row in rows
    ]
    connection.execute(keyed.values(values), parameters)
