"""per-person rollups by 7-day block (a 30-day period reads about four rows a person, not thirty), filled from
the raw rows

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 17:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from control_plane.migrations.rollup_tables import PEOPLE, QUALITY, Dimensions, Measures, create_rollups

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES: dict[str, tuple[Dimensions, Measures]] = {
    "participant_week_rollup": ((("identity", 200),), PEOPLE),
    "quality_participant_week_rollup": ((("participant", 200),), QUALITY),
}


def upgrade() -> None:
    create_rollups(_TABLES)


def downgrade() -> None:
    for name in reversed(list(_TABLES)):
        op.drop_table(name)
