"""billing: subscriptions, overage charges (exactly-once bookkeeping), invoices, processed Stripe events

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-27 07:39:51.482580
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "billing_invoice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("stripe_invoice_id", sa.String(length=255), nullable=False),
        sa.Column("stripe_subscription_id", sa.String(length=255), nullable=True),
        sa.Column("number", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=8), nullable=False),
        sa.Column("subtotal_cents", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("amount_due_cents", sa.Integer(), nullable=False),
        sa.Column("amount_paid_cents", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("hosted_invoice_url", sa.String(length=2000), nullable=True),
        sa.Column("invoice_pdf", sa.String(length=2000), nullable=True),
        sa.Column("payment_failed", sa.Boolean(), nullable=False),
        sa.Column("stripe_created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("stripe_invoice_id"),
    )
    with op.batch_alter_table("billing_invoice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_billing_invoice_organization_id"), ["organization_id"], unique=False)

    op.create_table(
        "billing_overage_charge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("plan", sa.String(length=32), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("included", sa.Integer(), nullable=False),
        sa.Column("overage", sa.Integer(), nullable=False),
        sa.Column("unit_amount_cents", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("stripe_invoice_item_id", sa.String(length=255), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pushed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
        sa.UniqueConstraint("organization_id", "period", "metric"),
    )
    with op.batch_alter_table("billing_overage_charge", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_billing_overage_charge_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "billing_stripe_event",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "billing_subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("plan", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("stripe_customer_id", sa.String(length=255), nullable=True),
        sa.Column("stripe_subscription_id", sa.String(length=255), nullable=True),
        sa.Column("custom_price_cents", sa.Integer(), nullable=True),
        sa.Column("custom_call_minutes", sa.Integer(), nullable=True),
        sa.Column("custom_ai_calls", sa.Integer(), nullable=True),
        sa.Column("current_period_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("current_period_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_at_period_end", sa.Boolean(), nullable=False),
        sa.Column("canceled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organization_id"),
    )
    with op.batch_alter_table("billing_subscription", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_billing_subscription_stripe_customer_id"), ["stripe_customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_billing_subscription_stripe_subscription_id"), ["stripe_subscription_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("billing_subscription", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_billing_subscription_stripe_subscription_id"))
        batch_op.drop_index(batch_op.f("ix_billing_subscription_stripe_customer_id"))

    op.drop_table("billing_subscription")
    op.drop_table("billing_stripe_event")
    with op.batch_alter_table("billing_overage_charge", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_billing_overage_charge_organization_id"))

    op.drop_table("billing_overage_charge")
    with op.batch_alter_table("billing_invoice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_billing_invoice_organization_id"))

    op.drop_table("billing_invoice")
