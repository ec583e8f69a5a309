"""Redaction replaces what names the person, and nothing that merely looks like one of their ids."""

from __future__ import annotations

from control_plane.audit.models import AuditEntry
from control_plane.compliance.audit_trail import _redacted
from control_plane.compliance.pseudonyms import Pseudonymizer, is_pseudonym
from control_plane.compliance.redaction import redact_json, redact_text
from control_plane.compliance.subjects import Subject, user_identities

PSEUDONYMS = Pseudonymizer(b"k" * 32)
ZED = Subject(
    user_id=2,
    emails=frozenset({"zed@example.com"}),
    identities=frozenset(user_identities(2, "zed@example.com") | {"zeddy"}),
    names=frozenset({"Zed Zedson"}),
)


def test_e_mails_identities_and_the_accounts_name_are_replaced_even_inside_json() -> None:
    value = {
        "email": "ZED@example.com",
        "name": "Zed Zedson",
        "note": "ask zed@example.com",
        "who": ["zeddy", "user-2"],
        "nested": {"user_id": 2, "name": "Zed Zedson"},
        "other": {"name": "Zed Zedson", "email": "someone@example.com"},
    }
    redacted = redact_json(value, ZED, PSEUDONYMS)
    assert is_pseudonym(redacted["email"]) and is_pseudonym(redacted["name"])
    assert redacted["note"].startswith("ask erased-") and "zed@" not in redacted["note"]
    assert all(is_pseudonym(w) for w in redacted["who"])
    assert is_pseudonym(redacted["nested"]["name"]) and redacted["nested"]["user_id"] == 2
    assert redacted["other"] == {"name": "Zed Zedson", "email": "someone@example.com"}  # someone else's record
    assert redact_json(value, ZED, PSEUDONYMS) == redacted  # stable


def test_a_bare_number_is_only_an_id_where_the_column_says_so() -> None:
    assert redact_text("2", ZED, PSEUDONYMS) == "2"
    assert redact_json({"seat": "2"}, ZED, PSEUDONYMS) == {"seat": "2"}
    about_a_request = AuditEntry(
        action="compliance.erasure.request", resource_type="compliance_request", resource_id="2"
    )
    assert "resource_id" not in _redacted(about_a_request, ZED, PSEUDONYMS)
    about_the_account = AuditEntry(action="user.update", resource_type="user", resource_id="2")
    assert is_pseudonym(str(_redacted(about_the_account, ZED, PSEUDONYMS)["resource_id"]))


def test_pseudonyms_depend_on_the_key() -> None:
    assert PSEUDONYMS.of("zeddy") == PSEUDONYMS.of("zeddy") != Pseudonymizer(b"q" * 32).of("zeddy")
    assert PSEUDONYMS.email("Zed@Example.com").endswith("@erased.invalid")
