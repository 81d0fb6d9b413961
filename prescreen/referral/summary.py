"""The summary a study team receives: HTML (autoescaped) and plain text, from Jinja2."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from prescreen.screening.eligibility import TrialResult
from prescreen.screening.factbank import NOT_SURE, Fact
from prescreen.screening.trials import Catalog, Site, Trial

STATUS_LABELS = {
    "met": "met", "not_met": "not met", "unknown": "unknown", "verify_site": "site to verify",
    "not_applicable": "does not apply",
}
VERDICT_LABELS = {"possibly_eligible": "may be a match", "possibly_eligible_later": "may fit after a waiting period",
                  "not_eligible": "does not fit"}
STUDY_STATUS_LABELS = {"recruiting": "recruiting", "not_yet_recruiting": "not yet recruiting",
                       "active_not_recruiting": "active, not recruiting", "completed": "completed",
                       "unknown": "unknown"}
RESPONDENT_LABELS = {"self": "the patient", "guardian": "a parent or guardian (about their child)",
                     "helper": "someone helping the patient"}

# Autoescape on for HTML, so nothing a patient types can become markup; the text
# version is plain text and escapes nothing.
_html = Environment(loader=PackageLoader("prescreen.referral", "templates"), autoescape=select_autoescape(["j2"]),
                    undefined=StrictUndefined)
_text = Environment(loader=PackageLoader("prescreen.referral", "templates"), autoescape=False, undefined=StrictUndefined,
                    keep_trailing_newline=True)


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str | None = None
    email: str | None = None
    preferred_time: str | None = None
    language: str | None = None
    medicines: str | None = None  # what the patient typed about their current medicines: for the site, never for rules


@dataclass(frozen=True)
class Consent:
    version: str
    text: str
    accepted_at: datetime
    conversation_id: str


def summary_context(catalog: Catalog, trial: Trial, site: Site, result: TrialResult, answers: dict[str, dict],
                    respondent: str | None, contact: Contact, consent: Consent, screening_id: str,
                    created_at: datetime, tz: tzinfo | None = None) -> dict:
    """Everything the templates show, as plain values. Times are in `tz` (default: STAFF_TIMEZONE)."""
    tz = tz or site_timezone()
    facts = catalog.facts
    values = {fact: entry.get("value") for fact, entry in answers.items()}
    waiting = _waiting(result, created_at)
    earliest = _earliest(result, created_at)
    statuses = {r.id: r.status for r in result.criteria}
    return {
        "trial": trial,
        "site": site,
        "verdict_label": VERDICT_LABELS[result.verdict],
        "waiting": waiting,
        "study_status": STUDY_STATUS_LABELS.get(trial.status, trial.status),
        "contact": contact,
        "consent": consent,
        "consent_accepted": local_time(consent.accepted_at, tz),
        "respondent_label": RESPONDENT_LABELS.get(respondent or "", "not recorded"),
        "profile": profile(catalog, trial, values, respondent, contact.__dict__, result.verdict, earliest),
        "to_verify": to_verify(catalog, trial, statuses, values),
        "checklist": [{"text": r.criterion.text, "status": r.status} for r in result.site_checks],
        "criteria": [{"id": r.id, "kind": r.criterion.kind, "status": r.status, "text": r.criterion.text}
                     for r in result.criteria],
        "status_labels": STATUS_LABELS,
        "answers": readable_answers(facts, answers),
        "screening_id": screening_id,
        "created_at": local_time(created_at, tz),
    }


def site_timezone() -> tzinfo:
    """The sites' zone (STAFF_TIMEZONE, as the staff pages use): every time a site reads is in it."""
    return ZoneInfo(os.environ.get("STAFF_TIMEZONE") or "Asia/Shanghai")


def local_time(moment: datetime | None, tz: tzinfo) -> str:
    """"2026-11-23 18:00 (Asia/Shanghai)": a site's local time, naming the zone."""
    if moment is None:
        return ""
    name = getattr(tz, "key", None) or moment.astimezone(tz).tzname()
    return f"{moment.astimezone(tz):%Y-%m-%d %H:%M} ({name})"


def _earliest(result: TrialResult, created_at: datetime) -> date | None:
    if result.verdict != "possibly_eligible_later" or result.wait_days is None:
        return None
    return result.earliest_date or (created_at.date() + timedelta(days=result.wait_days))


def _waiting(result: TrialResult, created_at: datetime) -> str | None:
    """For "may fit after a waiting period": from when, and which criteria make the patient wait."""
    earliest = _earliest(result, created_at)
    if earliest is None:
        return None
    return f"from about {earliest.isoformat()}, because of {', '.join(r.id for r in result.failed)}"


