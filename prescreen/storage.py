"""Screenings, answers, results, consent, handoffs, the delivery outbox and the audit log.

SQLAlchemy 1.4 in the 2.0 style. No engine exists until `Database(url)` is made, and
`create_schema()` creates or migrates the schema, safely, at every start
(`python -m prescreen.storage` does it from the command line). SQLite file by default,
PostgreSQL by URL (`PRESCREEN_DB_URL`).

Files hold patient data: every process that opens a database sets its umask to 077
(`private_files()`), so var/ is 0700 and every file in it 0600. SQLite runs with
`secure_delete` on (a deleted row's bytes are overwritten), and `checkpoint()` moves
the write-ahead log into the database and truncates it after an erasure, so erased
contact details do not linger in the -wal file. On PostgreSQL a DELETE leaves the old
row versions in the table's pages until VACUUM marks them free for reuse (and they
are overwritten only when reused; VACUUM FULL rewrites the table): see the README.
"""
from __future__ import annotations

import json
import os
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, declarative_base, relationship, sessionmaker
from sqlalchemy.types import TypeDecorator

DEFAULT_URL = "sqlite:///var/prescreen.db"
DEFAULT_TRACKER_URL = "sqlite:///var/tracker.db"


def private_files() -> None:
    """New files and folders of this process: for its user only (0600 and 0700)."""
    os.umask(0o077)


def private_sqlite_folder(database: str) -> None:
    """Create a SQLite file's folder as 0700; make an existing file and its -wal/-shm 0600."""
    path = Path(database)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    for candidate in (path, Path(f"{database}-wal"), Path(f"{database}-shm"), Path(f"{database}-journal")):
        try:
            if candidate.exists() and candidate.stat().st_mode & 0o077:
                candidate.chmod(0o600)
        except OSError:
            pass  # not ours to change; the umask still protects what we create

# The schema's version, and for each later version the statements that reach it from
# the one before. A new database gets every table at the current version at once.
SCHEMA_VERSION = 2
MIGRATIONS: dict[int, list[str]] = {
    # 2: the consent's language next to its version (consents given before were in English)
    2: ["ALTER TABLE consents ADD COLUMN language VARCHAR(8) NOT NULL DEFAULT 'en'"],
}

Base = declarative_base()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite (which keeps no zone) too."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        return value.replace(tzinfo=timezone.utc) if value is not None else None


def new_id() -> str:
    return uuid.uuid4().hex


class ScreeningRecord(Base):
    __tablename__ = "screenings"
    id = Column(String(32), primary_key=True, default=new_id)
    conversation_id = Column(String(255), nullable=False, index=True)
    respondent = Column(String(16))
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    answers = relationship("AnswerRecord", cascade="all, delete-orphan", back_populates="screening")
    results = relationship("TrialResultRecord", cascade="all, delete-orphan", back_populates="screening")


class AnswerRecord(Base):
    __tablename__ = "answers"
    id = Column(Integer, primary_key=True)
    screening_id = Column(String(32), ForeignKey("screenings.id", ondelete="CASCADE"), nullable=False, index=True)
    fact = Column(String(64), nullable=False)
    value = Column(JSON, nullable=True)  # the stored (encoded) value the rules read
    said = Column(Text, nullable=False, default="")  # the patient's own words
    screening = relationship("ScreeningRecord", back_populates="answers")
    __table_args__ = (UniqueConstraint("screening_id", "fact"),)


class TrialResultRecord(Base):
    __tablename__ = "trial_results"
    id = Column(Integer, primary_key=True)
    screening_id = Column(String(32), ForeignKey("screenings.id", ondelete="CASCADE"), nullable=False, index=True)
    trial_id = Column(String(64), nullable=False)
    verdict = Column(String(32), nullable=False)
    criteria = Column(JSON, nullable=False)  # [{"id", "kind", "status", "text"}] for every criterion
    screening = relationship("ScreeningRecord", back_populates="results")
    __table_args__ = (UniqueConstraint("screening_id", "trial_id"),)


class ConsentRecord(Base):
    __tablename__ = "consents"
    id = Column(Integer, primary_key=True)
    screening_id = Column(String(32), ForeignKey("screenings.id", ondelete="CASCADE"), nullable=False, index=True)
    conversation_id = Column(String(255), nullable=False)
    trial_id = Column(String(64), nullable=False)
    version = Column(String(32), nullable=False)  # the version of the consent text in its language
    language = Column(String(8), nullable=False, default="en", server_default="en")  # "en" or "zh": what was read
    text = Column(Text, nullable=False)  # exactly what the patient agreed to
    accepted_at = Column(UTCDateTime, nullable=False, default=utcnow)


