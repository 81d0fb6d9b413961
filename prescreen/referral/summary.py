"""The summary a study team receives: HTML (autoescaped) and plain text, from Jinja2."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from prescreen.screening.eligibility import TrialResult
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
                    created_at: datetime) -> dict:
    """Everything the templates show, as plain values."""
    facts = catalog.facts
    return {
        "trial": trial,
        "site": site,
        "verdict_label": VERDICT_LABELS[result.verdict],
        "waiting": _waiting(result, created_at),
        "study_status": STUDY_STATUS_LABELS.get(trial.status, trial.status),
        "contact": contact,
        "consent": consent,
        "consent_accepted": consent.accepted_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "respondent_label": RESPONDENT_LABELS.get(respondent or "", "not recorded"),
        "checklist": [{"text": r.criterion.text, "status": r.status} for r in result.site_checks],
        "criteria": [{"id": r.id, "kind": r.criterion.kind, "status": r.status, "text": r.criterion.text}
                     for r in result.criteria],
        "status_labels": STATUS_LABELS,
        "answers": [
            {"question": facts[fact].label if fact in facts else fact, "said": entry.get("said", ""),
             "value": _shown(entry.get("value"))}
            for fact, entry in answers.items()
        ],
        "screening_id": screening_id,
        "created_at": created_at.isoformat(timespec="seconds"),
    }


def _waiting(result: TrialResult, created_at: datetime) -> str | None:
    """For "may fit after a waiting period": from when, and which criteria make the patient wait."""
    if result.verdict != "possibly_eligible_later" or result.wait_days is None:
        return None
    earliest = result.earliest_date or (created_at.date() + timedelta(days=result.wait_days))
    return f"from about {earliest.isoformat()}, because of {', '.join(r.id for r in result.failed)}"


def render_summary(context: dict) -> tuple[str, str]:
    """(html, text) for one handoff."""
    return (_html.get_template("summary.html.j2").render(**context),
            _text.get_template("summary.txt.j2").render(**context))


def _shown(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict) and "days_ago" in value:
        low, high = value["days_ago"]
        return f"{int(low)} days ago or more" if high is None else (
            f"{int(low)} days ago" if low == high else f"{int(low)} to {int(high)} days ago")
    if value == "not_sure":
        return "not sure"
    return str(value)
