"""The summary a study team receives: HTML (autoescaped) and plain text, from Jinja2.

It is written in the site's language (`Site.language`, set per site in the trial file):
every fixed label is a marked text (the staff catalog), the study's short title and the
answers' labels follow the language of the data, and what the patient typed (name,
medicines, free text) is shown exactly as typed. Times are in the sites' zone."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from prescreen import i18n
from prescreen.i18n import _
from prescreen.screening.eligibility import TrialResult
from prescreen.screening.factbank import NOT_SURE, Fact
from prescreen.screening.trials import Catalog, Site, Trial

STATUS_LABELS = {
    "met": _("met"), "not_met": _("not met"), "unknown": _("unknown"), "verify_site": _("site to verify"),
    "not_applicable": _("does not apply"),
}
VERDICT_LABELS = {"possibly_eligible": _("may be a match"),
                  "possibly_eligible_later": _("may fit after a waiting period"),
                  "not_eligible": _("does not fit")}
STUDY_STATUS_LABELS = {"recruiting": _("recruiting"), "not_yet_recruiting": _("not yet recruiting"),
                       "active_not_recruiting": _("active, not recruiting"), "completed": _("completed"),
                       "unknown": _("unknown")}
RESPONDENT_LABELS = {"self": _("the patient"), "guardian": _("a parent or guardian (about their child)"),
                     "helper": _("someone helping the patient")}
KIND_LABELS = {"inclusion": _("inclusion"), "exclusion": _("exclusion")}
LANGUAGE_NAMES = {"en": _("English"), "zh": _("Chinese")}
# What stands between the items of a list ("Lupus (SLE), Sjögren's syndrome"); "、" in Chinese.
LIST_SEPARATOR = _(", ")
# How dates and times are written (strftime patterns), and the zone's name as a site reads it.
DATE_FORMAT = _("%Y-%m-%d")
DATE_TIME_FORMAT = _("%Y-%m-%d %H:%M")
ZONED_TIME = _("{time} ({zone})")
ZONE_NAMES = {"Asia/Shanghai": _("Asia/Shanghai")}
HTML_LANG = {"en": "en", "zh": "zh-CN"}

# Autoescape on for HTML, so nothing a patient types can become markup; the text
# version is plain text and escapes nothing. Both read the staff catalog (Jinja's i18n).
_html = Environment(loader=PackageLoader("prescreen.referral", "templates"), autoescape=select_autoescape(["j2"]),
                    undefined=StrictUndefined)
_text = Environment(loader=PackageLoader("prescreen.referral", "templates"), autoescape=False, undefined=StrictUndefined,
                    keep_trailing_newline=True)
i18n.jinja_i18n(_html)
i18n.jinja_i18n(_text)


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
    language: str | None = None  # the language of the consent text the patient agreed to ("zh", "en")


def summary_context(catalog: Catalog, trial: Trial, site: Site, result: TrialResult, answers: dict[str, dict],
                    respondent: str | None, contact: Contact, consent: Consent, screening_id: str,
                    created_at: datetime, tz: tzinfo | None = None, language: str | None = None) -> dict:
    """Everything the templates show, as plain values, in `language` (default: the site's own,
    `site.language`). Times are in `tz` (default: STAFF_TIMEZONE)."""
    language = i18n.normal_language(language or getattr(site, "language", None)) or i18n.DEFAULT
    with i18n.using(language):
        return _context(catalog, trial, site, result, answers, respondent, contact, consent, screening_id,
                        created_at, tz or site_timezone(), language)


def _context(catalog, trial, site, result, answers, respondent, contact, consent, screening_id, created_at, tz,
             language) -> dict:
    facts = catalog.facts
    values = {fact: entry.get("value") for fact, entry in answers.items()}
    waiting = _waiting(result, created_at)
    earliest = _earliest(result, created_at)
    statuses = {r.id: r.status for r in result.criteria}
    return {
        "language": language,
        "html_lang": HTML_LANG.get(language, language),
        "trial": trial,
        "site": site,
        "verdict_label": str(VERDICT_LABELS[result.verdict]),
        "waiting": waiting,
        "study_status": str(STUDY_STATUS_LABELS.get(trial.status, trial.status)),
        # A choice is stored as its English label and shown in the site's language; typed words as typed.
        "contact": replace(contact, preferred_time=i18n.said(contact.preferred_time), language=i18n.said(contact.language)),
        "consent": consent,
        "consent_language": str(LANGUAGE_NAMES.get(consent.language or "", consent.language or "")),
        "consent_accepted": local_time(consent.accepted_at, tz),
        "respondent_label": str(RESPONDENT_LABELS.get(respondent or "", _("not recorded"))),
        "profile": profile(catalog, trial, values, respondent, contact.__dict__, result.verdict, earliest),
        "to_verify": to_verify(catalog, trial, statuses, values),
        "checklist": [{"text": r.criterion.text, "status": r.status} for r in result.site_checks],
        "criteria": [{"id": r.id, "kind": r.criterion.kind, "status": r.status, "text": r.criterion.text}
                     for r in result.criteria],
        "status_labels": STATUS_LABELS,
        "kind_labels": KIND_LABELS,
        "answers": readable_answers(facts, answers),
        "screening_id": screening_id,
        "created_at": local_time(created_at, tz),
    }


def site_timezone() -> tzinfo:
    """The sites' zone (STAFF_TIMEZONE, as the staff pages use): every time a site reads is in it."""
    return ZoneInfo(os.environ.get("STAFF_TIMEZONE") or "Asia/Shanghai")


