"""Database access: the engine for the configured URL, sessions, column types, migrations."""

from control_plane.db.engine import database_url, make_engine
from control_plane.db.types import UTCDateTime, utcnow

__all__ = ["UTCDateTime", "database_url", "make_engine", "utcnow"]
