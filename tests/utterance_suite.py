"""The in-context utterance suite: typed patient replies sent mid-screening, and how they were understood.

Each case in `tests/utterances/<language>.yml` is sent in a new conversation that was first brought, by
tapping buttons as a patient who keeps every study open (`servers.PATIENT_ANSWERS`), to a context: a question
or checklist on screen, or a step of the contact offer. The runner then reads what the assistant understood
from the tracker store (the `stage`, `screening` and `referral` slots, and whether the conversation's events
are still there) and judges it against the case's expected outcome. See the YAML file's header for the format.

Used by tests/test_utterances.py (thresholds) and bench/utterances.py (numbers for BENCHMARKS.md).
"""
from __future__ import annotations

import json
import re
import sqlite3
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SUITE_DIR = ROOT / "tests" / "utterances"
CRISIS_NUMBER = "12356"
MEDICAL_WORDS = re.compile(r"\b(doctor|study team|care team|nurse|physician|rheumatologist)\b|医生|大夫|研究团队|研究人员",
                           re.I)
OUTCOMES = {"not_sure", "clarify", "unsure", "no_answer", "why", "go_back", "start_over", "stop", "erase_asked",
            "medical", "crisis", "agree", "decline", "keep"}
# What the navigating patient taps (or types, where there is no button) at each question.
NAV_YES = {"refractory"}
NAV_CHOICE = {"respondent": "self", "condition": "sle", "sex": "female"}
NAV_NUMBER = {"age": "34"}
NAV_CONTACT = {"name": "Mei Lin", "phone": "+86 138 0013 8000", "email": "mei.lin@example.org"}


def load_facts() -> tuple[dict, dict]:
    bank = yaml.safe_load((ROOT / "trials" / "facts.yml").read_text())
    return {f["id"]: f for f in bank["facts"]}, {g["id"]: g for g in bank["groups"]}


@dataclass
class Case:
    language: str
    context: dict
    category: str
    text: str
    expect: Any
    line: int = 0

    @property
    def where(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.context.items())


def load_suite(language: str = "en") -> list[Case]:
    """The cases of one language file, in file order."""
    data = yaml.safe_load((SUITE_DIR / f"{language}.yml").read_text(encoding="utf-8"))
    cases = []
    for block in data["contexts"]:
        at = block["at"]
        for row in block["cases"]:
            category, text, expect = row
            if not isinstance(category, str) or not isinstance(text, str):
                raise ValueError(f"{language}.yml: quote the category and the text of {row!r}")
            cases.append(Case(language, at, str(category), str(text), expect))
    return cases


# --- state -------------------------------------------------------------------------------------------------

@dataclass
class State:
    events: int
    slots: dict

    @property
    def stage(self):
        return self.slots.get("stage")

    @property
    def screening(self) -> dict:
        return self.slots.get("screening") or {}

    @property
    def referral(self) -> dict:
        return self.slots.get("referral") or {}

    @property
    def asking(self) -> list:
        return list(self.screening.get("asking") or [])

    def screen(self) -> tuple:
        """What is on screen: a screening question or checklist, or a contact step of one offer."""
        if self.stage == "contact":
            return ("contact", self.referral.get("step"), self.referral.get("trial"))
        if self.stage == "screening":
            return ("screening", self.screening.get("group") or tuple(self.asking))
        return (self.stage,)

    def understood(self, fact: str):
        """The value the assistant holds for `fact`: pending read-back first, then the stored answer, then a
        tick in the checklist on screen; None when it holds nothing."""
        pending = (self.screening.get("pending") or {}).get("answers") or {}
        if fact in pending:
            return pending[fact]
        if fact == "respondent":
            return self.screening.get("respondent")
        answers = self.screening.get("answers") or {}
        if fact in answers:
            return answers[fact].get("value") if isinstance(answers[fact], dict) else answers[fact]
        if fact in (self.screening.get("chosen") or []):
            return True
        return None