def date_text(day: date | None) -> str:
    """"2026-11-23", or "2026年11月23日" in Chinese."""
    return day.strftime(str(DATE_FORMAT)) if day else ""


def date_time_text(moment: datetime | None, tz: tzinfo) -> str:
    """"2026-11-23 18:00" in the zone `tz` ("2026年11月23日 18:00" in Chinese)."""
    return moment.astimezone(tz).strftime(str(DATE_TIME_FORMAT)) if moment else ""


def zone_name(tz: tzinfo, moment: datetime | None = None) -> str:
    """The zone as the reader knows it: "Asia/Shanghai" (北京时间 in Chinese)."""
    key = getattr(tz, "key", None) or (moment.astimezone(tz).tzname() if moment else str(tz))
    return str(ZONE_NAMES.get(key, key))


def local_time(moment: datetime | None, tz: tzinfo) -> str:
    """"2026-11-23 18:00 (Asia/Shanghai)": a site's local time, naming the zone
    ("2026年11月23日 18:00（北京时间）" in Chinese)."""
    if moment is None:
        return ""
    return ZONED_TIME.format(time=date_time_text(moment, tz), zone=zone_name(tz, moment))


def _earliest(result: TrialResult, created_at: datetime) -> date | None:
    if result.verdict != "possibly_eligible_later" or result.wait_days is None:
        return None
    return result.earliest_date or (created_at.date() + timedelta(days=result.wait_days))


def _waiting(result: TrialResult, created_at: datetime) -> str | None:
    """For "may fit after a waiting period": from when, and which criteria make the patient wait."""
    earliest = _earliest(result, created_at)
    if earliest is None:
        return None
    return _("from about {date}, because of {criteria}").format(
        date=date_text(earliest), criteria=i18n.join(LIST_SEPARATOR, (r.id for r in result.failed)))


# ---- the one-line profile ---------------------------------------------------------------------------------

PROFILE_SEPARATOR = " · "


def profile(catalog: Catalog, trial: Trial | None, values: Mapping[str, Any], respondent: str | None,
            contact: Mapping[str, Any], verdict: str | None, earliest: date | None = None,
            status: str | None = None, study: str | None = None) -> dict:
    """Who the patient is, at a glance: age, sex, illness, who answered, language, best time,
    the study's short title, the pre-screening verdict (with the earliest date after a waiting
    period) and, for staff, the workflow status. `values` are the stored (encoded) answers.
    Returns each part (None where not given) and `line`, the parts in words joined by " · ",
    in the current language (`i18n.using`); what the patient typed stays as typed."""
    facts = catalog.facts
    age = values.get("age")
    age = age if isinstance(age, int) and not isinstance(age, bool) else None
    sex = _option(facts.get("sex"), values.get("sex"))
    illness = _option(facts.get("condition"), values.get("condition"))
    language = i18n.said((contact.get("language") or "").strip() or None)
    best_time = i18n.said((contact.get("preferred_time") or "").strip() or None)
    found = {
        "age": age, "sex": sex, "illness": illness, "answered_by": answered_by(respondent, age),
        "language": language, "best_time": best_time, "study": trial.short_title if trial is not None else (study or ""),
        "verdict": verdict_line(verdict, earliest), "status": status,
    }
    shown = [("age", _("{age} years").format(age=age) if age is not None else _("age not given"), age is None),
             ("sex", sex or _("sex not given"), sex is None),
             ("illness", illness or _("illness not given"), illness is None),
             ("answered_by", found["answered_by"], respondent is None),
             ("language", language or _("language not given"), language is None),
             ("best_time", _("best time: {time}").format(time=best_time or _("not given")), best_time is None),
             ("study", found["study"], False), ("verdict", found["verdict"], False), ("status", status or "", False)]
    found["parts"] = [{"key": key, "text": str(text), "missing": missing} for key, text, missing in shown if text]
    found["line"] = i18n.join(PROFILE_SEPARATOR, (part["text"] for part in found["parts"]))
    return found


