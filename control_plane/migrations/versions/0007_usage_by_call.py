"""usage events by call: an index on usage_event.call_id, for one call's usage (a call's page)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 17:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_usage_event_call", "usage_event", ["call_id"])


def downgrade() -> None:
    op.drop_index("ix_usage_event_call", table_name="usage_event")
