"""The personal-data registry covers every text and JSON column of every table."""

from __future__ import annotations

from sqlalchemy import Column, MetaData, String, Table

from control_plane.compliance.personal_data import REGISTRY, OnErasure, PersonalTable, undeclared
from control_plane.db.tables import metadata


def test_every_text_column_of_every_table_is_declared_personal_secret_or_not_personal() -> None:
    missing = undeclared(metadata)
    where = "control_plane/compliance/personal_data.py"
    assert missing == [], f"declare these columns in {where} (personal, secret or non_personal): {missing}"


def test_a_new_table_with_an_undeclared_text_column_is_caught() -> None:
    extra = MetaData()
    Table("billing_invoice", extra, Column("id", String(10), primary_key=True), Column("customer_email", String(320)))
    assert undeclared(extra) == ["billing_invoice.id", "billing_invoice.customer_email"]
    declared = {
        "billing_invoice": PersonalTable(
            "billing_invoice", OnErasure.KEEP, non_personal=frozenset({"id", "customer_email"})
        )
    }
    assert undeclared(extra, declared) == []


def test_registered_columns_exist() -> None:
    for name, entry in REGISTRY.items():
        table = metadata.tables[name]
        named = entry.declared() | set(entry.subject) | ({entry.organization_column} - {None})
        assert named <= set(table.columns.keys()), (name, named - set(table.columns.keys()))
