"""Store a screening, hand it to a site with consent, and erase it on request.

A handoff and its outbox rows are written in one transaction: either the site will
get the summary, or nothing was promised. The relay (prescreen.referral.relay) delivers.

What a site sees names the screening by its reference (the screening id: random, and
accepted by nothing as a credential), never by the conversation id, which is the
patient's session. Erasure keeps, for each handoff, a "withdrawn" row with no
personal data, and queues a withdrawal notice through every channel that delivered
(or was delivering) the summary, with the relay's usual retries.
"""
from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from prescreen import i18n
from prescreen.i18n import _
from prescreen.screening.conversation import Screening
from prescreen.referral.delivery import channels_for, remove_local
from prescreen.screening.eligibility import evaluate_trial
from prescreen.storage import (
    AnswerRecord,
    ConsentRecord,
    Database,
    HandoffNoteRecord,
    HandoffRecord,
    OutboxRecord,
    ScreeningRecord,
    TrialResultRecord,
    new_id,
    utcnow,
)
from prescreen.referral.summary import Consent, Contact, render_summary, summary_context
from prescreen.screening.trials import Catalog


WITHDRAWN = "withdrawn"
# The withdrawal notice a site receives, in the language its team reads.
WITHDRAWAL_TITLE = _("Withdrawal")
WITHDRAWAL_HEADING = _("WITHDRAWAL")
WITHDRAWAL_TEXT = _("The patient of pre-screening {reference} ({trial}, {site}) withdrew on {when} UTC and asked for "
                    "their data to be erased.")
WITHDRAWAL_ASK = _("Please delete the summary you received and any copy of it, and do not contact the patient.")


class NotYourScreening(PermissionError):
    """The screening does not belong to this conversation."""


def patient_actor(conversation_id: str) -> str:
    """How the audit log names a patient: a digest, so an erased conversation leaves no id behind."""
    return "patient:" + hashlib.sha256(conversation_id.encode()).hexdigest()[:16]


def save_screening(db: Database, catalog: Catalog, conversation_id: str, screening: Screening,
                   screening_id: str | None = None) -> str:
    """Store (or replace) the answers and every trial's result. Nothing identifying is in here."""
    values = screening.values()
    order = list(catalog.facts)
    with db.transaction() as session:
        record = session.get(ScreeningRecord, screening_id) if screening_id else None
        if record is None:
            record = ScreeningRecord(id=screening_id or new_id(), conversation_id=conversation_id)
            session.add(record)
        record.respondent = screening.respondent
        record.answers = [AnswerRecord(fact=f, value=e["value"], said=e.get("said", ""))
                          for f, e in screening.answers.items()]
        record.results = []
        for trial in catalog.trials:
            result = evaluate_trial(trial, values, order)
            record.results.append(TrialResultRecord(
                trial_id=trial.id, verdict=result.verdict,
                criteria=[{"id": r.id, "kind": r.criterion.kind, "status": r.status, "text": r.criterion.text}
                          for r in result.criteria]))
        db.audit(session, patient_actor(conversation_id), "screening_saved", record.id)
        return record.id


