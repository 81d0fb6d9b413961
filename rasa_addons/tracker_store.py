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
  conversations stay in memory (`TRACKER_CACHE_SIZE`, default 500; 0 turns it off).
  Several Rasa servers share one database, so a kept tracker is used again only
  while the database still holds exactly what this server last wrote for the
  conversation: the same number of stored events and the same last event id, read
  in one query before every use. Another server's turn, an erasure by any process,
  or a retention run changes one or both, and the conversation is read again. A
  save that finds more events than it wrote (another writer at the same time, which
  the shared lock store prevents for turns) keeps nothing in memory. Saving appends
  the events added since the tracker was handed out, as Rasa's own store would.
- Shared locks. With `SHARED_LOCKS_REQUIRED=1` (the cluster runner sets it) every
  conversation is refused, with the "technical problem" reply and an error in the
  log, unless this server uses the shared Redis lock store (lock_store.py): a
  missing `lock_store` section never quietly gives each server its own locks.
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
        self.cache_size = int(os.environ.get("TRACKER_CACHE_SIZE", CACHED_CONVERSATIONS))
        self.shared_locks_required = os.environ.get("SHARED_LOCKS_REQUIRED", "0") == "1"
        # sender -> (tracker, (events stored, last event id)) as this server last wrote them
        self._recent: "OrderedDict[str, tuple]" = OrderedDict()
        # sender -> (len(tracker.events), (events stored, last event id)) when retrieve() handed it out
        self._handed_out: dict = {}

    def _stored(self, session, sender_id: str) -> tuple:
        """(number of stored events, last event id) of the conversation: one indexed query."""
        count, last_id = session.execute(
            sa.select(sa.func.count(self.SQLEvent.id), sa.func.max(self.SQLEvent.id))
            .where(self.SQLEvent.sender_id == sender_id)).one()
        return int(count or 0), last_id

    def _check_locks(self) -> None:
        if self.shared_locks_required:
            from rasa_addons import lock_store

            if lock_store.ACTIVE is None:
                raise TrackerStoreUnavailable("SHARED_LOCKS_REQUIRED is set but this server has no shared lock "
                                              "store (endpoints.yml: lock_store: rasa_addons.lock_store."
                                              "SharedRedisLockStore)")

    async def retrieve(self, sender_id: str):
        self._check_locks()
        try:
            cached = self._recent.pop(sender_id, None)  # out while in use: a failed turn must not leave it
            if self.cache_size <= 0:
                stored = None
                tracker = await super().retrieve(sender_id)
            else:
                with self.session_scope() as session:
                    stored = self._stored(session, sender_id)
                if cached is not None and cached[1] == stored:
                    tracker = cached[0]
                else:
                    tracker = await super().retrieve(sender_id)
        except SQLAlchemyError as error:
            raise _unavailable("reading", error) from error
        if tracker is not None and stored is not None:
            self._handed_out[sender_id] = (len(tracker.events), stored)
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
            if handed_out is None:  # not from retrieve(), or no cache: Rasa's own save counts what is stored
                self._recent.pop(sender_id, None)
                await super().save(tracker)
                return
            await self.stream_events(tracker)
            in_memory, (count, last_id) = handed_out
            new_events = list(itertools.islice(tracker.events, in_memory, len(tracker.events)))
            with self.session_scope() as session:
                if new_events:
                    session.execute(self.SQLEvent.__table__.insert(),
                                    [self._row(sender_id, event) for event in new_events])
                    session.commit()
                stored = self._stored(session, sender_id)
        except SQLAlchemyError as error:
            self._recent.pop(sender_id, None)
            raise _unavailable("saving", error) from error
        if stored[0] != count + len(new_events):
            return  # someone else wrote (or erased) meanwhile: read it from the database next time
        if any(isinstance(event, SessionStarted) for event in new_events):
            return  # the stored session now starts later than this tracker: read it back next time
        self._recent[sender_id] = (tracker, stored)
        self._recent.move_to_end(sender_id)
        while len(self._recent) > self.cache_size:
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
