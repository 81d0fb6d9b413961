"""The database the actions write to, opened on first use (not at import)."""
from typing import Optional

from prescreen.storage import Database

_database: Optional[Database] = None


def database() -> Database:
    global _database
    if _database is None:
        _database = Database()
        _database.create_schema()
    return _database