def create_handoff(db: Database, catalog: Catalog, conversation_id: str, screening_id: str, screening: Screening,
                   trial_id: str, contact: Contact, consent_version: str, consent_text: str,
                   env=None, now: datetime | None = None, consent_language: str = "en") -> str:
    """Consent record, handoff with its rendered summary, and outbox rows: one transaction.
    The consent record keeps the text, its language ("en" or "zh") and that language's version.
    Refused (NotYourScreening, audited) when the screening is not this conversation's."""
    if consent_language not in i18n.LANGUAGES:
        raise ValueError(f"consent language must be one of {', '.join(i18n.LANGUAGES)}")
    with db.transaction() as session:
        owner = session.scalar(select(ScreeningRecord.conversation_id).where(ScreeningRecord.id == screening_id))
    if owner is None or owner != conversation_id:
        with db.transaction() as session:
            db.audit(session, patient_actor(conversation_id), "access_denied", f"screening:{screening_id}",
                     "handoff for a screening of another conversation", success=False)
        raise NotYourScreening(screening_id)
    trial = catalog.trial(trial_id)
    site = trial.sites[0]
    result = evaluate_trial(trial, screening.values(), list(catalog.facts))
    if not result.may_fit:
        raise ValueError(f"{trial_id} does not fit this screening; no handoff")
    now = now or utcnow()
    consent = Consent(version=consent_version, text=consent_text, accepted_at=now, conversation_id=conversation_id,
                      language=consent_language)
    handoff_id = new_id()
    context = summary_context(catalog, trial, site, result, screening.answers, screening.respondent, contact,
                              consent, screening_id, now)
    html, text = render_summary(context)
    payload = {
        "type": "handoff",
        "handoff_id": handoff_id,
        "screening_id": screening_id,
        "screening_reference": screening_id,
        "created_at": now.isoformat(timespec="seconds"),
        "trial_id": trial.id,
        "site": {"id": site.id, "name": site.name, "city": site.city, "language": site.language},
        "verdict": result.verdict,
        "respondent": screening.respondent,
        "contact": contact.__dict__,
        "consent": {"version": consent_version, "language": consent_language,
                    "accepted_at": consent.accepted_at.isoformat(timespec="seconds"), "text": consent_text},
        "criteria": context["criteria"],
        "answers": [{"fact": f, "said": e.get("said", ""), "value": e.get("value")} for f, e in screening.answers.items()],
        "summary": {"text": text, "html": html},
    }
    with db.transaction() as session:
        consent_row = ConsentRecord(screening_id=screening_id, conversation_id=conversation_id, trial_id=trial.id,
                                    version=consent_version, language=consent_language, text=consent_text,
                                    accepted_at=now)
        session.add(consent_row)
        session.flush()
        handoff = HandoffRecord(
            id=handoff_id, screening_id=screening_id, consent_id=consent_row.id, trial_id=trial.id,
            site_id=site.id, site_name=site.name, contact_name=contact.name, contact_phone=contact.phone,
            contact_email=contact.email, preferred_time=contact.preferred_time, language=contact.language,
            summary_html=html, summary_text=text, payload=payload, created_at=now)
        handoff.outbox = [
            OutboxRecord(channel=ch.kind, target=ch.target, secret_setting=ch.secret_setting,
                         idempotency_key=f"{handoff_id}-{ch.kind}", next_attempt_at=now)
            for ch in channels_for(trial, site, env)
        ]
        session.add(handoff)
        db.audit(session, patient_actor(conversation_id), "consent_given", f"consent:{trial.id}",
                 f"version {consent_version} ({consent_language})")
        db.audit(session, patient_actor(conversation_id), "handoff_created", f"handoff:{handoff_id}")
    return handoff_id


def erase_conversation(db: Database, conversation_id: str, actor: str | None = None,
                       now: datetime | None = None) -> int:
    """Delete every screening of a conversation and all under it: answers, results,
    contact details, notes, pending deliveries and their files in the local outbox.
    Each handoff stays as a "withdrawn" row with no personal data, and every site that
    received (or was being sent) a summary is sent a withdrawal notice. Returns how
    many screenings were erased; the audit log keeps that it happened, not what was
    erased. On SQLite the freed pages are overwritten and the WAL is checkpointed."""
    actor = actor or patient_actor(conversation_id)
    now = now or utcnow()
    with db.transaction() as session:
        ids = list(session.scalars(select(ScreeningRecord.id).where(ScreeningRecord.conversation_id == conversation_id)))
        local_files = erase_screenings(db, session, ids, actor, now)
        db.audit(session, actor, "data_erased", f"screenings:{len(ids)}")
    for folder, handoff_id in local_files:
        remove_local(folder, handoff_id)
    db.checkpoint()
    return len(ids)


def conversation_of_screening(db: Database, screening_id: str) -> str | None:
    with db.transaction() as session:
        return session.scalar(select(ScreeningRecord.conversation_id).where(ScreeningRecord.id == screening_id))


