"""analytics rollups: calls, participants, quality and usage per organisation and hour (people also per day),
filled from the raw rows

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 14:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from control_plane.migrations.rollup_tables import PEOPLE, QUALITY, Dimensions, Measures, create_rollups

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES: dict[str, tuple[Dimensions, Measures]] = {
    "call_rollup": (
        (("call_type", 32),),
        (("calls", sa.Integer(), False), ("seconds", sa.Float(), False), ("max_participants", sa.Integer(), False)),
    ),
    "participant_rollup": ((("identity", 200),), PEOPLE),
    "participant_day_rollup": ((("identity", 200),), PEOPLE),
    "quality_rollup": ((("connection_type", 32), ("media", 8), ("direction", 8)), QUALITY),
    "quality_participant_rollup": ((("participant", 200),), QUALITY),
    "quality_participant_day_rollup": ((("participant", 200),), QUALITY),
    "usage_rollup": (
        (("metric", 32), ("feature", 50), ("provider", 100)),
        (("events", sa.Integer(), False), ("quantity", sa.Float(), False)),
    ),
}


def upgrade() -> None:
    create_rollups(_TABLES)


def downgrade() -> None:
    for name in reversed(list(_TABLES)):
        op.drop_table(name)
