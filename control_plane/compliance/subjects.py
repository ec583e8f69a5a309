"""Whom a request is about: every identifier that names the person, and how to find their rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, false, func, or_
from sqlmodel import Session, select

from control_plane.compliance.models import ComplianceRequest
from control_plane.compliance.personal_data import Identifies, PersonalTable
from control_plane.organizations.models import Membership
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
    home_organizations: frozenset[int] = frozenset()
    """Where the account is a member: only there does a bare ``"<id>"`` identity mean this person."""

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
                clauses.append(column.in_(sorted(self.strings())))
                clauses.extend(self.numeric_match(table, entry, column))
        return or_(*clauses) if clauses else false()

    def numeric(self) -> frozenset[str]:
        """The bare-number identities (``"<user id>"``)."""
        return self.identities - self.strings()

    def numeric_match(self, table: Table, entry: PersonalTable, column: Any) -> list[ColumnElement[bool]]:
        """``column`` holds a bare-number identity of the person, in one of their home organisations."""
        home = self.at_home(table, entry)
        return [and_(column.in_(sorted(self.numeric())), home)] if home is not None and self.numeric() else []

    def at_home(self, table: Table, entry: PersonalTable) -> ColumnElement[bool] | None:
        """Rows of ``table`` in the person's home organisations (``None``: no way to tell)."""
        if entry.organization_column is None or not self.home_organizations:
            return None
        return table.c[entry.organization_column].in_(sorted(self.home_organizations))


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
    homes = set(memberships(db, request.subject_user_id)) if request.subject_user_id is not None else set()
    if request.organization_id is not None:
        homes.add(request.organization_id)
    return Subject(
        request.subject_user_id, frozenset(emails), frozenset(identities), frozenset(names), frozenset(homes)
    )


def memberships(db: Session, user_id: int) -> list[int]:
    """The organisations the user belongs to."""
    return list(db.exec(select(Membership.organization_id).where(Membership.user_id == user_id)).all())
