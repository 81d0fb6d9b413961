"""One screening conversation, turn by turn, with no Rasa in sight.

This module decides what to ask, understands the reply, and keeps the state
(`Screening`) that the screening's turn action stores in one slot. Keeping it here
means the whole conversation logic is tested directly, and the actions stay thin.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from prescreen.screening import wording
from prescreen.screening.answers import AnswerError, NeedsDetail, check_length, parse_answer, parse_group_answer
from prescreen.screening.commands import says_command
from prescreen.screening.durations import DaysAgo
from prescreen.screening.factbank import NOT_SURE
from prescreen.screening.messages import Message, button
from prescreen.screening.planner import Planner, Question
from prescreen.screening.results import results_messages

RESPONDENT = "respondent"  # the question before any fact: who is answering
RESPONDENTS = {"self": "I am the patient", "guardian": "I'm a parent or guardian", "helper": "I'm helping someone else"}
MAX_TRIES = 2  # after this many unclear replies to one question, record "not sure" and move on


@dataclass
class Screening:
    """The state of one screening, stored by the assistant as plain JSON."""

    respondent: str | None = None
    answers: dict[str, dict] = field(default_factory=dict)  # fact -> {"value": encoded, "said": their words}
    history: list[list[str]] = field(default_factory=list)  # facts set by each answered turn, oldest first
    asking: list[str] = field(default_factory=list)  # the facts (or RESPONDENT) of the question on screen
    group: str | None = None
    tries: int = 0

    def to_json(self) -> dict:
        return {
            "respondent": self.respondent, "answers": self.answers, "history": self.history,
            "asking": self.asking, "group": self.group, "tries": self.tries,
        }

    @classmethod
    def from_json(cls, data: dict | None) -> "Screening":
        data = data or {}
        return cls(
            respondent=data.get("respondent"),
            answers=dict(data.get("answers") or {}),
            history=[list(turn) for turn in data.get("history") or []],
            asking=list(data.get("asking") or []),
            group=data.get("group"),
            tries=int(data.get("tries") or 0),
        )

    def clear(self) -> None:
        self.respondent, self.answers, self.history, self.asking, self.group, self.tries = None, {}, [], [], None, 0

    def values(self) -> dict[str, Any]:
        """Answers as the rules read them."""
        return {fact: decode_value(entry["value"]) for fact, entry in self.answers.items()}

    def record(self, answers: dict[str, Any], said: str) -> None:
        for fact, value in answers.items():
            self.answers[fact] = {"value": encode_value(value), "said": said}
        self.history.append(list(answers))
        self.tries = 0


def encode_value(value: Any) -> Any:
    if isinstance(value, DaysAgo):
        return {"days_ago": [value.low, None if value.high == float("inf") else value.high]}
    if isinstance(value, frozenset):
        return {"set": sorted(value)}
    return value


def decode_value(value: Any) -> Any:
    if isinstance(value, dict) and "days_ago" in value:
        low, high = value["days_ago"]
        return DaysAgo(low, float("inf") if high is None else high)
    if isinstance(value, dict) and "set" in value:
        return frozenset(value["set"])
    return value


class Conversation:
    """The screening logic for one catalog; one instance serves every patient."""

    def __init__(self, planner: Planner):
        self.planner = planner
        self.catalog = planner.catalog

    # ---- asking -------------------------------------------------------------

    def next_question(self, screening: Screening) -> Question | None:
        if screening.respondent is None:
            return Question((RESPONDENT,))
        return self.planner.next_question(screening.values())

    def is_finished(self, screening: Screening) -> bool:
        return self.next_question(screening) is None

    def ask(self, screening: Screening) -> Message | None:
        """The next question as a message, remembering what is on screen."""
        question = self.next_question(screening)
        if question is None:
            screening.asking, screening.group = [], None
            return None
        if question.facts != tuple(screening.asking):
            screening.tries = 0
        screening.asking, screening.group = list(question.facts), question.group
        if question.facts == (RESPONDENT,):
            return Message(wording.WHO_IS_ANSWERING, [button(label, f"choice:{key}") for key, label in RESPONDENTS.items()])
        guardian = screening.respondent == "guardian"
        progress = wording.progress_hint(len(screening.history))
        if question.group:
            group = self.catalog.groups[question.group]
            items = [self.catalog.facts[f] for f in question.facts]
            lines = "\n".join(f"{i}. {fact.label}" for i, fact in enumerate(items, 1))
            text = f"{group.question_guardian if guardian else group.question}\n{lines}"
            buttons = [button(fact.label, f"choice:item:{fact.id}") for fact in items]
            buttons += [button("None of these", "choice:none"), button("I'm not sure", "not sure")]
            return Message(_join(progress, text), buttons)
        fact = self.catalog.facts[question.facts[0]]
        text = fact.question_guardian if guardian else fact.question
        if screening.respondent == "helper" and len(screening.history) == 1:
            text = f"{wording.HELPER_NOTE} {text}"
        return Message(_join(progress, text), self._buttons(fact))

    def _buttons(self, fact) -> list[dict[str, str]]:
        not_sure = button("I'm not sure", "not sure")
        if fact.type == "yes_no":
            return [button("Yes", "yes"), button("No", "no"), not_sure]
        if fact.type in ("choice", "choices"):
            return [button(o.label, f"choice:{o.id}") for o in fact.options] + [not_sure]
        if fact.type == "time_ago":
            return [button(label, f"choice:days:{low}-{high}") for label, low, high in self._time_ranges(fact.id)] + [not_sure]
        return [not_sure]

    def _time_ranges(self, fact_id: str) -> list[tuple[str, int, str]]:
        """Buttons whose edges are exactly the limits the rules use, so a tap decides."""
        limits = sorted(self.planner.rule_values(fact_id))
        ranges, low = [], 0
        for limit in limits:
            label = f"In the last {wording.days(limit)}" if low == 0 else \
                f"{wording.days(low - 1)} to {wording.days(limit)} ago"
            ranges.append((label, low, str(limit)))
            low = limit + 1
        ranges.append((f"More than {wording.days(low - 1)} ago" if limits else "Any time", low, ""))
        return ranges

    # ---- receiving ------------------------------------------------------------

    def receive(self, screening: Screening, text: str, intent: str | None, today: date) -> list[Message]:
        """Apply one patient message; return what to say before the next question."""
        if intent == "crisis" or wording.mentions_crisis(text):
            return [Message(wording.CRISIS_SUPPORT), Message(wording.CARRY_ON)]
        try:
            check_length(text)
        except AnswerError as error:
            return [Message(error.hint)]
        if not says_command(intent, text):
            intent = None
        if intent == "ask_why":
            return [Message(self._why(screening))]
        if intent == "go_back":
            return [Message(self.go_back(screening))]
        if intent == "start_over":
            screening.clear()
            return [Message(wording.STARTING_OVER)]
        try:
            return self._answer(screening, text, today)
        except NeedsDetail:
            return [Message(wording.WHICH_ONES)]
        except AnswerError as error:
            if intent == "medical_question":
                return [Message(wording.ASK_YOUR_DOCTOR), Message(wording.CARRY_ON)]
            if intent in wording.SMALL_TALK:
                return [Message(wording.SMALL_TALK[intent])]
            screening.tries += 1
            if screening.tries < MAX_TRIES or screening.asking == [RESPONDENT]:
                return [Message(error.hint)]
            screening.record({fact: NOT_SURE for fact in screening.asking}, text[:200])
            return [Message(wording.MOVING_ON)]

    def _answer(self, screening: Screening, text: str, today: date) -> list[Message]:
        if not screening.asking:
            question = self.next_question(screening)
            if question is None:  # nothing left to answer (a message that came after the last question)
                return []
        asking = screening.asking or list(question.facts)
        if asking == [RESPONDENT]:
            screening.respondent = _parse_respondent(text)
            screening.tries = 0
            return []
        if screening.group and len(asking) > 1:
            group = self.catalog.groups[screening.group]
            answers = parse_group_answer(group, [self.catalog.facts[f] for f in asking], text)
        else:
            answers = {asking[0]: parse_answer(self.catalog.facts[asking[0]], text, today)}
        screening.record(answers, self._said(text, asking))
        crisis = [f for f, v in answers.items() if v is True and self.catalog.facts[f].crisis_if_yes]
        return [Message(wording.CRISIS_SUPPORT), Message(wording.CARRY_ON)] if crisis else []

    def _said(self, text: str, asking: list[str]) -> str:
        """The patient's own words, or the words of the button they tapped."""
        if not text.startswith("choice:"):
            return text[:200]
        choice = text[len("choice:"):]
        if choice == "none":
            return "None of these"
        if choice.startswith("item:") and choice[5:] in self.catalog.facts:
            return self.catalog.facts[choice[5:]].label
        fact = self.catalog.facts[asking[0]]
        if choice.startswith("days:"):
            low, _, high = choice[5:].partition("-")
            labels = {f"{lo}-{hi}": label for label, lo, hi in self._time_ranges(fact.id)}
            return labels.get(f"{low}-{high}", choice)
        return next((o.label for o in fact.options if o.id == choice), choice)

    def _why(self, screening: Screening) -> str:
        if not screening.asking or screening.asking == [RESPONDENT]:
            return wording.WHY_WHO_IS_ANSWERING
        if screening.group:
            return self.catalog.groups[screening.group].why
        return self.catalog.facts[screening.asking[0]].why

    def go_back(self, screening: Screening) -> str:
        """Forget the last answered turn so it is asked again; verdicts follow the answers."""
        if not screening.history:
            return wording.NOTHING_TO_GO_BACK_TO
        for fact in screening.history.pop():
            screening.answers.pop(fact, None)
        screening.tries = 0
        return wording.GOING_BACK

    # ---- results ----------------------------------------------------------------

    def results(self, screening: Screening) -> list[Message]:
        return results_messages(self.catalog, screening.values())


def _parse_respondent(text: str) -> str:
    if text.startswith("choice:") and text[7:] in RESPONDENTS:
        return text[7:]
    norm = text.lower().replace("’", "'")
    family = r"(mother|father|mom|mum|dad|parent|wife|husband|partner|sister|brother|aunt|uncle|grandmother|grandfather|friend)"
    if re.search(rf"\bmy {family}\b", norm) or re.search(r"\b(helping|someone else|relative|on behalf)\b", norm):
        return "helper"
    if re.search(r"\b(child|son|daughter|kid|baby|boy|girl|parent|guardian|mother|father|mom|mum|dad)\b", norm):
        return "guardian"
    if re.search(r"\b(me|myself|patient|mine|self|i am|i'm|im|i)\b", norm):
        return "self"
    raise AnswerError("Please tap one of the buttons: are you the patient, a parent or guardian, or helping someone?")


def _join(*parts: str | None) -> str:
    return " ".join(p for p in parts if p)