def read_state(tracker_db: Path, sender: str) -> State:
    db = sqlite3.connect(f"file:{tracker_db}?mode=ro", uri=True, timeout=30)
    try:
        rows = db.execute("SELECT type_name, data FROM events WHERE sender_id = ? ORDER BY id", (sender,)).fetchall()
    finally:
        db.close()
    slots = {}
    for type_name, data in rows:
        if type_name == "slot":
            event = json.loads(data)
            slots[event["name"]] = event.get("value")
    return State(len(rows), slots)


# --- navigation ----------------------------------------------------------------------------------------------

class NavigationError(Exception):
    pass


def _last_buttons(messages: list[dict]) -> list[dict]:
    with_buttons = [m for m in messages if m.get("buttons")]
    return with_buttons[-1]["buttons"] if with_buttons else []


def _last_text(messages: list[dict]) -> str:
    texts = [m["text"] for m in messages if m.get("text")]
    return texts[-1] if texts else ""


def _payload(buttons: list[dict], want: str) -> str | None:
    return next((b["payload"] for b in buttons if b["payload"] == want), None)


def _choice(buttons: list[dict], choice: str) -> str | None:
    return next((b["payload"] for b in buttons if f'"choice": "{choice}"' in b["payload"]), None)


def _open_ended_time(buttons: list[dict]) -> str | None:
    """The "more than ... ago" button of a time question (payload days:N-)."""
    spans = [(int(m.group(1)), b["payload"]) for b in buttons
             if (m := re.search(r'"days:(\d+)-"', b["payload"]))]
    return max(spans)[1] if spans else None


class Navigator:
    """Brings a new conversation to a context by tapping, and records the screens it passed."""

    def __init__(self, assistant, tracker_db: Path, facts: dict, groups: dict):
        self.assistant, self.tracker_db, self.facts, self.groups = assistant, tracker_db, facts, groups

    def reached(self, at: dict, state: State, ticked: set) -> bool:
        if "step" in at:  # "offer": one study's offer, or the one multi-select offer of every study ("choose")
            step = state.referral.get("step")
            if at["step"] == "offer":
                return state.stage == "contact" and (step == "choose" or (step == "offer" and state.referral.get(
                    "trial")))
            return state.stage == "contact" and step == at["step"] and bool(state.referral.get("trial"))
        if state.stage != "screening":
            return False
        if "after" in at:
            return state.understood(at["after"]) is not None and at["after"] not in state.asking
        if "group" in at:
            return state.screening.get("group") == at["group"] and not (set(at.get("via", {})) - ticked)
        return state.asking == [at["fact"]]

    def reply_for(self, at: dict, state: State, messages: list[dict], ticked: set) -> str:
        buttons = _last_buttons(messages)
        via = {**at.get("via", {})}
        if state.stage == "contact":
            step = state.referral.get("step")
            if step == "choose":  # the multi-select offer: tick the first study, then Done
                if not state.referral.get("chosen"):
                    first = next((b["payload"] for b in buttons if '"offer:' in b["payload"]), None)
                    if first:
                        return first
                return _choice(buttons, "done") or "done"
            if step in ("offer", "consent"):
                return "/affirm"
            if step in NAV_CONTACT:
                return NAV_CONTACT[step]
            return buttons[0]["payload"] if buttons else "any time"
        asking = state.asking
        if state.screening.get("pending"):
            return _payload(buttons, "/affirm") or "yes"
        if state.screening.get("group"):
            for fact in asking:
                if via.get(fact) and fact not in ticked:
                    ticked.add(fact)
                    return _choice(buttons, f"item:{fact}") or self.facts[fact]["label"]
            if ticked & set(self.groups[state.screening["group"]]["facts"]):
                done = _choice(buttons, "done")
                if done:
                    return done
            return _choice(buttons, "none") or "none of these"
        fact = asking[0] if asking else None
        if fact == "respondent":
            return _choice(buttons, at.get("respondent", "self")) or "me"
        if fact in via:
            return (_payload(buttons, "/affirm") or "yes") if via[fact] is True else str(via[fact])
        if fact in NAV_CHOICE:
            return _choice(buttons, NAV_CHOICE[fact]) or NAV_CHOICE[fact]
        if fact in NAV_NUMBER:
            return at.get(fact, NAV_NUMBER[fact])
        if fact in NAV_YES:
            return _payload(buttons, "/affirm") or "yes"
        ftype = self.facts.get(fact, {}).get("type")
        if ftype == "time_ago":
            return _open_ended_time(buttons) or "more than 3 years ago"
        if ftype == "number":
            return "30"
        return _payload(buttons, "/deny") or "no"

    def go(self, sender: str, at: dict, limit: int = 40, language: str = "en") -> tuple[State, list[tuple], list[dict]]:
        """Tap until `at` is on screen; the state, the screens passed (deduplicated) and the last reply.
        A Chinese case opens with "你好", so it is typed into a Chinese conversation, as patients meet it."""
        messages = self.assistant.say(sender, "你好" if language == "zh" else "hello")
        trail, ticked = [], set()
        for _ in range(limit):
            state = read_state(self.tracker_db, sender)
            screen = state.screen()
            if not trail or trail[-1] != screen:
                trail.append(screen)
            if self.reached(at, state, ticked):
                return state, trail, messages
            if state.stage not in ("screening", "contact"):
                break
            messages = self.assistant.say(sender, self.reply_for(at, state, messages, ticked))
        raise NavigationError(f"context {at} not reached; last screen {trail[-1] if trail else None}: "
                              f"{_last_text(messages)[:120]!r}")


