"""Store a screening, hand it to a site with consent, and erase it on request.

A handoff and its outbox rows are written in one transaction: either the site will
get the summary, or nothing was promised. The relay (prescreen.referral.relay) delivers.
"""
from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import delete, select

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
                   env=None, now: datetime | None = None) -> str:
    """Consent record, handoff with its rendered summary, and outbox rows: one transaction."""
    trial = catalog.trial(trial_id)
    site = trial.sites[0]
    result = evaluate_trial(trial, screening.values(), list(catalog.facts))
    if result.verdict != "possibly_eligible":
        raise ValueError(f"{trial_id} does not fit this screening; no handoff")
    now = now or utcnow()
    consent = Consent(version=consent_version, text=consent_text, accepted_at=now, conversation_id=conversation_id)
    handoff_id = new_id()
    context = summary_context(catalog, trial, site, result, screening.answers, screening.respondent, contact,
                              consent, screening_id, now)
    html, text = render_summary(context)
    payload = {
        "handoff_id": handoff_id,
        "screening_id": screening_id,
        "created_at": now.isoformat(timespec="seconds"),
        "trial_id": trial.id,
        "site": {"id": site.id, "name": site.name, "city": site.city},
        "verdict": result.verdict,
        "respondent": screening.respondent,
        "contact": contact.__dict__,
        "consent": {"version": consent_version, "accepted_at": consent.accepted_at.isoformat(timespec="seconds"),
                    "conversation_id": conversation_id, "text": consent_text},
        "criteria": context["criteria"],
        "answers": [{"fact": f, "said": e.get("said", ""), "value": e.get("value")} for f, e in screening.answers.items()],
        "summary": {"text": text, "html": html},
    }
    with db.transaction() as session:
        consent_row = ConsentRecord(screening_id=screening_id, conversation_id=conversation_id, trial_id=trial.id,
                                    version=consent_version, text=consent_text, accepted_at=now)
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
                 f"version {consent_version}")
        db.audit(session, patient_actor(conversation_id), "handoff_created", f"handoff:{handoff_id}")
    return handoff_id


def erase_conversation(db: Database, conversation_id: str) -> int:
    """Delete every screening of a conversation and all under it: answers, results,
    consents, contact details, handoffs, their pending deliveries and their files in the
    local outbox. Returns how many screenings were erased; the audit log keeps that it
    happened, not what was erased."""
    with db.transaction() as session:
        ids = list(session.scalars(select(ScreeningRecord.id).where(ScreeningRecord.conversation_id == conversation_id)))
        local_files = []
        if ids:
            handoffs = list(session.scalars(select(HandoffRecord.id).where(HandoffRecord.screening_id.in_(ids))))
            if handoffs:
                local_files = session.execute(select(OutboxRecord.target, OutboxRecord.handoff_id).where(
                    OutboxRecord.handoff_id.in_(handoffs), OutboxRecord.channel == "local")).all()
                session.execute(delete(OutboxRecord).where(OutboxRecord.handoff_id.in_(handoffs)))
                session.execute(delete(HandoffNoteRecord).where(HandoffNoteRecord.handoff_id.in_(handoffs)))
                session.execute(delete(HandoffRecord).where(HandoffRecord.id.in_(handoffs)))
            session.execute(delete(ConsentRecord).where(ConsentRecord.screening_id.in_(ids)))
            session.execute(delete(AnswerRecord).where(AnswerRecord.screening_id.in_(ids)))
            session.execute(delete(TrialResultRecord).where(TrialResultRecord.screening_id.in_(ids)))
            session.execute(delete(ScreeningRecord).where(ScreeningRecord.id.in_(ids)))
        db.audit(session, patient_actor(conversation_id), "data_erased", f"screenings:{len(ids)}")
    for folder, handoff_id in local_files:
        remove_local(folder, handoff_id)
    return len(ids)
