"""Custom reports: a saved definition over named dimensions and measures, turned into SQL by us.

A definition only ever names things from the tables below; values go in as bound
parameters. Nothing a user writes becomes SQL text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, model_validator
from sqlalchemy import func, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from control_plane.analytics.models import Report
from control_plane.analytics.pricing import cost_of
from control_plane.analytics.sources import Span, count_of, source
from control_plane.analytics.sql import Granularity, bucket
from control_plane.audit.service import record, snapshot
from control_plane.principals import Tenant
from control_plane.schemas import Input, Name, Text
from control_plane.telemetry.models import Call, QualitySampleRecord, UsageRecord
from control_plane.telemetry.rollups import CALLS, QUALITY, USAGE, RollupSpec

Q, U = QualitySampleRecord, UsageRecord


Measure = Callable[[Any], ColumnElement[Any]]
"""A measure over the columns of a rollup-shaped source (its ``.c``)."""


@dataclass(frozen=True)
class Dataset:
    model: Any
    time: Any
    dimensions: dict[str, Any]
    measures: dict[str, ColumnElement[Any]]
    rollup: RollupSpec
    rolled_up: dict[str, Measure]
    """The same measures from the rollup's sums (its dimensions are the rollup's)."""


def _mean(total: str, count: str = "samples") -> Measure:
    return lambda c: func.sum(c[total]) / func.nullif(func.sum(c[count]), 0)


DATASETS: dict[str, Dataset] = {
    "calls": Dataset(
        Call,
        col(Call.started_at),
        {"call_type": col(Call.call_type), "room": col(Call.room)},
        {
            "calls": func.count(),
            "minutes": func.coalesce(
                func.sum(func.coalesce(col(Call.ended_at), col(Call.started_at)) - col(Call.started_at)), 0
            )
            / 60.0,
            "max_participants": func.max(col(Call.peak_participants)),
        },
        CALLS,
        {
            "calls": lambda c: count_of(c.calls),
            "minutes": lambda c: func.coalesce(func.sum(c.seconds), 0) / 60.0,
            "max_participants": lambda c: func.max(c.max_participants),
        },
    ),
    "quality": Dataset(
        Q,
        col(Q.at),
        {
            "connection_type": col(Q.connection_type),
            "media": col(Q.media),
            "direction": col(Q.direction),
            "participant": col(Q.participant),
            "call_id": col(Q.call_id),
        },
        {
            "samples": func.count(),
            "avg_mos": func.avg(col(Q.mos)),
            "min_mos": func.min(col(Q.mos)),
            "avg_jitter_ms": func.avg(col(Q.jitter_ms)),
            "max_jitter_ms": func.max(col(Q.jitter_ms)),
            "avg_latency_ms": func.avg(col(Q.rtt_ms)),
            "max_latency_ms": func.max(col(Q.rtt_ms)),
            "avg_loss": func.avg(col(Q.loss_fraction)),
            "avg_bitrate_kbps": func.avg(col(Q.bitrate_kbps)),
        },
        QUALITY,
        {
            "samples": lambda c: count_of(c.samples),
            "avg_mos": _mean("mos_sum"),
            "min_mos": lambda c: func.min(c.mos_min),
            "avg_jitter_ms": _mean("jitter_sum"),
            "max_jitter_ms": lambda c: func.max(c.jitter_max),
            "avg_latency_ms": _mean("rtt_sum", "rtt_samples"),
            "max_latency_ms": lambda c: func.max(c.rtt_max),
            "avg_loss": _mean("loss_sum"),
            "avg_bitrate_kbps": _mean("bitrate_sum"),
        },
    ),
    "usage": Dataset(
        U,
        col(U.at),
        {
            "metric": col(U.metric),
            "feature": col(U.feature),
            "provider": col(U.provider),
            "participant": col(U.participant),
        },
        {
            "events": func.count(),
            "quantity": func.sum(col(U.quantity)),
            "cost_usd": func.sum(cost_of(col(U.metric), col(U.quantity))),
        },
        USAGE,
        {
            "events": lambda c: count_of(c.events),
            "quantity": lambda c: func.sum(c.quantity),
            "cost_usd": lambda c: func.sum(cost_of(c.metric, c.quantity)),
        },
    ),
}


class ReportDefinition(Input):
    """What a report shows: measures of one dataset, grouped by dimensions, over a time range."""

    dataset: Literal["calls", "quality", "usage"]
    measures: list[str] = Field(min_length=1, max_length=10)
    dimensions: list[str] = Field(default_factory=list, max_length=4)
    granularity: Granularity | None = None
    """Also group by day, week or month."""
    last_days: int | None = Field(30, ge=1, le=3660)
    """The time range: the last N days up to when the report runs (null = all time)."""
    filters: dict[str, Text] = Field(default_factory=dict, max_length=5)
    """Equality filters on dimensions, e.g. ``{"connection_type": "wifi"}``."""
    limit: int = Field(1000, ge=1, le=10_000)

    @model_validator(mode="after")
    def _known_names(self) -> ReportDefinition:
        dataset = DATASETS[self.dataset]
        for kind, names, known in (
            ("measure", self.measures, dataset.measures),
            ("dimension", self.dimensions, dataset.dimensions),
            ("filter", list(self.filters), dataset.dimensions),
        ):
            unknown = [name for name in names if name not in known]
            if unknown:
                raise ValueError(
                    f"unknown {kind} {', '.join(unknown)} for dataset {self.dataset}; known: {', '.join(known)}"
                )
        return self


class ReportCreate(Input):
    name: Name
    definition: ReportDefinition


@dataclass(frozen=True)
class ReportRun:
    rows: list[dict[str, Any]]
    source: Literal["rollups", "raw"]
    """``raw`` when a dimension or filter is one the hourly rollups do not keep (``note`` says which)."""
    note: str = ""


def run_report(
    db: Session,
    organization_id: int,
    definition: ReportDefinition,
    now: float | None = None,
    *,
    use_rollups: bool = True,
) -> ReportRun:
    """Run ``definition`` on the hourly rollups when its dimensions and filters allow, else on raw rows."""
    dataset = DATASETS[definition.dataset]
    since = None
    if definition.last_days is not None:
        since = (now or dt.datetime.now(dt.UTC).timestamp()) - definition.last_days * 86400
    beyond = sorted({*definition.dimensions, *definition.filters} - set(dataset.rollup.dimensions))
    if not use_rollups or beyond:
        note = f"read from raw rows: the hourly rollups do not keep {', '.join(beyond)}" if beyond else ""
        return ReportRun(_run_on_raw_rows(db, organization_id, definition, since), "raw", note)
    s = source(db, dataset.rollup, organization_id, Span(since, None))
    groups: list[ColumnElement[Any]] = [s.c[name].label(name) for name in definition.dimensions]
    if definition.granularity:
        groups.insert(0, bucket(s.c.hour, definition.granularity, db.get_bind().dialect.name).label("period"))
    query = select(*groups, *(dataset.rolled_up[name](s.c).label(name) for name in definition.measures))
    for name, value in definition.filters.items():
        query = query.where(s.c[name] == value)
    return ReportRun(_rows(db, query, groups, definition), "rollups")


def _run_on_raw_rows(
    db: Session, organization_id: int, definition: ReportDefinition, since: float | None
) -> list[dict[str, Any]]:
    dataset = DATASETS[definition.dataset]
    groups: list[ColumnElement[Any]] = [dataset.dimensions[name].label(name) for name in definition.dimensions]
    if definition.granularity:
        groups.insert(0, bucket(dataset.time, definition.granularity, db.get_bind().dialect.name).label("period"))
    measures = [dataset.measures[name].label(name) for name in definition.measures]
    query = (
        select(*groups, *measures)
        .select_from(dataset.model)
        .where(col(dataset.model.organization_id) == organization_id)
    )
    if since is not None:
        query = query.where(dataset.time >= since)
    for name, value in definition.filters.items():
        column = dataset.dimensions[name]
        query = query.where(column == (int(value) if name == "call_id" and value.isdigit() else value))
    return _rows(db, query, groups, definition)


def _rows(
    db: Session, query: Any, groups: list[ColumnElement[Any]], definition: ReportDefinition
) -> list[dict[str, Any]]:
    if groups:
        query = query.group_by(*groups).order_by(*groups)
    rows = db.execute(query.limit(definition.limit)).all()
    names = [g.name for g in groups] + definition.measures
    return [{name: _plain(name, value) for name, value in zip(names, row, strict=True)} for row in rows]


def _plain(name: str, value: Any) -> Any:
    if name == "period" and value is not None:
        return dt.datetime.fromtimestamp(float(value), dt.UTC).isoformat()
    if isinstance(value, float):
        return round(value, 6)
    return value if value is None or isinstance(value, int | str) else float(value)


def columns_of(definition: ReportDefinition) -> list[str]:
    return (["period"] if definition.granularity else []) + definition.dimensions + definition.measures


def save_report(db: Session, tenant: Tenant, data: ReportCreate) -> Report:
    """Store a report definition for the organisation; audited."""
    report = Report(
        organization_id=tenant.organization_id,
        name=data.name,
        definition=data.definition.model_dump(mode="json"),
        created_by=tenant.principal.user_id,
    )
    db.add(report)
    db.flush()
    record(db, tenant.audit, tenant.organization_id, "report.create", report, after=snapshot(report))
    db.commit()
    return report