# --- judging -------------------------------------------------------------------------------------------------

@dataclass
class Result:
    case: Case
    ok: bool
    observed: str
    negation_as_yes: bool = False
    erased: bool = False
    navigation_failed: bool = False
    reply: str = ""
    crisis_unasked: bool = False  # crisis support shown for a reply that said nothing of the kind (counted only)


def _days_ok(value, low: int, high: int | None) -> bool:
    if not isinstance(value, dict) or "days_ago" not in value:
        return False
    a, b = value["days_ago"]
    return a is not None and a >= low and (high is None or (b is not None and b <= high))


def _year_bounds(year: int, today: date) -> tuple[int, int]:
    """Days ago of 31 December and 1 January of `year`, with a few days' slack either side."""
    return (today - date(year, 12, 31)).days - 3, (today - date(year, 1, 1)).days + 3


def describe(state: State, facts_on_screen: list[str]) -> str:
    if state.events == 0:
        return "conversation erased"
    parts = [f"stage={state.stage}"]
    values = {f: state.understood(f) for f in facts_on_screen if state.understood(f) is not None}
    if values or state.stage != "contact":
        parts.append(f"understood={json.dumps(values)}")
    if state.screening.get("pending"):
        parts.append("(pending read-back)")
    if state.stage == "contact":
        ref = state.referral
        parts.append(f"step={ref.get('step')} trial={ref.get('trial')} contact={ref.get('contact')}")
    else:
        parts.append(f"asking={state.asking}")
    return " ".join(parts)


