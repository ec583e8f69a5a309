"""analytics rollups: calls, participants, quality and usage per organisation and hour (people also per day),
filled from the raw rows

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 14:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Dimensions = tuple[tuple[str, int], ...]
Measures = tuple[tuple[str, Any, bool], ...]
_QUALITY: Measures = (
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
_TABLES: dict[str, tuple[Dimensions, Measures]] = {
    "call_rollup": (
        (("call_type", 32),),
        (("calls", sa.Integer(), False), ("seconds", sa.Float(), False), ("max_participants", sa.Integer(), False)),
    ),
    "participant_rollup": (
        (("identity", 200),),
        (("joins", sa.Integer(), False), ("calls", sa.Integer(), False), ("seconds", sa.Float(), False)),
    ),
    "participant_day_rollup": (
        (("identity", 200),),
        (("joins", sa.Integer(), False), ("calls", sa.Integer(), False), ("seconds", sa.Float(), False)),
    ),
    "quality_rollup": ((("connection_type", 32), ("media", 8), ("direction", 8)), _QUALITY),
    "quality_participant_rollup": ((("participant", 200),), _QUALITY),
    "quality_participant_day_rollup": ((("participant", 200),), _QUALITY),
    "usage_rollup": (
        (("metric", 32), ("feature", 50), ("provider", 100)),
        (("events", sa.Integer(), False), ("quantity", sa.Float(), False)),
    ),
}


def upgrade() -> None:
    for name, (dimensions, measures) in _TABLES.items():
        op.create_table(
            name,
            sa.Column("organization_id", sa.Integer(), autoincrement=False, nullable=False),
            sa.Column("hour", sa.BigInteger(), autoincrement=False, nullable=False),
            *(sa.Column(column, sa.String(length=length), nullable=False) for column, length in dimensions),
            *(sa.Column(column, kind, nullable=nullable) for column, kind, nullable in measures),
            sa.ForeignKeyConstraint(["organization_id"], ["organization.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("organization_id", "hour", *(column for column, _ in dimensions)),
        )
    _backfill()


def _backfill() -> None:
    """The rollups of the history already stored, aggregated from its raw rows by the application's own query."""
    from control_plane.telemetry.rollups import SPECS, rebuild

    rebuild(op.get_bind(), specs=[spec for spec in SPECS if spec.table.name in _TABLES])


def downgrade() -> None:
    for name in reversed(list(_TABLES)):
        op.drop_table(name)