def erase_screenings(db: Database, session, ids: list[str], actor: str, now: datetime) -> list[tuple[str, str]]:
    """Erase these screenings in the caller's transaction; the local files to remove."""
    if not ids:
        return []
    local_files: list[tuple[str, str]] = []
    handoffs = list(session.scalars(select(HandoffRecord).where(HandoffRecord.screening_id.in_(ids))))
    kept_screenings = set()
    for handoff in handoffs:
        if handoff.status == WITHDRAWN:
            kept_screenings.add(handoff.screening_id)
            continue
        rows = list(session.scalars(select(OutboxRecord).where(OutboxRecord.handoff_id == handoff.id)))
        informed = [r for r in rows if r.status in ("delivered", "sending")]
        in_flight = any(r.status == "sending" for r in rows)
        local_files += [(r.target, handoff.id) for r in rows if r.channel == "local"]
        session.execute(delete(OutboxRecord).where(OutboxRecord.handoff_id == handoff.id))
        session.execute(delete(HandoffNoteRecord).where(HandoffNoteRecord.handoff_id == handoff.id))
        _withdrawn(handoff, now)
        # A summary being sent now may still arrive: its notice waits until that send is over.
        due = now + timedelta(seconds=lease_grace_seconds()) if in_flight else now
        seen = set()
        for row in informed:
            if (row.channel, row.target) in seen:
                continue
            seen.add((row.channel, row.target))
            session.add(OutboxRecord(handoff_id=handoff.id, channel=row.channel, target=row.target,
                                     secret_setting=row.secret_setting, next_attempt_at=due,
                                     idempotency_key=f"{handoff.id}-{row.channel}-withdrawn"))
        if in_flight:
            db.audit(session, actor, "withdrawn_during_send", f"handoff:{handoff.id}", "a notice follows",
                     success=False)
        db.audit(session, actor, "handoff_withdrawn", f"handoff:{handoff.id}",
                 f"notice to {len(seen)} channel(s)" if seen else "not delivered yet: no notice needed")
        kept_screenings.add(handoff.screening_id)
    session.execute(update(ConsentRecord).where(ConsentRecord.screening_id.in_(ids)).values(conversation_id=""))
    session.execute(delete(AnswerRecord).where(AnswerRecord.screening_id.in_(ids)))
    session.execute(delete(TrialResultRecord).where(TrialResultRecord.screening_id.in_(ids)))
    gone = [i for i in ids if i not in kept_screenings]
    if gone:
        session.execute(delete(ConsentRecord).where(ConsentRecord.screening_id.in_(gone)))
        session.execute(delete(ScreeningRecord).where(ScreeningRecord.id.in_(gone)))
    if kept_screenings:  # the reference stays, for the withdrawn rows; nothing else does
        session.execute(update(ScreeningRecord).where(ScreeningRecord.id.in_(sorted(kept_screenings)))
                        .values(conversation_id="", respondent=None))
    return local_files


def lease_grace_seconds() -> float:
    """How long a send in progress may take: the relay's lease (RELAY_LEASE_SECONDS)."""
    return float(os.environ.get("RELAY_LEASE_SECONDS", "60"))


def site_language(handoff: HandoffRecord) -> str:
    """The language the site's team reads, as its handoff recorded it (English for older handoffs)."""
    site = (handoff.payload or {}).get("site") if isinstance(handoff.payload, dict) else None
    language = site.get("language") if isinstance(site, dict) else None
    return language if language in i18n.LANGUAGES else i18n.DEFAULT


def site_languages(handoff: HandoffRecord) -> list[str]:
    """What a notice to the site is written in: the team's language first, then English (which stays
    available to every site: whoever reads the mailbox can act on a withdrawal)."""
    language = site_language(handoff)
    return [language] if language == i18n.DEFAULT else [language, i18n.DEFAULT]


def withdrawal_notice(handoff: HandoffRecord, now: datetime) -> tuple[dict, str, str]:
    """(payload, text, html) telling a site that the patient withdrew: no personal data.
    In the language the site's team reads (and English), whatever the patient's."""
    languages = site_languages(handoff)
    payload = {"type": "withdrawal", "handoff_id": handoff.id, "screening_reference": handoff.screening_id,
               "trial_id": handoff.trial_id,
               "site": {"id": handoff.site_id, "name": handoff.site_name, "language": languages[0]},
               "withdrawn_at": now.isoformat(timespec="seconds")}
    blocks = []
    for language in languages:
        with i18n.using(language):
            sentence = WITHDRAWAL_TEXT.format(reference=handoff.screening_id, trial=handoff.trial_id,
                                              site=handoff.site_name, when=f"{now:%Y-%m-%d %H:%M}")
            blocks.append(f"{WITHDRAWAL_HEADING}\n{sentence}\n{WITHDRAWAL_ASK}\n")
    text = "\n".join(blocks)
    with i18n.using(languages[0]):
        title = str(WITHDRAWAL_TITLE)
    html = f"<!doctype html><meta charset=utf-8><title>{title}</title><pre>" + (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")) + "</pre>"
    return payload, text, html


def _withdrawn(handoff: HandoffRecord, now: datetime) -> None:
    payload, text, html = withdrawal_notice(handoff, now)
    handoff.status = WITHDRAWN
    handoff.contact_name, handoff.contact_phone, handoff.contact_email = "withdrawn", None, None
    handoff.preferred_time = handoff.language = None
    handoff.summary_text, handoff.summary_html, handoff.payload = text, html, json.loads(json.dumps(payload))