# ---- the one-line profile ---------------------------------------------------------------------------------

def profile(catalog: Catalog, trial: Trial | None, values: Mapping[str, Any], respondent: str | None,
            contact: Mapping[str, Any], verdict: str | None, earliest: date | None = None,
            status: str | None = None, study: str | None = None) -> dict:
    """Who the patient is, at a glance: age, sex, illness, who answered, language, best time,
    the study's short title, the pre-screening verdict (with the earliest date after a waiting
    period) and, for staff, the workflow status. `values` are the stored (encoded) answers.
    Returns each part (None where not given) and `line`, the parts in words joined by " · "."""
    facts = catalog.facts
    age = values.get("age")
    age = age if isinstance(age, int) and not isinstance(age, bool) else None
    sex = _option(facts.get("sex"), values.get("sex"))
    illness = _option(facts.get("condition"), values.get("condition"))
    language = (contact.get("language") or "").strip() or None
    best_time = (contact.get("preferred_time") or "").strip() or None
    found = {
        "age": age, "sex": sex, "illness": illness, "answered_by": answered_by(respondent, age),
        "language": language, "best_time": best_time, "study": trial.short_title if trial is not None else (study or ""),
        "verdict": verdict_line(verdict, earliest), "status": status,
    }
    shown = [("age", f"{age} years" if age is not None else "age not given", age is None),
             ("sex", sex or "sex not given", sex is None),
             ("illness", illness or "illness not given", illness is None),
             ("answered_by", found["answered_by"], respondent is None),
             ("language", language or "language not given", language is None),
             ("best_time", f"best time: {best_time or 'not given'}", best_time is None),
             ("study", found["study"], False), ("verdict", found["verdict"], False), ("status", status or "", False)]
    found["parts"] = [{"key": key, "text": text, "missing": missing} for key, text, missing in shown if text]
    found["line"] = " · ".join(part["text"] for part in found["parts"])
    return found


def answered_by(respondent: str | None, age: int | None) -> str:
    """"answered by the patient", "parent of a 9-year-old", "a helper answered"."""
    if respondent == "guardian":
        return f"parent of a {age}-year-old" if age is not None else "a parent answered"
    if respondent == "helper":
        return "a helper answered"
    if respondent == "self":
        return "answered by the patient"
    return "who answered: not recorded"


def verdict_line(verdict: str | None, earliest: date | None = None) -> str:
    label = VERDICT_LABELS.get(verdict or "", "")
    if verdict == "possibly_eligible_later" and earliest is not None:
        return f"{label} (from about {earliest.isoformat()})"
    return label


# ---- still to verify, grouped -----------------------------------------------------------------------------

# Routine items every study lists: collapsed, so what matters for this patient stands out.
BOILERPLATE_IDS = {"inc-consent", "exc-investigator"}
_BOILERPLATE = {
    "inclusion": re.compile(r"informed consent|complian|cooperate with (the )?follow", re.IGNORECASE),
    "exclusion": re.compile(r"investigators?'?s?\b.{0,40}\b(deem|consider|judg|opinion|think)"
                            r"|(judg\w*|opinion) of the investigator", re.IGNORECASE),
}
VERIFY_LABELS = {"not_sure": "patient not sure", "unknown": "not asked", "unclear": "answer not precise",
                 "verify_site": "verify at site"}
_NUMBERING = re.compile(r"^\s*\(?\d{1,2}\s*[.、)）]\s*")


def is_boilerplate(criterion) -> bool:
    pattern = _BOILERPLATE.get(criterion.kind)
    return criterion.id in BOILERPLATE_IDS or bool(pattern and pattern.search(criterion.text))


