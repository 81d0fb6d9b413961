"""Rasa's SQL tracker store, configured by one database URL, safe and fast.

`TRACKER_DB_URL` picks the database: a SQLite file in the project by default, or
PostgreSQL, e.g. `postgresql://user:password@127.0.0.1:5432/prescreen`. Rasa's own
SQLTrackerStore wants the URL's parts as separate settings, and endpoints.yml cannot
fall back to a default when a variable is unset.

What it adds to Rasa's store:
- Forgetting. When the patient withdraws, the action sets the `erase_conversation`
  slot; instead of saving, the store deletes every stored event of the conversation.
- Failing loudly. Rasa wraps every tracker store in its FailSafeTrackerStore, which
  turns a database error on reading into "no such conversation" (a new, empty one) and
  on saving into keeping the turn in memory only: for a screening, quietly throwing
  the patient's answers away. Here a database error is raised as
  TrackerStoreUnavailable, which that wrapper does not catch; the channels
  (rasa_addons/safe_reply.py) answer it.
- Speed. Reading a conversation back means replaying all its events, and saving one
  counts the stored events first, on every message: together most of the Rasa
  server's time under load (py-spy, bench/load.py). So the trackers of recent
  conversations stay in memory, and one is used again only while its last stored
  event is still the conversation's last in the database; anything else (a failed
  turn, another server, an erasure) reads the database again. Saving appends the
  events added since the tracker was handed out, as Rasa's own store would.
- Privacy on disk. The umask is 077 (files 0600, folders 0700); SQLite runs with
  secure_delete on, and an erasure checkpoints the WAL, so erased answers and contact
  details are overwritten in the database and gone from tracker.db-wal.
"""
import itertools
import json
import os
from collections import OrderedDict
from typing import Any, Optional

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SessionStarted
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import QueuePool

from prescreen.storage import checkpoint, private_files, private_sqlite_folder

DEFAULT_URL = "sqlite:///var/tracker.db"
ERASE_SLOT = "erase_conversation"
CACHED_CONVERSATIONS = 500


class TrackerStoreUnavailable(BaseException):
    """The conversation database failed. A BaseException, so that Rasa's
    FailSafeTrackerStore (which catches Exception) lets it through."""


def _unavailable(what: str, error: Exception) -> TrackerStoreUnavailable:
    return TrackerStoreUnavailable(f"{what} a conversation failed: {error.__class__.__name__}")


class UrlSQLTrackerStore(SQLTrackerStore):
    def __init__(self, domain: Optional[Any] = None, url: Optional[str] = None, event_broker: Optional[Any] = None,
                 **kwargs: Any) -> None:
        private_files()
        parsed = make_url(url or os.environ.get("TRACKER_DB_URL") or DEFAULT_URL)
        sqlite = parsed.drivername.startswith("sqlite")
        if sqlite and parsed.database:
            private_sqlite_folder(parsed.database)
        super().__init__(domain=domain, dialect=parsed.drivername, host=parsed.host, port=parsed.port,
                         db=parsed.database, username=parsed.username, password=parsed.password,
                         event_broker=event_broker, query=dict(parsed.query))
        if sqlite:
            # Rasa's engine opens a new SQLite connection for every read and write;
            # this one keeps them open. All use is from the server's one event loop.
            self.engine = sa.create_engine(parsed, poolclass=QueuePool, connect_args={"check_same_thread": False},
                                           hide_parameters=True)
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        self.engine.hide_parameters = True  # a failed INSERT must not put patient text in a log
        self._recent: "OrderedDict[str, tuple]" = OrderedDict()  # sender -> (tracker, its last stored event id)
        self._handed_out: dict = {}  # sender -> (events stored, last event id) when retrieve() returned it

    def _last_event_id(self, session, sender_id: str) -> Optional[int]:
        return session.query(sa.func.max(self.SQLEvent.id)).filter(self.SQLEvent.sender_id == sender_id).scalar()

    async def retrieve(self, sender_id: str):
        try:
            cached = self._recent.pop(sender_id, None)  # out while in use: a failed turn must not leave it
            with self.session_scope() as session:
                last_id = self._last_event_id(session, sender_id)
            if cached is not None and cached[1] == last_id:
                tracker = cached[0]
            else:
                tracker = await super().retrieve(sender_id)
        except SQLAlchemyError as error:
            raise _unavailable("reading", error) from error
        if tracker is not None:
            self._handed_out[sender_id] = (len(tracker.events), last_id)
        return tracker

    async def retrieve_full_tracker(self, conversation_id: str):
        try:
            return await super().retrieve_full_tracker(conversation_id)
        except SQLAlchemyError as error:
            raise _unavailable("reading", error) from error

    async def save(self, tracker) -> None:
        sender_id = tracker.sender_id
        handed_out = self._handed_out.pop(sender_id, None)
        try:
            if tracker.get_slot(ERASE_SLOT):
                self.erase(sender_id)
                return
            if handed_out is None:  # not from retrieve(): Rasa's own save counts what is stored
                self._recent.pop(sender_id, None)
                await super().save(tracker)
                return
            await self.stream_events(tracker)
            stored, last_id = handed_out
            new_events = list(itertools.islice(tracker.events, stored, len(tracker.events)))
            if new_events:
                with self.session_scope() as session:
                    session.execute(self.SQLEvent.__table__.insert(),
                                    [self._row(sender_id, event) for event in new_events])
                    session.commit()
                    last_id = self._last_event_id(session, sender_id)
        except SQLAlchemyError as error:
            self._recent.pop(sender_id, None)
            raise _unavailable("saving", error) from error
        if any(isinstance(event, SessionStarted) for event in new_events):
            return  # the stored session now starts later than this tracker: read it back next time
        self._recent[sender_id] = (tracker, last_id)
        self._recent.move_to_end(sender_id)
        while len(self._recent) > CACHED_CONVERSATIONS:
            self._recent.popitem(last=False)

    @staticmethod
    def _row(sender_id: str, event) -> dict:
        """The stored form of one event, exactly as Rasa's SQLTrackerStore.save writes it."""
        data = event.as_dict()
        return {"sender_id": sender_id, "type_name": event.type_name, "timestamp": data.get("timestamp"),
                "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                "action_name": data.get("name"), "data": json.dumps(data)}

    def erase(self, sender_id: str) -> None:
        self._recent.pop(sender_id, None)
        self._handed_out.pop(sender_id, None)
        with self.session_scope() as session:
            session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == sender_id).delete()
            session.commit()
        checkpoint(self.engine)


def _sqlite_pragmas(connection, _record) -> None:
    # WAL: readers never wait for the writer. synchronous=NORMAL: a commit is not
    # flushed to disk on its own (a checkpoint is); a crash of the program loses
    # nothing, a power cut can lose the last moments of conversations. Every message
    # commits, and flushing each one was a tenth of the server's time under load.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