class Judge:
    def __init__(self, facts: dict, groups: dict, today: date | None = None):
        self.facts, self.groups, self.today = facts, groups, today or date.today()

    def on_screen(self, at: dict, before: State) -> list[str]:
        if "group" in at:  # the items listed (a member no study needs is left off the list)
            return [f for f in self.groups[at["group"]]["facts"] if f in before.asking]
        if "fact" in at:
            return [at["fact"]]
        if "after" in at:
            return [at["after"]] + before.asking
        return []

    def _texts(self, at: dict, prefix: str) -> list[str]:
        """Every version of a field of the fact or group on screen (`why`, `why_zh`, or `why: {en:, zh:}`)."""
        entry = self.groups.get(at.get("group")) or self.facts.get(at.get("fact")) or {}
        found = []
        for key, value in entry.items():
            if key == prefix or key.startswith(prefix + "_"):
                found += list(value.values()) if isinstance(value, dict) else [value]
        return [t for t in found if isinstance(t, str) and t]

    def question_texts(self, at: dict) -> list[str]:
        return self._texts(at, "question")

    def why_texts(self, at: dict) -> list[str]:
        return self._texts(at, "why")

    def judge(self, case: Case, before: State, after: State, trail: list[tuple], reply: list[dict],
              question: str) -> Result:
        if isinstance(case.expect, dict) and "any" in case.expect:  # any one of these outcomes is right
            results = [self.judge(Case(case.language, case.context, case.category, case.text, alternative),
                                  before, after, trail, reply, question) for alternative in case.expect["any"]]
            best = next((r for r in results if r.ok), results[0])
            return Result(case, best.ok, best.observed, all(r.negation_as_yes for r in results), best.erased,
                          reply=best.reply, crisis_unasked=best.crisis_unasked)
        at, expect = case.context, case.expect
        facts = self.on_screen(at, before)
        erased = after.events == 0 or after.events < before.events
        text = " ".join(m.get("text", "") for m in reply)
        said = text
        for asked in [question, *self.question_texts(at)]:  # what the reply says besides the question again
            said = said.replace(asked, " ") if asked else said
        observed = describe(after, facts)
        new = {f: after.understood(f) for f in facts if before.understood(f) is None}
        stored_true = [f for f, v in new.items() if v is True]
        still_on = not erased and after.screen() == before.screen()
        nothing_new = all(v is None for v in new.values())
        contact = "step" in at

        def deflected() -> bool:  # a crisis or "ask your doctor" reply to something that was neither
            return CRISIS_NUMBER in text or bool(MEDICAL_WORDS.search(said))

        def keep() -> bool:  # same question or step on screen, nothing recorded, nothing erased
            if contact:
                return (not erased and after.screen() == before.screen()
                        and all(after.referral.get(k) == before.referral.get(k)
                                for k in ("consented", "contact", "chosen")))
            return still_on and nothing_new and not after.screening.get("pending")

        def asked_again() -> bool:  # keep, with a reply that is about the question (clarify, no_answer)
            return keep() and (contact or not deflected())

        def not_sure() -> bool:  # "not sure" recorded (for a checklist: at least one item, none as yes)
            values = [v for v in new.values() if v is not None]
            if len(facts) == 1:
                return values == ["not_sure"]
            return "not_sure" in values and True not in values

        checks: list[bool] = []
        negation_expected = False
        spec = dict(expect) if isinstance(expect, dict) else (
            {expect: True} if isinstance(expect, str) and expect in OUTCOMES else {"value": expect})
        if "numbers" in spec:  # typed places in the list on screen; a place not on it needs a question back
            places = spec.pop("numbers")
            spec = ({**spec, "items": [facts[n - 1] for n in places]} if all(0 < n <= len(facts) for n in places)
                    else {"clarify": True})
        if spec.get("items") and not set(spec["items"]) & set(facts):  # every named item is off the list
            spec = {**{k: v for k, v in spec.items() if k != "items"}, "none_of": []}
        elif spec.get("items"):
            spec = {**spec, "items": [f for f in spec["items"] if f in facts]}
        for key, want in spec.items():
            if key == "value":
                fact = facts[0]
                checks.append(new.get(fact) == want and new.get(fact) is not None and type(new.get(fact)) is type(want))
                negation_expected |= want is False or want == "not_sure"
            elif key == "items":
                group = set(facts)
                values = {f: new.get(f) for f in group}
                named_ok = all(values.get(f) is True for f in want)  # a named item not listed is a miss
                others_ok = all(values[f] in (False, None) for f in group - set(want))
                recorded = bool(want) or all(values[f] is False for f in group)
                checks.append(named_ok and others_ok and recorded and not erased)
                negation_expected = True  # any unnamed item stored as yes counts below
            elif key == "none_of":
                values = {f: new.get(f) for f in facts}
                no_yes = all(v is not True for v in values.values())
                # the named items must be recorded as no; with none named, asking again is right too
                named = all(values.get(f) is False for f in want) if want else (
                    all(v is False for v in values.values()) or (still_on and not deflected()))
                checks.append(no_yes and named and not erased and after.stage == "screening")
                negation_expected = True
            elif key == "days":
                checks.append(_days_ok(new.get(facts[0]), want[0], want[1]))
            elif key == "year":
                checks.append(_days_ok(new.get(facts[0]), *_year_bounds(int(want), self.today)))
            elif key == "correct":
                ok = True
                for fact, value in want.items():
                    now = after.understood(fact)
                    back = fact in after.asking or (after.screening.get("group") and fact in
                                                    self.groups[after.screening["group"]]["facts"])
                    ok &= now == value or (bool(back) and now is not True)
                checks.append(ok and not erased)
                negation_expected = True
            elif key in ("not_sure", "unsure"):  # unsure: "not sure" recorded, or asked again
                checks.append((not_sure() and not erased) or (key == "unsure" and asked_again()))
                negation_expected = True
            elif key in ("clarify", "no_answer", "keep"):
                checks.append(asked_again())
                negation_expected |= key == "clarify"
            elif key == "why":
                whys = self.why_texts(at)
                checks.append(keep() and (not whys or any(" ".join(w.split()) in " ".join(text.split())
                                                          for w in whys)))
            elif key == "go_back":
                previous = trail[-2] if len(trail) >= 2 else None
                checks.append(not erased and previous is not None and after.screen() == previous)
            elif key == "start_over":
                checks.append(not erased and after.stage == "screening" and after.asking == ["respondent"]
                              and not after.screening.get("answers"))
            elif key == "stop":
                checks.append(not erased and after.stage is None)
            elif key == "erase_asked":
                checks.append(not erased and after.stage == "erase")
            elif key == "medical":
                checks.append(keep() and bool(MEDICAL_WORDS.search(said)))
            elif key == "crisis":
                checks.append(CRISIS_NUMBER in text and not erased)
            elif key == "agree" and before.referral.get("step") == "choose":
                # a plain yes to "which study teams may contact you?": studies chosen, or asked which ones
                chose = bool(after.referral.get("chosen")) or after.referral.get("step") == "consent"
                checks.append(not erased and after.stage == "contact" and (chose or keep()))
            elif key == "agree":
                want_step = {"offer": "consent", "consent": "name"}[before.referral.get("step")]
                same_trial = after.referral.get("trial") == before.referral.get("trial")
                checks.append(not erased and after.stage == "contact" and (
                    (same_trial and after.referral.get("step") == want_step)
                    or before.referral.get("trial") in (after.referral.get("consented") or [])))
            elif key == "chosen":  # at the multi-select offer: these studies (ids, or places in the list)
                offers = before.referral.get("offers") or []
                wanted = {offers[w - 1] if isinstance(w, int) and 0 < w <= len(offers) else w for w in want}
                ref = after.referral
                got = set(ref.get("chosen") or []) | set(ref.get("queue") or []) | ({ref["trial"]} if ref.get(
                    "trial") else set())
                checks.append(not erased and after.stage == "contact" and got == wanted)
            elif key == "decline" and before.referral.get("step") == "choose":
                moved_on = after.stage != "contact" or after.referral.get("step") not in ("choose", "consent")
                checks.append(not erased and moved_on and not after.referral.get("chosen")
                              and after.referral.get("consented") == before.referral.get("consented"))
            elif key == "decline":
                trial = before.referral.get("trial")
                moved = after.referral.get("trial") != trial or after.stage != "contact"
                checks.append(not erased and moved and trial not in (after.referral.get("consented") or []))
            elif key == "detail":
                contact = after.referral.get("contact") or {}
                ok = not erased
                for name, value in want.items():
                    ok &= _same_detail(name, contact.get(name), value, case.text)
                checks.append(ok)
            elif key == "next_step":
                checks.append(not erased and after.stage == "contact" and after.referral.get("step") == want
                              and after.referral.get("trial") == before.referral.get("trial"))
            else:
                raise ValueError(f"unknown expectation {key!r} in case {case.text!r}")
        allowed_true = set(spec.get("items") or []) | ({facts[0]} if spec.get("value") is True else set())
        negation_as_yes = negation_expected and any(f not in allowed_true for f in stored_true)
        crisis_unasked = (CRISIS_NUMBER in text and "crisis" not in json.dumps(case.expect)
                          and at.get("fact") != "suicidal_thoughts")
        return Result(case, all(checks), observed, negation_as_yes, erased, reply=text[:300],
                      crisis_unasked=crisis_unasked)


