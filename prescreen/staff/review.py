"""What site staff and hospital systems may see and do with handoffs (no web code here).

Every function takes the sites the caller belongs to; a handoff of another site is
refused exactly like one that does not exist, and the attempt is audited. Every view,
status change and export is written to the audit log.
"""
from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo

from sqlalchemy import func, select

from prescreen import i18n
from prescreen.i18n import _
from prescreen.referral import summary
from prescreen.screening.conversation import decode_value
from prescreen.screening.eligibility import evaluate_trial
from prescreen.storage import (
    AnswerRecord,
    AuditRecord,
    Database,
    HandoffNoteRecord,
    HandoffRecord,
    OutboxRecord,
    ScreeningRecord,
    TrialResultRecord,
)

# The workflow's statuses and their labels (marked texts: they read in the page's language).
STATUSES = {
    "new": _("New"),
    "contacted": _("Contacted"),
    "visit_booked": _("Screening visit booked"),
    "enrolled": _("Enrolled"),
    "not_enrolled": _("Not enrolled"),
    "could_not_reach": _("Could not reach"),
    "withdrawn": _("Withdrawn by the patient"),  # set only by an erasure: the row keeps nothing personal
}
NEXT_STATUSES = {
    "new": ("contacted", "could_not_reach", "not_enrolled"),
    "contacted": ("visit_booked", "not_enrolled", "could_not_reach"),
    "visit_booked": ("enrolled", "not_enrolled", "could_not_reach"),
    "could_not_reach": ("contacted", "not_enrolled"),
    "enrolled": (),
    "not_enrolled": (),
    "withdrawn": (),
}
MAX_NOTE_LENGTH = 2000
CSV_COLUMNS = ["handoff_id", "created_at", "study", "trial_id", "site", "status", "withdrawn", "result",
               "may_fit_from", "age", "sex", "illness", "answered_by", "name", "phone", "email", "preferred_time",
               "language", "medicines", "notes", "delivery"]
# The export's headings in the reader's language (in English, the column names themselves).
CSV_HEADINGS = {
    "handoff_id": _("handoff_id"), "created_at": _("created_at"), "study": _("study"), "trial_id": _("trial_id"),
    "site": _("site"), "status": _("status"), "withdrawn": _("withdrawn"), "result": _("result"),
    "may_fit_from": _("may_fit_from"), "age": _("age"), "sex": _("sex"), "illness": _("illness"),
    "answered_by": _("answered_by"), "name": _("name"), "phone": _("phone"), "email": _("email"),
    "preferred_time": _("preferred_time"), "language": _("language"), "medicines": _("medicines"),
    "notes": _("notes"), "delivery": _("delivery"),
}
# A delivery's state (an outbox row's status, or delivery_status for all of a handoff's).
DELIVERY_LABELS = {"delivered": _("delivered"), "pending": _("pending"), "sending": _("sending"),
                   "failed": _("failed")}
CSV_BOM = "\ufeff"  # so a spreadsheet reads the file as UTF-8 and keeps non-ASCII names
# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class NotFound(Exception):
    """No such record for this caller (it may exist for another site)."""


class ReviewError(ValueError):
    """A request that cannot be done; the message says why, in words for staff."""


@dataclass(frozen=True)
class Filters:
    trial: str | None = None
    status: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    @classmethod
    def parse(cls, args) -> "Filters":
        """From query-string values (any mapping with .get); anything malformed is refused, not ignored."""
        status = args.get("status") or None
        if status is not None and status not in STATUSES:
            raise ReviewError(_("unknown status {status}").format(status=repr(status)))
        return cls(trial=args.get("trial") or None, status=status,
                   date_from=_date(args.get("from"), "from"), date_to=_date(args.get("to"), "to"))

    def query_args(self) -> dict[str, str]:
        return {k: v for k, v in (("trial", self.trial), ("status", self.status),
                                  ("from", self.date_from and self.date_from.isoformat()),
                                  ("to", self.date_to and self.date_to.isoformat())) if v}


