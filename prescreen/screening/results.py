"""The end of a screening: one short card per study, and the machine-readable payload.

The chat says once how many studies may fit and where the cards are; each card (the
payload's `message`, at most 50 words) gives the verdict in plain words, the one reason
that matters most for this patient, where, what happens next and when, and the site's
phone where there is one. The rest waits behind "More about this study" (`details`).
"""
from __future__ import annotations

import os
import re
from datetime import date
from typing import Any, Mapping

from prescreen.i18n import plain
from prescreen.screening import wording
from prescreen.screening.eligibility import NOT_ELIGIBLE, POSSIBLY_ELIGIBLE, POSSIBLY_ELIGIBLE_LATER, evaluate_trial
from prescreen.screening.factbank import NOT_SURE
from prescreen.screening.messages import Message
from prescreen.screening.rules import All, AnyOf, Compare, Not, SiteCheck, Truth
from prescreen.screening.trials import Catalog

_ORDER = {POSSIBLY_ELIGIBLE: 0, POSSIBLY_ELIGIBLE_LATER: 1, NOT_ELIGIBLE: 2}
CARD_WORDS = 50  # the most a card says before "More about this study"
CONDITION = "condition"


def results_messages(catalog: Catalog, values: dict[str, Any], today: date | None = None,
                     respondent: str | None = "self", env: Mapping[str, str] | None = None) -> list[Message]:
    """The results turn: one line in the chat saying where the cards are, then the payload.

    `today` dates a waiting period ("from about 12 January 2027"); the caller passes the
    day of the conversation, and only when it is missing is the clock read, here.
    `respondent` ("self", "guardian", "helper") words the cards for who is answering;
    `env` fills the sites' settings (phone, callback days), the process environment by default."""
    today = today or date.today()
    env = os.environ if env is None else env
    order = list(catalog.facts)
    results = [evaluate_trial(trial, values, order, today) for trial in catalog.trials]
    results.sort(key=lambda r: _ORDER[r.verdict])  # studies that may fit first, then those after a wait
    cards = [result_card(catalog, r, values, respondent, env) for r in results]
    verdicts = [r.verdict for r in results]
    # Made plain here, inside the turn: the cards are read in the conversation's language.
    payload = plain({"results": cards, "summary": wording.results_summary(verdicts), "labels": dict(wording.CARD_LABELS)})
    return [Message(wording.results_in_chat(verdicts)), Message(custom=payload)]


def result_card(catalog: Catalog, result, values: Mapping[str, Any], respondent: str | None = "self",
                env: Mapping[str, str] | None = None) -> dict:
    """One study's result for the patient's card, and the machine-readable part.

    `title`, `verdict_text` and `message` are what the patient reads (`message` joins the
    verdict sentence, `reason`, `where`, `next` and the phone line); `details` is shown on
    demand. `criteria` leaves out what does not apply to this patient; `status` is the
    study's recruitment status; `earliest_date` (ISO) comes with "possibly_eligible_later"."""
    trial, verdict = result.trial, result.verdict
    site = trial.sites[0]
    callback = site.resolved_callback_days(env) if len(trial.sites) == 1 else None
    phone = site.phone(env) if len(trial.sites) == 1 else None
    unsure = [catalog.facts[f].label for f in result.open_facts if values.get(f) == NOT_SURE]
    reason, others = _reasons(catalog, result, values, respondent, unsure)
    where = wording.where_text(trial.sites)
    next_step = wording.next_text(verdict, callback)
    phone_line = wording.phone_text(phone) if verdict != NOT_ELIGIBLE else None
    sentence = wording.verdict_sentence(verdict, respondent, result.earliest_date)
    if _words(sentence, reason, where, next_step, phone_line) > CARD_WORDS and not phone:
        phone_line = None  # "no phone number" is the first thing a long card leaves to its details
    if _words(sentence, reason, where, next_step, phone_line) > CARD_WORDS and next_step:
        next_step = wording.NEXT_SHORT
    message = wording.sentences(sentence, reason, where, next_step, phone_line)
    card = {
        "trial_id": result.trial_id,
        "title": trial.short_title,
        "verdict": verdict,
        "verdict_text": wording.VERDICT_LABELS[verdict],
        "status": trial.status,
        "message": message,
        "reason": reason,
        "where": where,
        "next": next_step,
        "phone": phone,
        "phone_text": phone_line,
        "details": _details(trial, result, respondent, unsure, others),
        "criteria": [{"id": r.id, "status": r.status} for r in result.criteria if r.status != "not_applicable"],
    }
    if verdict == POSSIBLY_ELIGIBLE_LATER:
        card["when"] = wording.from_when(result.earliest_date)
        card["earliest_date"] = result.earliest_date.isoformat()
        card["waiting_for"] = [r.id for r in result.failed]
    return card