def _same_detail(name: str, stored, wanted, said: str = "") -> bool:
    """A contact detail as stored against the one expected; a preferred time or language may also be kept in the
    patient's own words (the study team reads them)."""
    if stored is None:
        return wanted is None
    if wanted is None:
        return False
    if name == "phone":
        return re.sub(r"\D", "", str(stored)).endswith(re.sub(r"\D", "", str(wanted))[-8:])
    if name in ("preferred_time", "language"):
        return str(wanted).casefold() in str(stored).casefold() or str(stored).strip() == said.strip()
    return str(stored).strip().casefold() == str(wanted).strip().casefold()


# --- running -------------------------------------------------------------------------------------------------

def run_case(assistant, tracker_db: Path, navigator: Navigator, judge: Judge, case: Case, tag: str) -> Result:
    sender = f"utt-{tag}-{uuid.uuid4().hex[:10]}"
    try:
        before, trail, messages = navigator.go(sender, case.context, language=case.language)
    except NavigationError as problem:
        return Result(case, False, str(problem), navigation_failed=True)
    question = _last_text(messages)
    reply = assistant.say(sender, case.text)
    after = read_state(tracker_db, sender)
    return judge.judge(case, before, after, trail, reply, question)


def run_suite(assistant, cases: list[Case], workers: int = 4, tag: str | None = None) -> list[Result]:
    """Every case in its own conversation, `workers` conversations at a time; results in case order."""
    facts, groups = load_facts()
    tracker_db = Path(assistant.workdir) / "tracker.db"
    navigator, judge = Navigator(assistant, tracker_db, facts, groups), Judge(facts, groups)
    tag = tag or uuid.uuid4().hex[:6]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda c: run_case(assistant, tracker_db, navigator, judge, c, tag), cases))


