"""Conversation length: how many questions each kind of patient answers before every
study is decided, next to what a plain form would ask.

    .venv/bin/python bench/questions.py [--out bench/results/questions.json]

Runs the core conversation directly (no servers). "Who is answering" counts as a
question; a checklist ("have you had any of these?") counts as one. A read-back of a
typed answer ("You said ... Is that right?") is answered "yes" and counted apart.
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from prescreen.screening.conversation import RESPONDENT, Conversation, Screening  # noqa: E402
from prescreen.screening.eligibility import POSSIBLY_ELIGIBLE, POSSIBLY_ELIGIBLE_LATER, evaluate_trial  # noqa: E402
from prescreen.screening.planner import Planner  # noqa: E402
from prescreen.screening.trials import load_catalog  # noqa: E402

TODAY = date(2026, 11, 23)
ADULT = {RESPONDENT: "me", "condition": "lupus", "refractory": "yes", "age": "34",
         "diagnosis_when": "more than 2 years ago", "sex": "female"}
PROFILES = {
    "adult with lupus who may fit every study": ADULT,
    "child of 9 with lupus (a parent answers)": {**ADULT, RESPONDENT: "my daughter", "age": "9"},
    "not sure of most answers": {RESPONDENT: "me", "condition": "lupus"},
    "fits none: another illness (rheumatoid arthritis)": {**ADULT, "condition": "rheumatoid arthritis"},
    "fits none: usual treatment works": {**ADULT, "refractory": "no"},
    "early exclusion: too young (3)": {**ADULT, RESPONDENT: "my son", "age": "3"},
    "early exclusion: too old (80)": {**ADULT, "age": "80"},
    "early exclusion: pregnant": {**ADULT, "pregnancy": "pregnant"},
    "waiting period: live vaccine 2 weeks ago": {**ADULT, "recent_events": "live vaccine",
                                                  "live_vaccine_when": "2 weeks ago"},
}
OTHERWISE = {"not sure of most answers": "not sure"}


def questions_until_decided(conversation: Conversation, replies: dict, otherwise: str):
    """(questions, facts asked, read-backs confirmed, the finished screening)."""
    screening = Screening()
    asked, read_backs = [], 0
    for _ in range(80):
        message = conversation.ask(screening)
        if message is None:
            return len(asked), asked, read_backs, screening
        if getattr(screening, "pending", None):  # "You said ... Is that right?"
            read_backs += 1
            conversation.receive(screening, "yes", None, TODAY)
            continue
        asked.append(screening.group or screening.asking[0])
        if screening.group:
            reply = replies.get(screening.group, "none of these" if otherwise == "no" else otherwise)
        else:
            reply = replies.get(screening.asking[0], otherwise)
        conversation.receive(screening, reply, None, TODAY)
    raise RuntimeError("the screening never ended")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "questions.json"))
    args = parser.parse_args()
    catalog = load_catalog(ROOT / "trials")
    conversation = Conversation(Planner(catalog))
    answerable = sum(1 for t in catalog.trials for c in t.criteria if c.rule is not None and c.facts())
    facts = len({f for t in catalog.trials for c in t.criteria if c.rule is not None for f in c.facts()})
    rows = []
    for name, replies in PROFILES.items():
        count, asked, read_backs, screening = questions_until_decided(conversation, replies, OTHERWISE.get(name, "no"))
        values = screening.values()
        results = [evaluate_trial(t, values, list(catalog.facts), TODAY) for t in catalog.trials]
        may_fit = [r.trial_id for r in results if r.verdict == POSSIBLY_ELIGIBLE]
        later = {r.trial_id: r.earliest_date.isoformat() for r in results if r.verdict == POSSIBLY_ELIGIBLE_LATER}
        rows.append({"profile": name, "questions": count, "read_backs": read_backs, "studies_that_may_fit": may_fit,
                     "studies_after_a_wait": later, "asked": asked})
        wait = f"; after a wait: {', '.join(f'{k} (from {v})' for k, v in later.items())}" if later else ""
        print(f"{count:3d} questions ({read_backs} read-backs): {name}; may fit: {', '.join(may_fit) or 'none'}{wait}")
    out = {"patient_answerable_criteria": answerable, "distinct_patient_facts_in_rules": facts,
           "trials": len(catalog.trials), "profiles": rows}
    print(f"A plain form: {answerable} patient-answerable criteria across {len(catalog.trials)} studies "
          f"({facts} distinct facts).")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
