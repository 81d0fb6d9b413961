"""Rasa's SQL tracker store, configured by one database URL, that can forget a conversation.

`TRACKER_DB_URL` picks the database: a SQLite file in the project by default, or
PostgreSQL, e.g. `postgresql://user:password@127.0.0.1:5432/prescreen`. Rasa's own
SQLTrackerStore wants the URL's parts as separate settings, and endpoints.yml cannot
fall back to a default when a variable is unset.

When the patient withdraws, the action sets the `erase_conversation` slot; instead of
saving, this store then deletes every stored event of that conversation.
"""
import os
from pathlib import Path
from typing import Any, Optional

from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy.engine import make_url

DEFAULT_URL = "sqlite:///var/tracker.db"
ERASE_SLOT = "erase_conversation"


class UrlSQLTrackerStore(SQLTrackerStore):
    def __init__(self, domain: Optional[Any] = None, url: Optional[str] = None, event_broker: Optional[Any] = None,
                 **kwargs: Any) -> None:
        parsed = make_url(url or os.environ.get("TRACKER_DB_URL") or DEFAULT_URL)
        if parsed.drivername.startswith("sqlite") and parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        super().__init__(
            domain=domain,
            dialect=parsed.drivername,
            host=parsed.host,
            port=parsed.port,
            db=parsed.database,
            username=parsed.username,
            password=parsed.password,
            event_broker=event_broker,
            query=dict(parsed.query),
        )

    async def save(self, tracker) -> None:
        if tracker.get_slot(ERASE_SLOT):
            self.erase(tracker.sender_id)
            return
        await super().save(tracker)

    def erase(self, sender_id: str) -> None:
        with self.session_scope() as session:
            session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == sender_id).delete()
            session.commit()