def summarize(results: list[Result]) -> dict:
    """Totals and per category: count, understood %, negations stored as yes, erasures."""
    def block(rows):
        n = len(rows)
        ok = sum(r.ok for r in rows)
        return {"count": n, "understood": ok, "understood_pct": round(100 * ok / n, 1) if n else 0.0,
                "negations_as_yes": sum(r.negation_as_yes for r in rows), "erasures": sum(r.erased for r in rows),
                "navigation_failures": sum(r.navigation_failed for r in rows),
                "crisis_unasked": sum(r.crisis_unasked for r in rows)}
    by_category = defaultdict(list)
    for r in results:
        by_category[r.case.category].append(r)
    return {**block(results), "categories": {c: block(rows) for c, rows in sorted(by_category.items())}}


def miss_rows(results: list[Result]) -> list[dict]:
    return [{"category": r.case.category, "context": r.case.where, "utterance": r.case.text,
             "expected": r.case.expect, "observed": r.observed, "reply": r.reply,
             "negation_as_yes": r.negation_as_yes, "erased": r.erased, "crisis_unasked": r.crisis_unasked}
            for r in results if not r.ok or r.negation_as_yes or r.erased or r.crisis_unasked]


def format_misses(results: list[Result]) -> str:
    lines = []
    for row in miss_rows(results):
        flags = "".join([" [NEGATION STORED AS YES]" if row["negation_as_yes"] else "",
                         " [ERASED]" if row["erased"] else "",
                         " [CRISIS SUPPORT UNASKED]" if row["crisis_unasked"] else ""])
        lines.append(f"- ({row['category']}) at {row['context']}: {row['utterance']!r}\n"
                     f"    expected {json.dumps(row['expected'])}; observed {row['observed']}{flags}\n"
                     f"    reply: {row['reply'][:160]!r}")
    return "\n".join(lines)


def category_counts(cases: list[Case]) -> Counter:
    return Counter(c.category for c in cases)
