"""A durable, ordered journal of telemetry records waiting to be delivered (one SQLite file).

Records are appended as they are reported and removed only once the control plane has
acknowledged them, so a crash, a restart or an outage of any length loses nothing.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path


class TelemetryJournal:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS pending (seq INTEGER PRIMARY KEY AUTOINCREMENT, record BLOB NOT NULL)"
        )
        self._db.execute("CREATE TABLE IF NOT EXISTS rejected (seq INTEGER PRIMARY KEY, record BLOB, reason TEXT)")

    def append(self, records: list[bytes]) -> None:
        if not records:
            return
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT INTO pending (record) VALUES (?)", [(r,) for r in records])
            self._db.execute("COMMIT")

    def oldest(self, limit: int) -> list[tuple[int, bytes]]:
        with self._lock:
            rows = self._db.execute("SELECT seq, record FROM pending ORDER BY seq LIMIT ?", (limit,)).fetchall()
        return [(int(seq), bytes(record)) for seq, record in rows]

    def acknowledge(self, up_to_seq: int) -> None:
        with self._lock:
            self._db.execute("DELETE FROM pending WHERE seq <= ?", (up_to_seq,))

    def set_aside(self, rows: list[tuple[int, bytes, str]]) -> None:
        """Keep records the control plane refuses as invalid (with why) where they block nothing."""
        with self._lock:
            self._db.executemany("INSERT OR REPLACE INTO rejected VALUES (?, ?, ?)", rows)

    def pending_count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM pending").fetchone()[0])

    def rejected_count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM rejected").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
