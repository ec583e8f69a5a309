"""per-person rollups by 7-day block (a 30-day period reads about four rows a person, not thirty), filled from
the raw rows

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 17:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_QUALITY: tuple[tuple[str, Any, bool], ...] = (
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
_TABLES: dict[str, tuple[str, tuple[tuple[str, Any, bool], ...]]] = {
    "participant_week_rollup": (
        "identity",
        (("joins", sa.Integer(), False), ("calls", sa.Integer(), False), ("seconds", sa.Float(), False)),
    ),
    "quality_participant_week_rollup": ("participant", _QUALITY),
}


def upgrade() -> None:
    for name, (person, measures) in _TABLES.items():
        op.create_table(
            name,
            sa.Column("organization_id", sa.Integer(), autoincrement=False, nullable=False),
            sa.Column("hour", sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column(person, sa.String(length=200), nullable=False),
            *(sa.Column(column, kind, nullable=nullable) for column, kind, nullable in measures),
            sa.ForeignKeyConstraint(["organization_id"], ["organization.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("organization_id", "hour", person),
        )
    from control_plane.telemetry.rollups import SPECS, rebuild

    rebuild(op.get_bind(), specs=[spec for spec in SPECS if spec.table.name in _TABLES])


def downgrade() -> None:
    for name in reversed(list(_TABLES)):
        op.drop_table(name)
