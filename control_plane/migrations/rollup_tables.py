"""The shape of a rollup table, shared by the migrations that create or extend them (0005, 0006, 0008).

A frozen copy of the columns, not the models: a later change to a model must not change what an old
migration created.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

Dimensions = tuple[tuple[str, int], ...]
Measures = tuple[tuple[str, Any, bool], ...]
QUALITY: Measures = (
    ("samples", sa.Integer(), False),
    ("rtt_sum", sa.Float(), False),
    ("rtt_samples", sa.Integer(), False),
    ("rtt_max", sa.Float(), True),
    ("jitter_sum", sa.Float(), False),
    ("jitter_max", sa.Float(), True),
    ("loss_sum", sa.Float(), False),
    ("mos_sum", sa.Float(), False),
    ("mos_min", sa.Float(), True),
    ("bitrate_sum", sa.Float(), False),
)
MOS_BANDS: Measures = tuple(
    (name, sa.Integer(), False) for name in ("mos_1_2", "mos_2_3", "mos_3_36", "mos_36_4", "mos_4_45")
)
PEOPLE: Measures = (("joins", sa.Integer(), False), ("calls", sa.Integer(), False), ("seconds", sa.Float(), False))


def create_rollups(tables: dict[str, tuple[Dimensions, Measures]]) -> None:
    """Create each rollup table (keyed by organisation, hour and its dimensions), then fill them all from the
    raw rows already stored, by the application's own query."""
    for name, (dimensions, measures) in tables.items():
        op.create_table(
            name,
            sa.Column("organization_id", sa.Integer(), autoincrement=False, nullable=False),
            sa.Column("hour", sa.BigInteger(), autoincrement=False, nullable=False),
            *(sa.Column(column, sa.String(length=length), nullable=False) for column, length in dimensions),
            *(sa.Column(column, kind, nullable=nullable) for column, kind, nullable in measures),
            sa.ForeignKeyConstraint(["organization_id"], ["organization.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("organization_id", "hour", *(column for column, _ in dimensions)),
        )
    from control_plane.telemetry.rollups import rebuild

    for name, (_, measures) in tables.items():
        # only the columns created here: the application's rollup may have gained some since
        rebuild(op.get_bind(), specs=[_spec(name)], measures={column for column, _, _ in measures})


def add_measures(table: str, measures: Measures) -> None:
    """Add measures to a rollup table (zero where no raw row is left to count), then fill them from the raw rows
    already stored, by the application's own query."""
    from control_plane.telemetry.rollups import backfill

    for column, kind, nullable in measures:
        op.add_column(table, sa.Column(column, kind, nullable=nullable, server_default=sa.text("0")))
    backfill(op.get_bind(), _spec(table), [column for column, _, _ in measures])


def _spec(table: str) -> Any:
    from control_plane.telemetry.rollups import SPECS

    return next(spec for spec in SPECS if spec.table.name == table)