def answered_by(respondent: str | None, age: int | None) -> str:
    """"answered by the patient", "parent of a 9-year-old", "a helper answered"."""
    if respondent == "guardian":
        return _("parent of a {age}-year-old").format(age=age) if age is not None else str(_("a parent answered"))
    if respondent == "helper":
        return str(_("a helper answered"))
    if respondent == "self":
        return str(_("answered by the patient"))
    return str(_("who answered: not recorded"))


def verdict_line(verdict: str | None, earliest: date | None = None) -> str:
    label = str(VERDICT_LABELS.get(verdict or "", ""))
    if verdict == "possibly_eligible_later" and earliest is not None:
        return _("{verdict} (from about {date})").format(verdict=label, date=date_text(earliest))
    return label


# ---- still to verify, grouped -----------------------------------------------------------------------------

# Routine items every study lists: collapsed, so what matters for this patient stands out.
BOILERPLATE_IDS = {"inc-consent", "exc-investigator"}
_BOILERPLATE = {
    "inclusion": re.compile(r"informed consent|complian|cooperate with (the )?follow", re.IGNORECASE),
    "exclusion": re.compile(r"investigators?'?s?\b.{0,40}\b(deem|consider|judg|opinion|think)"
                            r"|(judg\w*|opinion) of the investigator", re.IGNORECASE),
}
VERIFY_LABELS = {"not_sure": _("patient not sure"), "unknown": _("not asked"), "unclear": _("answer not precise"),
                 "verify_site": _("verify at site")}
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
                "status": shown, "status_label": str(VERIFY_LABELS[shown]),
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
    """A fact's short name for staff: "Your illness" becomes "Illness" (您的疾病: 疾病)."""
    label = str(fact.label or fact.id)
    if label.lower().startswith("your "):
        label = label[5:]
    elif label.startswith("您的"):
        label = label[2:]
    return label[:1].upper() + label[1:]


def readable(fact: Fact | None, value: Any) -> str:
    """A stored answer in words: "Lupus (SLE)", "yes", "about 2 years ago", never an internal code."""
    if value is None:
        return str(_("not given"))
    if value == NOT_SURE:
        return str(_("not sure"))
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, dict) and "days_ago" in value:
        low, high = value["days_ago"]
        return ago(low, high)
    if isinstance(value, dict) and "set" in value:
        value = value["set"]
    if isinstance(value, (list, tuple, set, frozenset)):
        return i18n.join(LIST_SEPARATOR, (_option(fact, v) or str(v) for v in value)) or str(_("none"))
    return str(_option(fact, value) or value)


def ago(low: float, high: float | None) -> str:
    """A day range in words: "about 2 years ago", "more than about 5 years ago", "about 3 to 6 months ago"
    (约2年前, 约5年多以前, 约3到6个月前). Patients estimate, so anything longer than two weeks is "about"."""
    if high is None or high == float("inf"):
        return _("more than {span} ago").format(span=_about(low)) if low else str(_("at some time"))
    if low == high:
        return str(_("today")) if low == 0 else _("{span} ago").format(span=_about(low))
    if low == 0:
        return _("less than {span} ago").format(span=_about(high))
    (first_n, first_unit, _first_about), (second_n, second_unit, _second_about) = _span(low), _span(high)
    if first_unit == second_unit:
        return _("about {low} to {high} ago").format(low=first_n, high=_count(second_n, second_unit))
    return _("between {low} and {high} ago").format(low=_about(low), high=_about(high))


UNITS = {
    "day": (_("{n} day"), _("{n} days")), "week": (_("{n} week"), _("{n} weeks")),
    "month": (_("{n} month"), _("{n} months")), "year": (_("{n} year"), _("{n} years")),
}


def _span(days: float) -> tuple[int, str, bool]:
    """(count, unit, estimated): 5 days exactly; beyond two weeks, about so many weeks, months or years."""
    days = int(round(days))
    if days < 14:
        return days, "day", False
    for unit, size, since in (("year", 365, 700), ("month", 30, 60), ("week", 7, 14)):
        if days >= since:
            return round(days / size), unit, True
    return days, "day", False


def _count(n: int, unit: str) -> str:
    one, many = UNITS[unit]
    return (one if n == 1 else many).format(n=n)


def _about(days: float) -> str:
    n, unit, estimated = _span(days)
    return _("about {span}").format(span=_count(n, unit)) if estimated else _count(n, unit)


def _option(fact: Fact | None, value: Any):
    """The option's label (a text that follows the language), "not sure", or None."""
    if value == NOT_SURE:
        return _("not sure")
    if fact is None or value is None:
        return None
    return next((o.label for o in fact.options if o.id == value), None)


def render_summary(context: dict) -> tuple[str, str]:
    """(html, text) for one handoff, in the context's language."""
    with i18n.using(context.get("language")):
        return (_html.get_template("summary.html.j2").render(**context),
                _text.get_template("summary.txt.j2").render(**context))