def to_verify(catalog: Catalog, trial: Trial | None, statuses: Mapping[str, str], values: Mapping[str, Any]) -> dict:
    """What the study team must still check, from each criterion's status: under "inclusion"
    and "exclusion", in the listing's own order with the criteria the patient was not sure
    about first; the routine items (consent, compliance, the investigator's judgement) apart,
    under "routine". Each item: text (without the listing's number), status, status_label,
    and `open`, the labels of the questions the patient was not sure about or was not asked."""
    groups: dict[str, list[dict]] = {"inclusion": [], "exclusion": [], "routine": []}
    if trial is None:
        return groups
    facts = catalog.facts
    for criterion in trial.criteria:
        status = statuses.get(criterion.id)
        if status not in ("unknown", "verify_site"):
            continue
        asked = criterion.facts()
        not_sure = _in_bank_order(facts, {f for f in asked if values.get(f) == NOT_SURE})
        unasked = {f for f in asked if f not in values}
        # "When was it?" is open only because "did you have it?" is: name the question itself.
        unasked = _in_bank_order(facts, {f for f in unasked if not (f.endswith("_when") and f[:-5] in unasked)})
        # Unknown: the patient was not sure, was not asked, or answered too vaguely to decide ("in 2019").
        shown = status if status != "unknown" else "not_sure" if not_sure else "unknown" if unasked else "unclear"
        opened = not_sure or unasked or _in_bank_order(facts, {f for f in asked if _is_range(values.get(f))}) \
            or _in_bank_order(facts, {f for f in asked if f in values})
        item = {"id": criterion.id, "kind": criterion.kind, "text": _NUMBERING.sub("", criterion.text).strip(),
                "status": shown, "status_label": VERIFY_LABELS[shown],
                "open": [staff_label(facts[f]) if f in facts else f for f in opened] if status == "unknown" else []}
        groups["routine" if is_boilerplate(criterion) else criterion.kind].append(item)
    for kind in ("inclusion", "exclusion"):
        groups[kind].sort(key=lambda item: item["status"] != "not_sure")  # stable: the listing's order otherwise
    return groups


def _is_range(value: Any) -> bool:
    """A "how long ago" answer that is a span of days ("in 2019"), not one day."""
    span = value.get("days_ago") if isinstance(value, dict) else None
    return bool(span) and span[0] != span[1]


def _in_bank_order(facts: Mapping[str, Fact], found: set[str]) -> list[str]:
    order = {fact: i for i, fact in enumerate(facts)}
    return sorted(found, key=lambda f: (order.get(f, len(order)), f))


# ---- answers in words -------------------------------------------------------------------------------------

def readable_answers(facts: Mapping[str, Fact], answers: Mapping[str, Mapping[str, Any]]) -> list[dict]:
    """Each answer: the question's short name, the patient's words, and what was recorded, in words."""
    return [{"fact": fact, "question": staff_label(facts[fact]) if fact in facts else fact,
             "said": entry.get("said", ""), "value": readable(facts.get(fact), entry.get("value"))}
            for fact, entry in answers.items()]


def staff_label(fact: Fact) -> str:
    """A fact's short name for staff: "Your illness" becomes "Illness"."""
    label = fact.label or fact.id
    if label.lower().startswith("your "):
        label = label[5:]
    return label[:1].upper() + label[1:]


def readable(fact: Fact | None, value: Any) -> str:
    """A stored answer in words: "Lupus (SLE)", "yes", "about 2 years ago", never an internal code."""
    if value is None:
        return "not given"
    if value == NOT_SURE:
        return "not sure"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict) and "days_ago" in value:
        low, high = value["days_ago"]
        return ago(low, high)
    if isinstance(value, dict) and "set" in value:
        value = value["set"]
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(_option(fact, v) or str(v) for v in value) or "none"
    return _option(fact, value) or str(value)


def ago(low: float, high: float | None) -> str:
    """A day range in words: "about 2 years ago", "more than about 5 years ago", "about 3 to 6 months ago".
    Patients estimate, so anything longer than two weeks is "about"."""
    if high is None or high == float("inf"):
        return f"more than {_about(low)} ago" if low else "at some time"
    if low == high:
        return "today" if low == 0 else f"{_about(low)} ago"
    if low == 0:
        return f"less than {_about(high)} ago"
    first, second = _about(low), _about(high)
    first_n, _, first_unit = first.removeprefix("about ").partition(" ")
    if first_unit.rstrip("s") == second.removeprefix("about ").partition(" ")[2].rstrip("s"):
        return f"about {first_n} to {second.removeprefix('about ')} ago"
    return f"between {first} and {second} ago"


def _about(days: float) -> str:
    days = int(round(days))
    if days < 14:
        return f"{days} day{'s' if days != 1 else ''}"
    for unit, size, since in (("year", 365, 700), ("month", 30, 60), ("week", 7, 14)):
        if days >= since:
            n = round(days / size)
            return f"about {n} {unit}{'s' if n != 1 else ''}"
    return f"{days} days"


def _option(fact: Fact | None, value: Any) -> str | None:
    if value == NOT_SURE:
        return "not sure"
    if fact is None or value is None:
        return None
    return next((o.label for o in fact.options if o.id == value), None)


def render_summary(context: dict) -> tuple[str, str]:
    """(html, text) for one handoff."""
    return (_html.get_template("summary.html.j2").render(**context),
            _text.get_template("summary.txt.j2").render(**context))
