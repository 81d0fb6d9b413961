"""Rasa's SQL tracker store, configured by one database URL, that can forget a conversation.

`TRACKER_DB_URL` picks the database: a SQLite file in the project by default, or
PostgreSQL, e.g. `postgresql://user:password@127.0.0.1:5432/prescreen`. Rasa's own
SQLTrackerStore wants the URL's parts as separate settings, and endpoints.yml cannot
fall back to a default when a variable is unset.

When the patient withdraws, the action sets the `erase_conversation` slot; instead of
saving, this store then deletes every stored event of that conversation.

Rasa wraps every tracker store in its FailSafeTrackerStore, which turns a database
error on reading into "no such conversation" (a new, empty one) and on saving into
keeping the turn in memory only. For a screening that would quietly throw the
patient's answers away. So a database error here is raised as TrackerStoreUnavailable,
which that wrapper does not catch; the channels (rasa_addons/safe_reply.py) answer it.
"""
import os
from pathlib import Path
from typing import Any, Optional

from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

DEFAULT_URL = "sqlite:///var/tracker.db"
ERASE_SLOT = "erase_conversation"


class TrackerStoreUnavailable(BaseException):
    """The conversation database failed. A BaseException, so that Rasa's
    FailSafeTrackerStore (which catches Exception) lets it through."""


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
        self.engine.hide_parameters = True  # a failed INSERT must not put patient text in a log

    async def retrieve(self, sender_id: str):
        try:
            return await super().retrieve(sender_id)
        except SQLAlchemyError as error:
            raise TrackerStoreUnavailable(f"reading a conversation failed: {error.__class__.__name__}") from error

    async def retrieve_full_tracker(self, conversation_id: str):
        try:
            return await super().retrieve_full_tracker(conversation_id)
        except SQLAlchemyError as error:
            raise TrackerStoreUnavailable(f"reading a conversation failed: {error.__class__.__name__}") from error

    async def save(self, tracker) -> None:
        try:
            if tracker.get_slot(ERASE_SLOT):
                self.erase(tracker.sender_id)
                return
            await super().save(tracker)
        except SQLAlchemyError as error:
            raise TrackerStoreUnavailable(f"saving a conversation failed: {error.__class__.__name__}") from error

    def erase(self, sender_id: str) -> None:
        with self.session_scope() as session:
            session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == sender_id).delete()
            session.commit()
