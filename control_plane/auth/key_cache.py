"""API keys' principals, remembered for a moment so a machine's requests skip two queries each.

A key's principal depends on the key's row (scopes, expiry, revocation) and on its creator's membership. Any
commit in this process that writes ``api_key``, ``membership`` or ``user`` rows (ORM objects or UPDATE/DELETE
statements) forgets every remembered key, so a revocation or a role change takes effect here at once. Another
control-plane process sharing the database sees it within ``ttl_s``.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from control_plane.principals import Principal

DEFAULT_TTL_S = 2.0
_WATCHED_TABLES = frozenset({"api_key", "membership", "user"})
_TOUCHED = "auralink_touched_keys"


@dataclass(frozen=True, slots=True)
class KnownKey:
    """What a request needs of a live key: its id and prefix (rate limit, messages) and its principal."""

    api_key_id: int
    prefix: str
    requests_per_minute: int
    expires_at: dt.datetime | None
    principal: Principal


class KeyCache:
    """Keys by their digest, each for at most ``ttl_s`` and never across a commit that could change it."""

    def __init__(self, ttl_s: float = DEFAULT_TTL_S, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, int, KnownKey]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key_digest: str, now: dt.datetime) -> KnownKey | None:
        with self._lock:
            entry = self._entries.get(key_digest)
            if entry is None:
                return None
            stored_at, generation, known = entry
            fresh = generation == _generation.value and time.monotonic() - stored_at < self.ttl_s
            if not fresh or (known.expires_at is not None and known.expires_at <= now):
                del self._entries[key_digest]
                return None
            return known

    def put(self, key_digest: str, known: KnownKey, generation: int) -> None:
        """Remember ``known`` as read under ``generation`` (from :func:`generation`, taken before the read)."""
        if self.ttl_s <= 0:
            return
        with self._lock:
            self._entries[key_digest] = (time.monotonic(), generation, known)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)


class _Generation:
    """Bumped by every commit that wrote a watched table; entries of an older generation are stale."""

    def __init__(self) -> None:
        self.value = 0
        self._lock = threading.Lock()

    def bump(self) -> None:
        with self._lock:
            self.value += 1


_generation = _Generation()


def generation() -> int:
    """The current generation: take it before reading a key, so a commit during the read makes it stale."""
    return _generation.value


def _note_flush(session: Session, _context: Any) -> None:
    changed = (*session.new, *session.dirty, *session.deleted)
    if any(getattr(type(obj), "__tablename__", None) in _WATCHED_TABLES for obj in changed):
        session.info[_TOUCHED] = True


def _note_statement(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in _WATCHED_TABLES:
        state.session.info[_TOUCHED] = True


def _forget_after_commit(session: Session) -> None:
    # the mark outlives a rollback on purpose: forgetting once too often costs two queries, never a stale key
    if session.info.pop(_TOUCHED, False):
        _generation.bump()


event.listen(Session, "after_flush", _note_flush)
event.listen(Session, "do_orm_execute", _note_statement)
event.listen(Session, "after_commit", _forget_after_commit)
