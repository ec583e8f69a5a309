"""Replacing what names a person, inside one text or JSON value, with pseudonyms."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import ColumnElement, String, cast, func, or_
from sqlalchemy.sql.elements import ColumnClause

from control_plane.compliance.pseudonyms import Pseudonymizer
from control_plane.compliance.subjects import Subject


def account_pseudonym(pseudonyms: Pseudonymizer, user_id: int) -> str:
    """The pseudonym that stands for an erased account's name (names are not unique, so not hashed alone)."""
    return pseudonyms.of(f"user:{user_id}")


def redact_text(text: str, subject: Subject, pseudonyms: Pseudonymizer) -> str:
    """``text`` with each identifier of ``subject`` replaced (whole values, and e-mails inside longer text)."""
    if text.lower() in subject.emails:
        return pseudonyms.email(text)
    if text in subject.strings():
        return pseudonyms.of(text)
    for email in subject.emails:
        text = re.sub(re.escape(email), pseudonyms.email(email), text, flags=re.IGNORECASE)
    return text


def redact_json(value: Any, subject: Subject, pseudonyms: Pseudonymizer, *, about_account: bool = False) -> Any:
    """A copy of ``value`` with the subject's identifiers replaced.

    ``about_account``: the value describes the subject's account, so its ``name`` is theirs too.
    A nested object that carries the subject's e-mail or ``user_id`` is treated the same way.
    """
    if isinstance(value, str):
        return redact_text(value, subject, pseudonyms)
    if isinstance(value, list):
        return [redact_json(item, subject, pseudonyms, about_account=about_account) for item in value]
    if not isinstance(value, dict):
        return value
    mine = about_account or _describes_subject(value, subject)
    redacted: dict[str, Any] = {}
    for key, item in value.items():
        if mine and key == "name" and isinstance(item, str) and subject.user_id is not None:
            redacted[key] = account_pseudonym(pseudonyms, subject.user_id)
        else:
            redacted[key] = redact_json(item, subject, pseudonyms)
    return redacted


def _describes_subject(value: dict[str, Any], subject: Subject) -> bool:
    email = value.get("email")
    if isinstance(email, str) and email.lower() in subject.emails:
        return True
    return subject.user_id is not None and value.get("user_id") == subject.user_id


def json_mentions(column: ColumnClause[Any] | Any, subject: Subject) -> ColumnElement[bool]:
    """A prefilter: the JSON column's text contains one of the subject's strings (as stored, escaped or not)."""
    patterns: set[str] = set()
    for text in subject.strings():
        patterns.add(text.lower())
        patterns.add(json.dumps(text)[1:-1].lower())  # the serialiser escapes non-ASCII
    as_text = func.lower(cast(column, String))
    return or_(*(as_text.contains(pattern, autoescape=True) for pattern in sorted(patterns)))
