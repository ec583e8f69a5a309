"""MOS bands in the quality rollup: how many samples fall in each band an hour (the overview's distribution),
filled from the raw rows

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 18:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from control_plane.migrations.rollup_tables import MOS_BANDS, add_measures

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_measures("quality_rollup", MOS_BANDS)


def downgrade() -> None:
    with op.batch_alter_table("quality_rollup") as table:
        for column, _, _ in reversed(MOS_BANDS):
            table.drop_column(column)
