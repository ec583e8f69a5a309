"""Whom a request is about: every identifier that names the person, and how to find their rows."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Table, false, func, or_
from sqlmodel import Session

from control_plane.compliance.models import ComplianceRequest
from control_plane.compliance.personal_data import Identifies, PersonalTable
from control_plane.users.models import User


@dataclass(frozen=True)
class Subject:
    """A person, by every identifier the data may hold."""

    user_id: int | None
    emails: frozenset[str]
    """Lower-cased."""
    identities: frozenset[str]
    """Call-participant identity strings (the e-mail, ``"<id>"``, ``"user-<id>"``, and any named ones)."""
    names: frozenset[str]
    """The account's display name: replaced only inside records about the account (names are not unique)."""

    def strings(self) -> frozenset[str]:
        """Every string that names the person wherever it occurs: e-mails and identities, except bare numbers
        (``"2"`` is user 2 in a participant column, but any other thing's id elsewhere)."""
        return self.emails | frozenset(i for i in self.identities if not i.isdigit())

    def matches(self, table: Table, entry: PersonalTable) -> ColumnElement[bool]:
        """A condition true for the rows of ``table`` that ``entry.subject`` says are about this person."""
        clauses: list[ColumnElement[bool]] = []
        for name, kind in entry.subject.items():
            column = table.c[name]
            if kind == Identifies.USER_ID and self.user_id is not None:
                clauses.append(column == self.user_id)
            elif kind == Identifies.EMAIL and self.emails:
                clauses.append(func.lower(column).in_(sorted(self.emails)))
            elif kind == Identifies.IDENTITY and self.identities:
                clauses.append(column.in_(sorted(self.identities)))
        return or_(*clauses) if clauses else false()


def user_identities(user_id: int, email: str) -> set[str]:
    """The identity strings an account may have joined calls under."""
    return {email.lower(), str(user_id), f"user-{user_id}", f"user:{user_id}"}


def subject_of(db: Session, request: ComplianceRequest) -> Subject:
    """The person ``request`` is about, from its stored identifiers and the account (if any)."""
    emails = {request.subject_email.lower()} if request.subject_email else set()
    identities = set(request.subject_identities)
    names: set[str] = set()
    user = db.get(User, request.subject_user_id) if request.subject_user_id is not None else None
    if user is not None and user.id is not None:
        if not user.email.endswith("@erased.invalid"):
            emails.add(user.email.lower())
            names.add(user.name)
        identities |= user_identities(user.id, user.email)
    identities |= emails
    return Subject(request.subject_user_id, frozenset(emails), frozenset(identities), frozenset(names))
