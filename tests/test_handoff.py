"""Storage, summaries and delivery, with a real SQLite file, HTTP server and SMTP server."""
import email
import itertools
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from prescreen.screening.conversation import Screening
from prescreen.referral.delivery import check_webhook_url
from prescreen.referral.handoff import create_handoff, erase_conversation, save_screening
from prescreen.referral.relay import Relay
from prescreen.storage import (
    AnswerRecord,
    AuditRecord,
    ConsentRecord,
    Database,
    HandoffRecord,
    OutboxRecord,
    ScreeningRecord,
    utcnow,
)
from prescreen.referral.summary import Contact

from receivers import MailReceiver, WebhookReceiver
from servers import ROOT

TRIAL = "NCT06421701"
DATABASE_NUMBERS = itertools.count()
KEY = "NCT06421701"
CONSENT = "Version 1: your answers and contact details go to the NCT06421701 study team. Say 'delete my data' to withdraw."


def adult_screening() -> Screening:
    screening = Screening(respondent="self")
    screening.record({"condition": "sle"}, "lupus")
    screening.record({"age": 34}, "I'm 34")
    screening.record({"refractory": True}, "yes")
    return screening


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    """Every test here runs on a SQLite file and on a real PostgreSQL server."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'nested' / 'prescreen.db'}"
    else:
        url = request.getfixturevalue("postgres").create_database(f"t{next(DATABASE_NUMBERS)}")
    database = Database(url)
    database.create_schema()
    yield database
    database.engine.dispose()


class Clock:
    def __init__(self):
        self.now = utcnow()

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += timedelta(seconds=seconds)


def make_handoff(db, catalog, env, contact=None, conversation="conv-1"):
    screening = adult_screening()
    screening_id = save_screening(db, catalog, conversation, screening)
    contact = contact or Contact(name="Li Wei", phone="+86 138 0000 0000", email="li@example.org",
                                 preferred_time="weekday mornings", language="Mandarin")
    return create_handoff(db, catalog, conversation, screening_id, screening, TRIAL, contact, "1", CONSENT, env=env)


def outbox(db):
    with db.transaction() as session:
        return [(r.channel, r.status, r.attempts) for r in session.scalars(select(OutboxRecord))]


def test_missing_database_file_and_folder_are_created_and_start_twice_is_safe(tmp_path):
    path = tmp_path / "new" / "folder" / "prescreen.db"
    db = Database(f"sqlite:///{path}")
    db.create_schema()
    db.create_schema()
    assert path.exists()


def test_a_pending_migration_is_applied_once(db, monkeypatch):
    from sqlalchemy import inspect

    from prescreen import storage

    current = storage.SCHEMA_VERSION
    monkeypatch.setattr(storage, "SCHEMA_VERSION", current + 1)
    monkeypatch.setattr(storage, "MIGRATIONS", {
        **storage.MIGRATIONS, current + 1: ["ALTER TABLE handoffs ADD COLUMN site_reference VARCHAR(64)"]})
    assert db.create_schema() == current + 1
    assert db.create_schema() == current + 1  # nothing left to apply: the ALTER would fail if run twice
    assert "site_reference" in {c["name"] for c in inspect(db.engine).get_columns("handoffs")}
    with db.transaction() as session:
        assert list(session.scalars(select(storage.SchemaVersionRecord.version))) == [current, current + 1]


def test_a_database_from_before_consent_languages_gets_the_column_and_keeps_its_consents(db, catalog):
    """Schema 1 had no consents.language: the migration adds it, the consents given before read "en",
    and a Chinese consent is stored as "zh" with its version."""
    from sqlalchemy import inspect, text

    from prescreen import storage

    english = make_handoff(db, catalog, env={"PRESCREEN_OUTBOX_DIR": "unused"}, conversation="conv-old")
    with db.engine.begin() as connection:  # back to schema 1, as a database made before the column was
        connection.execute(text("ALTER TABLE consents DROP COLUMN language"))
        connection.execute(text("DELETE FROM schema_version"))
        connection.execute(text("INSERT INTO schema_version (version, applied_at) VALUES (1, CURRENT_TIMESTAMP)"))
    assert "language" not in {c["name"] for c in inspect(db.engine).get_columns("consents")}
    assert db.create_schema() == storage.SCHEMA_VERSION
    assert "language" in {c["name"] for c in inspect(db.engine).get_columns("consents")}
    screening = adult_screening()
    screening_id = save_screening(db, catalog, "conv-new", screening)
    chinese = create_handoff(db, catalog, "conv-new", screening_id, screening, TRIAL, Contact(name="张伟"), "1",
                             "如果您同意……", env={"PRESCREEN_OUTBOX_DIR": "unused"}, consent_language="zh")
    with db.transaction() as session:
        rows = {h.id: session.get(ConsentRecord, h.consent_id) for h in session.scalars(select(HandoffRecord))}
        assert (rows[english].language, rows[english].version) == ("en", "1")
        assert (rows[chinese].language, rows[chinese].version, rows[chinese].text) == ("zh", "1", "如果您同意……")
        assert session.get(HandoffRecord, chinese).payload["consent"]["language"] == "zh"
    with pytest.raises(ValueError):
        create_handoff(db, catalog, "conv-new", screening_id, screening, TRIAL, Contact(name="A"), "1", CONSENT,
                       env={}, consent_language="fr")


def test_two_processes_starting_at_once_both_get_the_schema(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    url = f"sqlite:///{tmp_path / 'new.db'}"
    with ThreadPoolExecutor(4) as pool:
        versions = list(pool.map(lambda _: Database(url).create_schema(), range(4)))
    from prescreen.storage import SCHEMA_VERSION

    assert versions == [SCHEMA_VERSION] * 4


def test_handoff_and_outbox_rows_commit_together(db, catalog):
    handoff_id = make_handoff(db, catalog, env={"PRESCREEN_OUTBOX_DIR": "unused"})
    with db.transaction() as session:
        handoff = session.get(HandoffRecord, handoff_id)
        assert [r.channel for r in handoff.outbox] == ["local"]
        assert session.scalar(select(func.count()).select_from(ConsentRecord)) == 1


def test_no_handoff_for_a_trial_that_does_not_fit(db, catalog):
    screening = adult_screening()
    screening.record({"transplant": True}, "yes")
    screening_id = save_screening(db, catalog, "conv-x", screening)
    with pytest.raises(ValueError):
        create_handoff(db, catalog, "conv-x", screening_id, screening, TRIAL, Contact(name="A"), "1", CONSENT, env={})
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(OutboxRecord)) == 0


def test_local_outbox_when_nothing_is_configured(db, catalog, tmp_path):
    folder = tmp_path / "outbox"
    handoff_id = make_handoff(db, catalog, env={"PRESCREEN_OUTBOX_DIR": str(folder)})
    assert Relay(db, env={}).run_once() == 1
    text = (folder / f"{handoff_id}.txt").read_text(encoding="utf-8")
    assert "Li Wei" in text and "I'm 34" in text and TRIAL in text
    assert json.loads((folder / f"{handoff_id}.json").read_text())["handoff_id"] == handoff_id
    assert outbox(db) == [("local", "delivered", 1)]


def test_webhook_delivery_is_signed_and_complete(db, catalog):
    receiver = WebhookReceiver().start()
    try:
        env = {f"DELIVERY_{KEY}_WEBHOOK_URL": receiver.url, f"DELIVERY_{KEY}_WEBHOOK_SECRET": "s3cret"}
        handoff_id = make_handoff(db, catalog, env)
        assert Relay(db, env=env).run_once() == 1
        [request] = receiver.requests
        expected = "sha256=" + hmac.new(b"s3cret", request["body"], hashlib.sha256).hexdigest()
        assert request["signature"] == expected
        body = json.loads(request["body"])
        assert body["handoff_id"] == handoff_id and body["trial_id"] == TRIAL
        assert body["verdict"] == "possibly_eligible" and body["summary"]["html"].startswith("<!doctype html>")
        assert {c["status"] for c in body["criteria"]} <= {"met", "not_met", "unknown", "verify_site", "not_applicable"}
    finally:
        receiver.stop()


def test_webhook_500_three_times_then_200_is_delivered_exactly_once(db, catalog):
    receiver = WebhookReceiver().start()
    receiver.fail_next = 3
    try:
        env = {f"DELIVERY_{KEY}_WEBHOOK_URL": receiver.url, f"DELIVERY_{KEY}_WEBHOOK_SECRET": "k"}
        make_handoff(db, catalog, env)
        clock = Clock()
        relay = Relay(db, env=env, clock=clock, backoff_base=1)
        delivered, waits = 0, []
        for _ in range(10):
            delivered += relay.run_once()
            with db.transaction() as session:
                row = session.scalars(select(OutboxRecord)).one()
                waits.append((row.next_attempt_at - clock.now).total_seconds())
            clock.advance(60)
        assert delivered == 1 and len(receiver.requests) == 4 and len(receiver.accepted) == 1
        assert waits[:3] == [1, 2, 4]  # exponential backoff
        assert outbox(db) == [("webhook", "delivered", 4)]
    finally:
        receiver.stop()


def test_receiver_down_for_a_while_then_delivered(db, catalog):
    receiver = WebhookReceiver()
    env = {f"DELIVERY_{KEY}_WEBHOOK_URL": receiver.url, f"DELIVERY_{KEY}_WEBHOOK_SECRET": "k"}
    make_handoff(db, catalog, env)
    clock = Clock()
    relay = Relay(db, env=env, clock=clock, backoff_base=1)
    for _ in range(3):  # nobody listening on the port yet
        assert relay.run_once() == 0
        clock.advance(60)
    receiver.start()
    try:
        assert relay.run_once() == 1
        assert len(receiver.accepted) == 1
    finally:
        receiver.stop()


def test_email_delivery_through_a_real_smtp_server(db, catalog):
    mail = MailReceiver().start()
    try:
        env = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(mail.port), "SMTP_FROM": "prescreen@test",
               "SMTP_SECURITY": "plain-local-test", "SITE_NCT06421701_EMAIL": "crc@hospital.test"}
        handoff_id = make_handoff(db, catalog, env)
        assert Relay(db, env=env).run_once() == 1
        [raw] = mail.messages
        message = email.message_from_bytes(raw)
        assert message["To"] == "crc@hospital.test"
        assert message["Message-ID"] == f"<{handoff_id}-email@prescreen>"
        kinds = [part.get_content_type() for part in message.walk()]
        assert "text/plain" in kinds and "text/html" in kinds
    finally:
        mail.stop()


def test_patient_text_cannot_inject_markup(db, catalog, tmp_path):
    folder = tmp_path / "outbox"
    hostile = Contact(name='<script>alert("x")</script>', phone="<b>1</b>", email="a@b.c",
                      preferred_time="<img src=x onerror=alert(1)>", language="&lt;")
    screening = adult_screening()
    screening.record({"transplant": False}, "<iframe src=evil></iframe> no")
    screening_id = save_screening(db, catalog, "conv-h", screening)
    handoff_id = create_handoff(db, catalog, "conv-h", screening_id, screening, TRIAL, hostile, "1", CONSENT,
                                env={"PRESCREEN_OUTBOX_DIR": str(folder)})
    Relay(db, env={}).run_once()
    html = (folder / f"{handoff_id}.html").read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<iframe" not in html and "&lt;iframe" in html
    assert "<img" not in html and "<b>1</b>" not in html
    assert "&amp;lt;" in html  # already-escaped text is escaped again, not trusted


def test_webhooks_need_https_except_on_loopback():
    assert check_webhook_url("https://site.example/hook")
    assert check_webhook_url("http://127.0.0.1:9000/hook")
    for bad in ("http://site.example/hook", "ftp://x", "file:///etc/passwd"):
        with pytest.raises(ValueError):
            check_webhook_url(bad)


def test_withdrawal_erases_screening_answers_contact_and_pending_deliveries(db, catalog, tmp_path):
    handoff_id = make_handoff(db, catalog, env={"PRESCREEN_OUTBOX_DIR": str(tmp_path)}, conversation="conv-w")
    make_handoff(db, catalog, env={"PRESCREEN_OUTBOX_DIR": str(tmp_path)}, conversation="someone-else")
    assert erase_conversation(db, "conv-w") == 1
    with db.transaction() as session:
        withdrawn = session.get(HandoffRecord, handoff_id)  # a row for the site's list, with nothing personal
        assert withdrawn.status == "withdrawn" and withdrawn.contact_name == "withdrawn"
        assert withdrawn.contact_phone is None and "Li Wei" not in withdrawn.summary_text + str(withdrawn.payload)
        left = {table.__tablename__: session.scalar(select(func.count()).select_from(table))
                for table in (ScreeningRecord, AnswerRecord, ConsentRecord, HandoffRecord, OutboxRecord)}
        # The other patient's, and the withdrawn row's reference and consent version; the pending
        # delivery is gone and needs no notice (nothing was sent).
        assert left == {"screenings": 2, "answers": 3, "consents": 2, "handoffs": 2, "outbox": 1}
        assert "Li Wei" not in " ".join(str(a.detail) + a.record + a.actor for a in session.scalars(select(AuditRecord)))
        assert "conv-w" not in " ".join(a.actor for a in session.scalars(select(AuditRecord)))


def test_withdrawal_after_local_delivery_removes_the_summary_files(db, catalog, tmp_path):
    folder = tmp_path / "outbox"
    env = {"PRESCREEN_OUTBOX_DIR": str(folder)}
    gone, kept = make_handoff(db, catalog, env, conversation="conv-l"), make_handoff(db, catalog, env)
    assert Relay(db, env={}).run_once() == 2
    assert (folder / f"{gone}.txt").exists()
    erase_conversation(db, "conv-l")
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{kept}{s}" for s in (".html", ".json", ".txt"))


def test_withdrawal_while_the_relay_is_writing_leaves_nothing_behind(db, catalog, tmp_path, monkeypatch):
    from prescreen.referral import relay as relay_module

    folder = tmp_path / "outbox"
    make_handoff(db, catalog, {"PRESCREEN_OUTBOX_DIR": str(folder)}, conversation="conv-r")

    real_write = relay_module.write_local

    def withdraw_then_write(*args):
        erase_conversation(db, "conv-r")  # the patient withdraws while the files are being written
        real_write(*args)

    monkeypatch.setattr(relay_module, "write_local", withdraw_then_write)
    assert Relay(db, env={}).run_once() == 0
    assert list(folder.iterdir()) == []
    # The summary may have reached the site: a withdrawal notice follows, once the send is over.
    assert outbox(db) == [("local", "pending", 0)]
    with db.transaction() as session:
        assert session.scalar(select(OutboxRecord.idempotency_key)).endswith("-local-withdrawn")


def test_relay_killed_mid_delivery_then_restarted_delivers_once(tmp_path, catalog):
    db_url = f"sqlite:///{tmp_path / 'relay.db'}"
    db = Database(db_url)
    db.create_schema()
    receiver = WebhookReceiver().start()
    receiver.delay = 30  # the first request hangs, and the relay is killed while it waits
    env = {f"DELIVERY_{KEY}_WEBHOOK_URL": receiver.url, f"DELIVERY_{KEY}_WEBHOOK_SECRET": "k",
           "PRESCREEN_DB_URL": db_url, "RELAY_POLL_SECONDS": "0.2", "RELAY_LEASE_SECONDS": "2",
           "PYTHONPATH": str(ROOT), "PATH": os.environ.get("PATH", "")}
    make_handoff(db, catalog, env)
    relay = subprocess.Popen([sys.executable, "-m", "prescreen.referral.relay"], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not receiver.requests and time.monotonic() < deadline:
            time.sleep(0.1)
        assert receiver.requests, "the relay never sent"
        relay.send_signal(signal.SIGKILL)
        relay.wait()
        receiver.delay = 0
        relay = subprocess.Popen([sys.executable, "-m", "prescreen.referral.relay"], cwd=ROOT, env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while outbox(db)[0][1] != "delivered" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert outbox(db)[0][1] == "delivered"
        keys = {r["key"] for r in receiver.requests}
        assert len(receiver.requests) >= 2 and len(keys) == 1  # sent again, with the same key
        assert len(receiver.accepted) == 1  # and the site took it once
    finally:
        relay.terminate()
        relay.wait(timeout=10)
        receiver.stop()
