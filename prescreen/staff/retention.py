"""Retention and erasure on request: what is kept, for how long, and the erase command.

- A screening nobody consented to share, with its conversation (the tracker events),
  is deleted RETENTION_DAYS (default 30) after it was made; a conversation that never
  reached a screening goes the same number of days after its last message.
- A consented handoff is kept as long as its site says: RETENTION_DAYS_<SITE> (the
  site id in capitals, other characters as "_"), else HANDOFF_RETENTION_DAYS
  (default 365). Then the handoff, its screening and its conversation are deleted.
- `python -m prescreen.staff.accounts erase-screening <reference> --by <name>`
  erases a patient's data when they ask the site: the same erasure as the patient's own
  withdrawal (sites told, a "withdrawn" row left), audited with who asked for it.
The web process runs `run_retention` every RETENTION_INTERVAL_SECONDS (default one
hour); it logs counts only.
"""
from __future__ import annotations

import asyncio
import logging
import os
import re
from datetime import datetime, timedelta
from typing import Mapping

from sqlalchemy import delete, select

from prescreen.referral.delivery import remove_local
from prescreen.referral.handoff import conversation_of_screening, erase_conversation, erase_screenings
from prescreen.storage import (
    Database,
    HandoffRecord,
    OutboxRecord,
    ScreeningRecord,
    TrackerEvents,
    utcnow,
)

log = logging.getLogger("prescreen.staff.retention")
DEFAULT_RETENTION_DAYS = 30
DEFAULT_HANDOFF_RETENTION_DAYS = 365


class NoSuchScreening(LookupError):
    pass


def site_key(site_id: str) -> str:
    return re.sub(r"[^A-Z0-9]", "_", site_id.upper())


def retention_days(env: Mapping[str, str]) -> float:
    return float(env.get("RETENTION_DAYS") or DEFAULT_RETENTION_DAYS)


def handoff_retention_days(env: Mapping[str, str], site_id: str) -> float:
    return float(env.get(f"RETENTION_DAYS_{site_key(site_id)}") or env.get("HANDOFF_RETENTION_DAYS")
                 or DEFAULT_HANDOFF_RETENTION_DAYS)


def run_retention(db: Database, tracker: TrackerEvents | None, env: Mapping[str, str] | None = None,
                  now: datetime | None = None) -> dict[str, int]:
    """One pass; how many screenings, handoffs and conversations were deleted."""
    env = os.environ if env is None else env
    now = now or utcnow()
    cutoff = now - timedelta(days=retention_days(env))
    conversations: set[str] = set()
    local_files: list[tuple[str, str]] = []
    with db.transaction() as session:
        handed = select(HandoffRecord.screening_id)
        unconsented = list(session.execute(select(ScreeningRecord.id, ScreeningRecord.conversation_id).where(
            ScreeningRecord.created_at < cutoff, ScreeningRecord.id.not_in(handed))))
        if unconsented:
            session.execute(delete(ScreeningRecord).where(ScreeningRecord.id.in_([i for i, _ in unconsented])))
            conversations |= {c for _, c in unconsented if c}
        expired = []
        for handoff_id, screening_id, site_id, created in session.execute(select(
                HandoffRecord.id, HandoffRecord.screening_id, HandoffRecord.site_id, HandoffRecord.created_at)):
            if created < now - timedelta(days=handoff_retention_days(env, site_id)):
                expired.append((handoff_id, screening_id))
        if expired:
            handoff_ids = [h for h, _ in expired]
            local_files = [(t, h) for t, h in session.execute(select(OutboxRecord.target, OutboxRecord.handoff_id)
                                                              .where(OutboxRecord.handoff_id.in_(handoff_ids),
                                                                     OutboxRecord.channel == "local"))]
            screening_ids = sorted({s for _, s in expired})
            conversations |= {c for c in session.scalars(select(ScreeningRecord.conversation_id).where(
                ScreeningRecord.id.in_(screening_ids))) if c}
            session.execute(delete(HandoffRecord).where(HandoffRecord.id.in_(handoff_ids)))
            still_handed = set(session.scalars(select(HandoffRecord.screening_id).where(
                HandoffRecord.screening_id.in_(screening_ids))))
            session.execute(delete(ScreeningRecord).where(
                ScreeningRecord.id.in_([s for s in screening_ids if s not in still_handed])))
        # A conversation with a screening still kept (consented) keeps its events.
        kept = set(session.scalars(select(ScreeningRecord.conversation_id).where(ScreeningRecord.id.in_(handed))))
        counts = {"screenings": len(unconsented), "handoffs": len(expired)}
        db.audit(session, "retention", "retention_run", "screenings",
                 f"{counts['screenings']} screenings, {counts['handoffs']} handoffs")
    for folder, handoff_id in local_files:
        remove_local(folder, handoff_id)
    counts["conversations"] = 0
    if tracker is not None:
        idle = set(tracker.idle_since(cutoff))
        counts["conversations"] = tracker.delete(sorted((idle | conversations) - kept))
    if counts["screenings"] or counts["handoffs"]:
        db.checkpoint()
    log.info("retention: deleted %d screenings, %d handoffs, %d conversation events",
             counts["screenings"], counts["handoffs"], counts["conversations"])
    return counts


async def retention_loop(db: Database, tracker: TrackerEvents | None, interval: float,
                         env: Mapping[str, str] | None = None) -> None:
    """The web process's task: a pass now, then every `interval` seconds; a failure is logged, not fatal."""
    while True:
        try:
            await asyncio.to_thread(run_retention, db, tracker, env)
        except Exception as error:  # noqa: BLE001 - retention must keep running
            log.error("retention pass failed: %s", type(error).__name__)
        await asyncio.sleep(interval)


def erase_screening(db: Database, reference: str, requested_by: str, tracker: TrackerEvents | None = None,
                    reason: str = "") -> int:
    """Erase a patient's data by the screening reference a site has (the patient asked the
    site). Everything of that conversation goes, as with the patient's own withdrawal;
    the audit log names who asked. Returns the number of screenings erased."""
    reference = (reference or "").strip()
    actor = f"staff:{requested_by}" if requested_by else "admin"
    conversation = conversation_of_screening(db, reference) if reference else None
    if conversation is None:
        db.audit_alone(actor, "erase_refused", f"screening:{reference[:64]}", "no such screening")
        raise NoSuchScreening(reference)
    if conversation:
        erased = erase_conversation(db, conversation, actor=actor)
        if tracker is not None:
            tracker.delete([conversation])
    else:  # already withdrawn: only the reference is left; nothing more to erase
        with db.transaction() as session:
            local_files = erase_screenings(db, session, [reference], actor, utcnow())
        for folder, handoff_id in local_files:
            remove_local(folder, handoff_id)
        erased = 1
    db.audit_alone(actor, "erased_on_request", f"screening:{reference}", (reason or "")[:200] or None, success=True)
    return erased