def _date(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ReviewError(_("'{name}' must be a date like 2026-11-23").format(name=name)) from exc


def delivery_status(outbox: list[OutboxRecord]) -> str:
    """One word for a handoff's deliveries: delivered, pending, or failed."""
    statuses = {row.status for row in outbox}
    if "failed" in statuses:
        return "failed"
    if statuses - {"delivered"}:
        return "pending"
    return "delivered"


def list_handoffs(db: Database, actor: str, sites: frozenset[str], filters: Filters, tz: tzinfo = timezone.utc,
                  audit_action: str = "list_viewed") -> tuple[list[HandoffRecord], dict[str, int]]:
    """The caller's handoffs (newest first) matching the filters, and counts per status
    for the same filters without the status one. Dates are days in `tz`, the site's zone."""
    base = select(HandoffRecord).where(HandoffRecord.site_id.in_(sorted(sites)))
    if filters.trial:
        base = base.where(HandoffRecord.trial_id == filters.trial)
    if filters.date_from:
        base = base.where(HandoffRecord.created_at >= _start_of(filters.date_from, tz))
    if filters.date_to:
        base = base.where(HandoffRecord.created_at < _start_of(filters.date_to + timedelta(days=1), tz))
    with db.transaction() as session:
        counts = _counts(session, base)
        query = base.where(HandoffRecord.status == filters.status) if filters.status else base
        rows = list(session.scalars(query.order_by(HandoffRecord.created_at.desc(), HandoffRecord.id)))
        for row in rows:
            row.outbox, row.notes  # noqa: B018 - load them while the session is open
        db.audit(session, actor, audit_action, "handoffs", _describe(filters, len(rows)))
    return rows, counts


def _counts(session, base) -> dict[str, int]:
    subquery = base.subquery()
    found = dict(session.execute(select(subquery.c.status, func.count()).group_by(subquery.c.status)).all())
    return {status: found.get(status, 0) for status in STATUSES}


def open_handoff(db: Database, actor: str, sites: frozenset[str], handoff_id: str,
                 action: str = "handoff_viewed") -> HandoffRecord:
    """One handoff with its notes and deliveries; audited as `action`."""
    with db.transaction() as session:
        handoff = _visible(db, session, actor, sites, handoff_id)
        handoff.notes, handoff.outbox  # noqa: B018 - load them while the session is open
        db.audit(session, actor, action, f"handoff:{handoff_id}")
        return handoff


def change_status(db: Database, actor: str, sites: frozenset[str], handoff_id: str, status: str | None,
                  note: str, author: str) -> None:
    """Move a handoff on in the workflow and/or add a note; both are kept and audited."""
    note = (note or "").strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise ReviewError(_("a note can have at most {count} characters").format(count=MAX_NOTE_LENGTH))
    with db.transaction() as session:
        handoff = _visible(db, session, actor, sites, handoff_id)
        old = handoff.status
        if old == "withdrawn":
            raise ReviewError(str(_("the patient withdrew: nothing more is recorded about them")))
        new = status or old
        if new != old and new not in NEXT_STATUSES.get(old, ()):
            raise ReviewError(_("a handoff that is '{old}' cannot become '{new}'").format(
                old=STATUSES[old], new=STATUSES.get(new, new)))
        if new == old and not note:
            raise ReviewError(str(_("choose a new status or write a note")))
        handoff.status = new
        session.add(HandoffNoteRecord(handoff_id=handoff.id, author=author, status_from=old, status_to=new, note=note))
        db.audit(session, actor, "status_changed" if new != old else "note_added", f"handoff:{handoff_id}",
                 f"{old} -> {new}")


def handoff_audit(db: Database, actor: str, sites: frozenset[str], handoff_id: str) -> list[AuditRecord]:
    """The audit entries about one handoff, oldest first; looking at them is audited too."""
    with db.transaction() as session:
        _visible(db, session, actor, sites, handoff_id)
        db.audit(session, actor, "audit_viewed", f"handoff:{handoff_id}")
        session.flush()
        return list(session.scalars(select(AuditRecord).where(AuditRecord.record == f"handoff:{handoff_id}")
                                    .order_by(AuditRecord.id)))


def export_csv(db: Database, actor: str, sites: frozenset[str], filters: Filters, tz: tzinfo = timezone.utc,
               catalog=None) -> str:
    """The list as CSV (UTF-8 with a byte-order mark), one row per handoff with its profile and notes,
    headings and labels in the current language (`i18n.using`); every cell neutralised so a
    spreadsheet never runs it as a formula."""
    rows, _counts = list_handoffs(db, actor, sites, filters, tz, audit_action="exported")
    out = io.StringIO()
    out.write(CSV_BOM)
    writer = csv.writer(out)
    writer.writerow([str(CSV_HEADINGS[column]) for column in CSV_COLUMNS])
    for h in rows:
        view = describe(h, catalog, tz)
        p = view["profile"]
        notes = " | ".join(f"{summary.date_time_text(n.at, tz)} {n.author}: {_one_line(n.note)}" for n in h.notes
                           if n.note)
        writer.writerow([neutralise_cell(value) for value in (
            h.id, h.created_at.astimezone(tz).isoformat(timespec="seconds"), view["study"], h.trial_id, h.site_name,
            STATUSES[h.status], _("yes") if view["withdrawn"] else _("no"), p.get("verdict", ""),
            view["earliest"].isoformat() if view["earliest"] else "", p.get("age"), p.get("sex"),
            p.get("illness"), p.get("answered_by"), h.contact_name, h.contact_phone or "",
            h.contact_email or "", i18n.said(h.preferred_time) or "", i18n.said(h.language) or "", view["medicines"] or "", notes,
            DELIVERY_LABELS[delivery_status(h.outbox)])])
    return out.getvalue()


def _one_line(text: str) -> str:
    return " / ".join(line.strip() for line in (text or "").splitlines() if line.strip())


def describe(h: HandoffRecord, catalog, tz: tzinfo = timezone.utc) -> dict:
    """What the staff pages show about one handoff, read from the payload stored with it (as the site
    received it) and the trial file: the one-line profile, still to verify (grouped), the answers
    in words, the current medicines, the consent time in `tz`, and the earliest date after a
    waiting period. A withdrawn handoff has nothing but its study and status."""
    payload = h.payload or {}
    trial = catalog.trial(h.trial_id) if catalog is not None and h.trial_id in {t.id for t in catalog.trials} else None
    study = trial.short_title if trial is not None else h.trial_id
    if h.status == "withdrawn" or payload.get("type") == "withdrawal":
        return {"withdrawn": True, "study": study, "earliest": None, "medicines": None, "consent_at": "",
                "answers": [], "to_verify": {"inclusion": [], "exclusion": [], "routine": []},
                "profile": {"study": study, "status": STATUSES[h.status],
                            "line": i18n.join(summary.PROFILE_SEPARATOR, (STATUSES["withdrawn"], study))}}
    entries = {a["fact"]: {"value": a.get("value"), "said": a.get("said", "")} for a in payload.get("answers", [])}
    values = {fact: entry["value"] for fact, entry in entries.items()}
    verdict = payload.get("verdict")
    earliest = None
    if trial is not None and verdict == "possibly_eligible_later":
        decoded = {fact: decode_value(value) for fact, value in values.items()}
        earliest = evaluate_trial(trial, decoded, list(catalog.facts), today=h.created_at.astimezone(tz).date()
                                  ).earliest_date
    contact = payload.get("contact") or {}
    facts = catalog.facts if catalog is not None else {}
    if catalog is not None:
        profile = summary.profile(catalog, trial, values, payload.get("respondent"), contact, verdict, earliest,
                                  STATUSES[h.status], study=h.trial_id)
        to_verify = summary.to_verify(catalog, trial, {c["id"]: c["status"] for c in payload.get("criteria", [])},
                                      values)
    else:
        profile = {"study": study, "status": STATUSES[h.status],
                   "line": i18n.join(summary.PROFILE_SEPARATOR, (study, STATUSES[h.status]))}
        to_verify = {"inclusion": [], "exclusion": [], "routine": []}
    accepted = (payload.get("consent") or {}).get("accepted_at")
    return {
        "withdrawn": False, "study": study, "earliest": earliest, "profile": profile, "to_verify": to_verify,
        "answers": summary.readable_answers(facts, entries),
        "medicines": (contact.get("medicines") or "").strip() or None,
        "consent_version": (payload.get("consent") or {}).get("version"),
        "consent_language": str(summary.LANGUAGE_NAMES.get((payload.get("consent") or {}).get("language") or "", "")),
        "consent_at": summary.local_time(datetime.fromisoformat(accepted), tz) if accepted else "",
    }


def neutralise_cell(value) -> str:
    """Text a spreadsheet shows as text: a leading = + - @ tab or CR gets a ' before it,
    and control and format characters (Unicode Cc/Cf: terminal escapes, bidirectional
    overrides that reorder what is shown) become U+FFFD."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_STARTS):
        text = "'" + text
    return "".join("\ufffd" if unicodedata.category(c) in ("Cc", "Cf") else c for c in text)


def handoffs_json(db: Database, actor: str, site_id: str, filters: Filters, catalog=None,
                  tz: tzinfo = timezone.utc) -> list[dict]:
    rows, _counts = list_handoffs(db, actor, frozenset({site_id}), filters, audit_action="api_list")
    return [_handoff_json(h, catalog, tz) for h in rows]


def screening_json(db: Database, actor: str, site_id: str, screening_id: str, catalog=None,
                   tz: tzinfo = timezone.utc) -> dict:
    """A screening as one site may see it: only if it was handed to that site, and only
    that site's trials, handoffs and deliveries."""
    with db.transaction() as session:
        screening = session.get(ScreeningRecord, screening_id)
        handoffs = [] if screening is None else list(session.scalars(select(HandoffRecord).where(
            HandoffRecord.screening_id == screening_id, HandoffRecord.site_id == site_id)))
        if not handoffs:
            # In its own transaction: this one is rolled back by the exception.
            db.audit_alone(actor, "access_denied", f"screening:{screening_id[:64]}",
                           "another site's screening" if screening is not None else "no such screening")
            raise NotFound(screening_id)
        trials = {h.trial_id for h in handoffs}
        results = session.scalars(select(TrialResultRecord).where(
            TrialResultRecord.screening_id == screening_id, TrialResultRecord.trial_id.in_(sorted(trials))))
        answers = session.scalars(select(AnswerRecord).where(AnswerRecord.screening_id == screening_id)
                                  .order_by(AnswerRecord.id))
        body = {
            "screening_id": screening.id,
            "created_at": screening.created_at.isoformat(timespec="seconds"),
            "respondent": screening.respondent,
            "results": [{"trial_id": r.trial_id, "verdict": r.verdict, "criteria": r.criteria} for r in results],
            "answers": [{"fact": a.fact, "value": a.value, "said": a.said} for a in answers],
            "handoffs": [_handoff_json(h, catalog, tz) for h in handoffs],
        }
        db.audit(session, actor, "api_screening_viewed", f"screening:{screening_id}")
        return body


PROFILE_KEYS = ("age", "sex", "illness", "answered_by", "language", "best_time", "study", "verdict", "status", "line")


def _handoff_json(h: HandoffRecord, catalog=None, tz: tzinfo = timezone.utc) -> dict:
    view = describe(h, catalog, tz)
    return {
        "handoff_id": h.id, "screening_id": h.screening_id, "created_at": h.created_at.isoformat(timespec="seconds"),
        "trial_id": h.trial_id, "site_id": h.site_id, "status": h.status,
        "contact": {"name": h.contact_name, "phone": h.contact_phone, "email": h.contact_email,
                    "preferred_time": h.preferred_time, "language": h.language, "medicines": view["medicines"]},
        "profile": {key: view["profile"].get(key) for key in PROFILE_KEYS},
        "may_fit_from": view["earliest"] and view["earliest"].isoformat(),
        "delivery": {"status": delivery_status(h.outbox),
                     "channels": [{"channel": o.channel, "status": o.status, "attempts": o.attempts,
                                   "delivered_at": o.delivered_at and o.delivered_at.isoformat(timespec="seconds")}
                                  for o in h.outbox]},
    }


def _visible(db: Database, session, actor: str, sites: frozenset[str], handoff_id: str) -> HandoffRecord:
    handoff = session.get(HandoffRecord, handoff_id)
    if handoff is None or handoff.site_id not in sites:
        # Written in its own transaction: the caller's is rolled back by the exception.
        with db.transaction() as audit_session:
            db.audit(audit_session, actor, "access_denied", f"handoff:{handoff_id}",
                     "another site's handoff" if handoff else "no such handoff", success=False)
        raise NotFound(handoff_id)
    return handoff


def _start_of(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


def _describe(filters: Filters, count: int) -> str:
    shown = ", ".join(f"{k}={v}" for k, v in filters.query_args().items())
    return f"{count} rows" + (f" ({shown})" if shown else "")