def _reasons(catalog, result, values, respondent, unsure) -> tuple[str | None, list[str]]:
    """The one reason that matters most for this patient, and the other reasons (for the details)."""
    verdict, trial = result.verdict, result.trial
    if verdict == NOT_ELIGIBLE:
        failures = result.lasting_failures
        illness = next((labels for r in failures if (labels := _illness_labels(catalog, r.criterion, values))), None)
        texts = _unique(wording.rule_reason(r.criterion, respondent) for r in failures)
        if illness:
            first = wording.illness_reason(illness)
            illness_rules = {wording.rule_reason(r.criterion, respondent) for r in failures
                             if _illness_labels(catalog, r.criterion, values)}
            return first, [t for t in texts if t not in illness_rules]
        return texts[0], texts[1:]
    if verdict == POSSIBLY_ELIGIBLE_LATER:
        texts = _unique(wording.rule_reason(r.criterion, respondent) for r in result.failed)
        return texts[0], texts[1:]
    status = wording.STATUS_SHORT.get(trial.status)
    if status:
        return status, []
    if unsure and not trial.criteria_incomplete:
        return wording.UNSURE_ON_CARD, []
    return None, []


def _illness_labels(catalog, criterion, values) -> list[str] | None:
    """When an inclusion fails because of the patient's illness: the illnesses it is for."""
    if criterion.kind != "inclusion" or criterion.rule is None or values.get(CONDITION) in (None, NOT_SURE):
        return None
    compares = [node for node in _nodes(criterion.rule) if isinstance(node, Compare) and node.fact == CONDITION]
    failing = [node for node in compares if node.evaluate(values) is Truth.FALSE and node.op in ("eq", "in")]
    if not failing:
        return None
    wanted = set()
    for node in failing:
        wanted |= set(node.value) if isinstance(node.value, (list, tuple, set, frozenset)) else {node.value}
    return [o.label for o in catalog.facts[CONDITION].options if o.id in wanted]  # in the fact bank's order


def _nodes(node):
    yield node
    if isinstance(node, (All, AnyOf)):
        for child in node.children:
            yield from _nodes(child)
    elif isinstance(node, Not):
        yield from _nodes(node.child)


def _details(trial, result, respondent, unsure, others) -> dict:
    """"More about this study": the summary, notes, other reasons, what the team still checks."""
    notes = [n for n in (wording.status_note(trial), trial.age_note) if n]
    details = {"summary": trial.summary_for(respondent), "notes": notes, "other_reasons": others}
    if result.verdict == NOT_ELIGIBLE:
        return details
    if trial.criteria_incomplete:
        details["notes"].append(wording.incomplete_rules_text(unsure))
        checks = []
    else:
        texts = []
        for r in result.site_checks:
            texts.append(r.criterion.text)
            if r.criterion.rule is not None:
                texts += [node.note for node in _nodes(r.criterion.rule) if isinstance(node, SiteCheck)]
        checks = wording.check_topics(texts)
        if unsure:
            checks.insert(0, wording.not_sure_about(unsure))
    details["checks"] = checks
    return details


_HAN = re.compile(r"[\u4e00-\u9fff]")
_LATIN_WORD = re.compile(r"[A-Za-z0-9]+")


def _words(*parts) -> int:
    """Words as a reader counts them: Chinese has no spaces, so two characters count as one word
    (and each Latin name or number in it, "CAR-T", "12356", as one)."""
    total = 0
    for part in (str(p) for p in parts if p):
        han = len(_HAN.findall(part))
        total += len(part.split()) if not han else (han + 1) // 2 + len(_LATIN_WORD.findall(part))
    return total


def _unique(texts) -> list[str]:
    out = []
    for text in texts:
        if text not in out:
            out.append(text)
    return out