class HandoffRecord(Base):
    __tablename__ = "handoffs"
    id = Column(String(32), primary_key=True, default=new_id)
    screening_id = Column(String(32), ForeignKey("screenings.id", ondelete="CASCADE"), nullable=False, index=True)
    consent_id = Column(Integer, ForeignKey("consents.id", ondelete="CASCADE"), nullable=False)
    trial_id = Column(String(64), nullable=False, index=True)
    site_id = Column(String(40), nullable=False, index=True)  # staff see only their sites' handoffs
    site_name = Column(String(255), nullable=False)
    contact_name = Column(String(200), nullable=False)
    contact_phone = Column(String(40))
    contact_email = Column(String(254))
    preferred_time = Column(String(100))
    language = Column(String(50))
    summary_html = Column(Text, nullable=False)
    summary_text = Column(Text, nullable=False)
    payload = Column(JSON, nullable=False)  # structured results + summary, as sent to a webhook
    status = Column(String(32), nullable=False, default="new")  # the site's workflow (prescreen.staff.review)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    outbox = relationship("OutboxRecord", cascade="all, delete-orphan", back_populates="handoff")
    notes = relationship("HandoffNoteRecord", cascade="all, delete-orphan", back_populates="handoff",
                         order_by="HandoffNoteRecord.id")


class HandoffNoteRecord(Base):
    """A status change or a note by site staff: what happened when they called."""

    __tablename__ = "handoff_notes"
    id = Column(Integer, primary_key=True)
    handoff_id = Column(String(32), ForeignKey("handoffs.id", ondelete="CASCADE"), nullable=False, index=True)
    at = Column(UTCDateTime, nullable=False, default=utcnow)
    author = Column(String(64), nullable=False)
    status_from = Column(String(32), nullable=False)
    status_to = Column(String(32), nullable=False)
    note = Column(Text, nullable=False, default="")
    handoff = relationship("HandoffRecord", back_populates="notes")


class OutboxRecord(Base):
    """One delivery to do: written in the same transaction as its handoff."""

    __tablename__ = "outbox"
    id = Column(Integer, primary_key=True)
    handoff_id = Column(String(32), ForeignKey("handoffs.id", ondelete="CASCADE"), nullable=False, index=True)
    channel = Column(String(16), nullable=False)  # webhook | email | local
    target = Column(Text, nullable=False)  # URL, address, or folder
    secret_setting = Column(String(128))  # the variable holding the webhook key (never the key)
    idempotency_key = Column(String(64), nullable=False, unique=True)
    status = Column(String(16), nullable=False, default="pending")  # pending | sending | delivered | failed
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(UTCDateTime, nullable=False, default=utcnow)
    claimed_until = Column(UTCDateTime)
    delivered_at = Column(UTCDateTime)
    last_error = Column(Text)
    handoff = relationship("HandoffRecord", back_populates="outbox")


class AuditRecord(Base):
    __tablename__ = "audit_log"
    id = Column(Integer, primary_key=True)
    at = Column(UTCDateTime, nullable=False, default=utcnow)
    actor = Column(String(255), nullable=False)  # "patient:<conversation>", "relay", "staff:<name>"
    action = Column(String(64), nullable=False)
    record = Column(String(255), nullable=False)
    detail = Column(Text)
    success = Column(Boolean, nullable=False, default=True)


class AccountRecord(Base):
    """A named staff account; never shared. The password is kept only as a scrypt hash."""

    __tablename__ = "accounts"
    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, unique=True)
    full_name = Column(String(200), nullable=False)
    password_hash = Column(String(255), nullable=False)
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    sites = relationship("AccountSiteRecord", cascade="all, delete-orphan", lazy="selectin")


