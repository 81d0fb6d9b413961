"""Deliver the outbox: a task of the web process (`make run`), or `python -m prescreen.referral.relay`.

Each due row is claimed for a short lease, sent, then marked delivered. A failure is
retried with exponential backoff. A relay killed mid-delivery leaves the claim to
expire, and the next run sends again with the same idempotency key, so the site can
drop the duplicate (webhook: Idempotency-Key header; email: Message-ID).
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
import time
from datetime import datetime, timedelta
from typing import Callable, Mapping

from sqlalchemy import and_, or_, select

from prescreen import i18n
from prescreen.i18n import _
from prescreen.referral.delivery import DeliveryError, remove_local, send_email, send_webhook, write_local
from prescreen.referral.handoff import site_languages
from prescreen.storage import Database, OutboxRecord, utcnow

log = logging.getLogger("prescreen.referral.relay")

BACKOFF_BASE_SECONDS = 5.0
BACKOFF_MAX_SECONDS = 3600.0
SUBJECT_HANDOFF = _("Pre-screening: a patient for {trial} ({site})")
SUBJECT_WITHDRAWN = _("Pre-screening: a patient withdrew ({trial}, {site})")
MAX_ATTEMPTS = 20  # about a day of retries; after that the row is "failed" and stays visible to staff
LEASE_SECONDS = float(os.environ.get("RELAY_LEASE_SECONDS", "60"))  # longer than any one delivery can take


class Relay:
    def __init__(self, db: Database, env: Mapping[str, str] | None = None,
                 clock: Callable[[], datetime] = utcnow, backoff_base: float = BACKOFF_BASE_SECONDS):
        self.db = db
        self.env = os.environ if env is None else env
        self.clock = clock
        self.backoff_base = backoff_base

    def run_once(self) -> int:
        """Try every due delivery once; return how many were delivered."""
        delivered = 0
        for row_id in self._claim_due():
            delivered += self._deliver(row_id)
        return delivered

    def _claim_due(self) -> list[int]:
        now = self.clock()
        with self.db.transaction() as session:
            due = session.scalars(
                select(OutboxRecord).where(or_(
                    and_(OutboxRecord.status == "pending", OutboxRecord.next_attempt_at <= now),
                    and_(OutboxRecord.status == "sending", OutboxRecord.claimed_until <= now),  # a dead relay's claim
                )).order_by(OutboxRecord.id).limit(50).with_for_update(skip_locked=True)
            ).all()
            for row in due:
                row.status, row.claimed_until = "sending", now + timedelta(seconds=LEASE_SECONDS)
            return [row.id for row in due]

    def _deliver(self, row_id: int) -> int:
        with self.db.transaction() as session:
            row = session.get(OutboxRecord, row_id)
            if row is None:  # erased at the patient's request since it was claimed
                return 0
            handoff = row.handoff
            channel, target, key, secret_setting = row.channel, row.target, row.idempotency_key, row.secret_setting
            text, html, payload = handoff.summary_text, handoff.summary_html, handoff.payload
            subject = subject_of(handoff)
            handoff_id = handoff.id
        try:
            if channel == "webhook":
                secret = self.env.get(secret_setting or "")
                if not secret:
                    raise DeliveryError(f"{secret_setting} is not set: webhooks are always signed")
                send_webhook(target, secret, json.dumps(payload, ensure_ascii=False).encode(), key)
            elif channel == "email":
                send_email(self.env, target, subject, text, html, key)
            else:
                write_local(target, handoff_id, text, html, payload)
        except (DeliveryError, OSError) as error:
            self._failed(row_id, str(error), key)
            return 0
        with self.db.transaction() as session:
            row = session.get(OutboxRecord, row_id)
            if row is not None and row.idempotency_key != key:
                row = None  # the id was reused (SQLite) by a new row: ours was erased
            if row is None:  # the patient withdrew while it was being sent: take back what is ours
                if channel == "local":
                    remove_local(target, handoff_id)
                # The erasure queued a withdrawal notice for this channel; it follows.
                self.db.audit(session, "relay", "sent_during_withdrawal", f"handoff:{handoff_id}", channel,
                              success=False)
                log.warning("handoff %s was sent by %s while the patient withdrew; a notice follows",
                            handoff_id, channel)
                return 0
            row.status, row.delivered_at, row.claimed_until, row.last_error = "delivered", self.clock(), None, None
            row.attempts += 1
            self.db.audit(session, "relay", "delivered", f"handoff:{handoff_id}", channel)
        log.info("delivered handoff %s by %s", handoff_id, channel)
        return 1

    def _failed(self, row_id: int, error: str, key: str | None = None) -> None:
        with self.db.transaction() as session:
            row = session.get(OutboxRecord, row_id)
            if row is None or (key is not None and row.idempotency_key != key):  # erased meanwhile: nothing to retry
                return
            row.attempts += 1
            row.last_error = error
            row.claimed_until = None
            if row.attempts >= MAX_ATTEMPTS:
                row.status = "failed"
            else:
                delay = min(self.backoff_base * 2 ** (row.attempts - 1), BACKOFF_MAX_SECONDS)
                row.status, row.next_attempt_at = "pending", self.clock() + timedelta(seconds=delay)
            self.db.audit(session, "relay", "delivery_failed", f"handoff:{row.handoff_id}", error, success=False)
        log.warning("delivery %s failed (%s); attempt %s", row_id, error, row.attempts)

    def safe_pass(self) -> None:
        """One pass; a broken row or a lost database must not end the relay."""
        try:
            self.run_once()
        except Exception:  # noqa: BLE001
            log.exception("relay pass failed; trying again")

    def run_forever(self, poll_seconds: float) -> None:
        """The relay as its own process (`python -m prescreen.referral.relay`)."""
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        while not stopping:
            self.safe_pass()
            time.sleep(poll_seconds)

    async def run_in_loop(self, poll_seconds: float) -> None:
        """The relay as a task of another process's event loop (the web process's, by
        default: one Python process fewer in memory). Deliveries run in a thread, so
        the loop's pages never wait on a slow site."""
        while True:
            await asyncio.to_thread(self.safe_pass)
            await asyncio.sleep(poll_seconds)


def subject_of(handoff) -> str:
    """The email's subject: in the site team's language, then English ("预筛查：… / Pre-screening: …")."""
    subjects = []
    for language in site_languages(handoff):
        with i18n.using(language):
            subjects.append((SUBJECT_WITHDRAWN if handoff.status == "withdrawn" else SUBJECT_HANDOFF).format(
                trial=handoff.trial_id, site=handoff.site_name))
    return " / ".join(subjects)


def from_env(db: Database, env: Mapping[str, str] | None = None) -> tuple[Relay, float]:
    """The relay and its polling interval, as the environment sets them."""
    env = os.environ if env is None else env
    backoff = float(env.get("RELAY_BACKOFF_SECONDS", BACKOFF_BASE_SECONDS))
    return Relay(db, env, backoff_base=backoff), float(env.get("RELAY_POLL_SECONDS", "2"))


def main() -> int:
    os.umask(0o077)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    db = Database()
    db.create_schema()
    relay, poll = from_env(db)
    log.info("relay started")
    relay.run_forever(poll)
    return 0


if __name__ == "__main__":
    sys.exit(main())
