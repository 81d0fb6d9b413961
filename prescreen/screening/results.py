"""The end of a screening: each study's verdict in plain words, and the machine-readable payload."""
from __future__ import annotations

from datetime import date
from typing import Any

from prescreen.screening import wording
from prescreen.screening.eligibility import NOT_ELIGIBLE, POSSIBLY_ELIGIBLE, POSSIBLY_ELIGIBLE_LATER, evaluate_trial
from prescreen.screening.factbank import NOT_SURE
from prescreen.screening.messages import Message
from prescreen.screening.trials import Catalog

_ORDER = {POSSIBLY_ELIGIBLE: 0, POSSIBLY_ELIGIBLE_LATER: 1, NOT_ELIGIBLE: 2}


def results_messages(catalog: Catalog, values: dict[str, Any], today: date | None = None) -> list[Message]:
    """The results turn: an introduction, one message per study, the payload, what next.

    `today` dates a waiting period ("from about 12 January 2027"); the caller passes the
    day of the conversation, and only when it is missing is the clock read, here."""
    today = today or date.today()
    order = list(catalog.facts)
    results = [evaluate_trial(trial, values, order, today) for trial in catalog.trials]
    results.sort(key=lambda r: _ORDER[r.verdict])  # studies that may fit first, then those after a wait
    said = {}
    for result in results:
        if result.verdict == NOT_ELIGIBLE:
            said[result.trial_id] = wording.does_not_fit(result.trial, result.lasting_failures)
            continue
        unsure = [catalog.facts[f].label for f in result.open_facts if values.get(f) == NOT_SURE]
        if result.verdict == POSSIBLY_ELIGIBLE_LATER:
            said[result.trial_id] = wording.may_fit_later(result.trial, result.failed, result.earliest_date,
                                                          result.site_checks, unsure)
        else:
            said[result.trial_id] = wording.may_fit(result.trial, result.site_checks, unsure)
    messages = [Message(wording.RESULTS_INTRO)] + [Message(said[r.trial_id]) for r in results]
    messages.append(Message(custom={"results": [_payload(r, said[r.trial_id]) for r in results]}))
    fits = [r.trial for r in results if r.may_fit]
    messages.append(Message(wording.what_next(fits)))
    return messages


def _payload(result, message: str) -> dict:
    """The machine-readable result: criteria that do not apply to this patient are left out.
    `title` and `message` are what the patient reads, for a page that shows result cards;
    `status` is the study's recruitment status; `earliest_date` (ISO) comes with
    "possibly_eligible_later"."""
    payload = {
        "trial_id": result.trial_id,
        "title": result.trial.short_title,
        "verdict": result.verdict,
        "status": result.trial.status,
        "message": message,
        "criteria": [{"id": r.id, "status": r.status} for r in result.criteria if r.status != "not_applicable"],
    }
    if result.verdict == POSSIBLY_ELIGIBLE_LATER:
        payload["earliest_date"] = result.earliest_date.isoformat()
        payload["waiting_for"] = [r.id for r in result.failed]
    return payload
