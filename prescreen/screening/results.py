"""The end of a screening: each study's verdict in plain words, and the machine-readable payload."""
from __future__ import annotations

from typing import Any

from prescreen.screening import wording
from prescreen.screening.eligibility import NOT_ELIGIBLE, POSSIBLY_ELIGIBLE, evaluate_trial
from prescreen.screening.factbank import NOT_SURE
from prescreen.screening.messages import Message
from prescreen.screening.trials import Catalog


def results_messages(catalog: Catalog, values: dict[str, Any]) -> list[Message]:
    """The results turn: an introduction, one message per study, the payload, what next."""
    order = list(catalog.facts)
    results = [evaluate_trial(trial, values, order) for trial in catalog.trials]
    results.sort(key=lambda r: r.verdict != POSSIBLY_ELIGIBLE)  # studies that may fit first
    said = {}
    for result in results:
        if result.verdict == NOT_ELIGIBLE:
            said[result.trial_id] = wording.does_not_fit(result.trial, result.failed)
        else:
            unsure = [catalog.facts[f].label for f in result.open_facts if values.get(f) == NOT_SURE]
            said[result.trial_id] = wording.may_fit(result.trial, result.site_checks, unsure)
    messages = [Message(wording.RESULTS_INTRO)] + [Message(said[r.trial_id]) for r in results]
    messages.append(Message(custom={"results": [_payload(r, said[r.trial_id]) for r in results]}))
    fits = [r.trial for r in results if r.verdict == POSSIBLY_ELIGIBLE]
    messages.append(Message(wording.what_next(fits)))
    return messages


def _payload(result, message: str) -> dict:
    """The machine-readable result: criteria that do not apply to this patient are left out.
    `title` and `message` are what the patient reads, for a page that shows result cards."""
    return {
        "trial_id": result.trial_id,
        "title": result.trial.short_title,
        "verdict": result.verdict,
        "message": message,
        "criteria": [{"id": r.id, "status": r.status} for r in result.criteria if r.status != "not_applicable"],
    }