class AccountSiteRecord(Base):
    __tablename__ = "account_sites"
    account_id = Column(Integer, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    site_id = Column(String(40), primary_key=True)


class StaffSessionRecord(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is kept."""

    __tablename__ = "staff_sessions"
    token_hash = Column(String(64), primary_key=True)
    account_id = Column(Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, index=True)
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    last_seen_at = Column(UTCDateTime, nullable=False, default=utcnow)


class ApiTokenRecord(Base):
    """A hospital system's key to one site's data. Only the token's SHA-256 is kept."""

    __tablename__ = "api_tokens"
    token_hash = Column(String(64), primary_key=True)
    site_id = Column(String(40), nullable=False, index=True)
    label = Column(String(200), nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    revoked_at = Column(UTCDateTime)


class SchemaVersionRecord(Base):
    __tablename__ = "schema_version"
    version = Column(Integer, primary_key=True)
    applied_at = Column(UTCDateTime, nullable=False, default=utcnow)


class Database:
    """One engine and session factory; made once per process, never at import time."""

    def __init__(self, url: str | None = None):
        private_files()
        self.url = url or os.environ.get("PRESCREEN_DB_URL") or DEFAULT_URL
        parsed = make_url(self.url)
        if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
            private_sqlite_folder(parsed.database)
        # hide_parameters: an error message never carries the patient's answers into a log.
        self.engine = create_engine(self.url, future=True, pool_pre_ping=True, hide_parameters=True,
                                    json_serializer=lambda v: json.dumps(v, ensure_ascii=False))
        if parsed.drivername.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, future=True, expire_on_commit=False)

    def create_schema(self) -> int:
        """Create missing tables and apply pending migrations; return the schema version.

        Safe to run at every start, and by two processes at once: on PostgreSQL an
        advisory lock makes the second wait; on SQLite the write lock does.
        """
        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(715517)"))
            elif connection.dialect.name == "sqlite":
                connection.exec_driver_sql("BEGIN IMMEDIATE")  # take the write lock before looking
            Base.metadata.create_all(connection)
            current = connection.scalar(select(func.max(SchemaVersionRecord.version)))
            if current is None:  # a new database: every table was just made at the current version
                current = SCHEMA_VERSION
                connection.execute(insert(SchemaVersionRecord).values(version=current, applied_at=utcnow()))
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[version]:
                    connection.exec_driver_sql(statement)
                connection.execute(insert(SchemaVersionRecord).values(version=version, applied_at=utcnow()))
            return max(current, SCHEMA_VERSION)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed together, or not at all."""
        with self._sessions() as session, session.begin():
            yield session

    def audit(self, session: Session, actor: str, action: str, record: str, detail: str | None = None,
              success: bool = True) -> None:
        session.add(AuditRecord(actor=actor, action=action, record=record, detail=detail, success=success))

    def audit_alone(self, actor: str, action: str, record: str, detail: str | None = None,
                    success: bool = False) -> None:
        """An audit row in a transaction of its own: kept even when the caller's work is rolled back."""
        with self.transaction() as session:
            self.audit(session, actor, action, record, detail, success)

    def checkpoint(self) -> None:
        """After an erasure: on SQLite, copy the WAL into the database and empty it."""
        checkpoint(self.engine)


def checkpoint(engine) -> None:
    if engine.dialect.name != "sqlite":
        return  # PostgreSQL: VACUUM reclaims the dead rows (README, Security)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


class TrackerEvents:
    """Rasa's tracker store table (`events`), for erasure and retention outside the Rasa server."""

    def __init__(self, url: str | None = None):
        private_files()
        self.url = url or os.environ.get("TRACKER_DB_URL") or DEFAULT_TRACKER_URL
        parsed = make_url(self.url)
        self.sqlite = parsed.drivername.startswith("sqlite")
        if self.sqlite and parsed.database:
            private_sqlite_folder(parsed.database)
        self.engine = create_engine(self.url, future=True, pool_pre_ping=True, hide_parameters=True)
        if self.sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)

    def _exists(self, connection) -> bool:
        from sqlalchemy import inspect

        return inspect(connection).has_table("events")

    def delete(self, conversation_ids: list[str]) -> int:
        """Delete every event of these conversations; how many were deleted."""
        ids = [c for c in conversation_ids if c]
        if not ids:
            return 0
        with self.engine.begin() as connection:
            if not self._exists(connection):
                return 0
            from sqlalchemy import bindparam

            statement = text("DELETE FROM events WHERE sender_id IN :ids").bindparams(bindparam("ids", expanding=True))
            deleted = connection.execute(statement, {"ids": ids}).rowcount
        checkpoint(self.engine)
        return max(deleted or 0, 0)

    def idle_since(self, cutoff: datetime) -> list[str]:
        """Conversations whose last event is older than `cutoff`."""
        with self.engine.connect() as connection:
            if not self._exists(connection):
                return []
            return list(connection.scalars(text(
                "SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < :cutoff"),
                {"cutoff": cutoff.timestamp()}))

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")  # so deleting a screening deletes everything under it
    cursor.execute("PRAGMA secure_delete=ON")  # erased rows are overwritten, not just unlinked
    cursor.execute("PRAGMA journal_mode=WAL")  # the relay and the action server share the file
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def main() -> int:
    """Create or migrate the database named by PRESCREEN_DB_URL (run by `make run`)."""
    private_files()
    database = Database()
    version = database.create_schema()
    print(f"Database ready (schema version {version}): {make_url(database.url).render_as_string(hide_password=True)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
