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

from prescreen.i18n import _, join
from prescreen.screening import wording
from prescreen.screening.answers import (AnswerError, NeedsDetail, _has_phrase, check_length, normalise, parse_answer,
                                         parse_group_answer)
from prescreen.screening.answers import CHOICE_PREFIX
from prescreen.screening.commands import command_of, plain_command
from prescreen.screening.eligibility import NOT_ELIGIBLE, evaluate_trial
from prescreen.screening.polarity import (MEANT_ZH, NO, NOT_SURE as NOT_SURE_REPLY, YES, correction as _correction,
                                          polarity, simplify)
from prescreen.screening.durations import DaysAgo
from prescreen.screening.factbank import NOT_SURE
from prescreen.screening.messages import Message, button
from prescreen.screening.planner import Planner, Question
from prescreen.screening.results import results_messages

RESPONDENT = "respondent"  # the question before any fact: who is answering
RESPONDENTS = {"self": _("I am the patient"), "guardian": _("I'm a parent or guardian"),
               "helper": _("I'm helping someone else")}
WHO_HINT = _("Please tap one of the buttons: are you the patient, a parent or guardian, or helping someone?")
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
    # A typed answer that would rule a study out, read back for a yes: {"answers": {fact: encoded}, "said": ...}
    pending: dict | None = None
    chosen: list[str] = field(default_factory=list)  # checklist items ticked so far (each tap toggles one)
    paused: bool = False  # crisis support is on screen: nothing more until the patient is ready

    def to_json(self) -> dict:
        return {
            "respondent": self.respondent, "answers": self.answers, "history": self.history,
            "asking": self.asking, "group": self.group, "tries": self.tries,
            "pending": self.pending, "chosen": self.chosen, "paused": self.paused,
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
            pending=data.get("pending") or None,
            chosen=list(data.get("chosen") or []),
            paused=bool(data.get("paused")),
        )

    def clear(self) -> None:
        self.respondent, self.answers, self.history, self.asking, self.group, self.tries = None, {}, [], [], None, 0
        self.pending, self.chosen, self.paused = None, [], False

    def values(self) -> dict[str, Any]:
        """Answers as the rules read them."""
        return {fact: decode_value(entry["value"]) for fact, entry in self.answers.items()}

    def record(self, answers: dict[str, Any], said: str) -> None:
        for fact, value in answers.items():
            self.answers[fact] = {"value": encode_value(value), "said": said}
        self.history.append(list(answers))
        self.tries, self.pending, self.chosen = 0, None, []

    def pending_answers(self) -> dict[str, Any]:
        return {fact: decode_value(v) for fact, v in (self.pending or {}).get("answers", {}).items()}


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
        if screening.paused:
            return Message(wording.CONTINUE_WHEN_READY, [button(wording.CONTINUE_BUTTON, "choice:continue")])
        if screening.pending:
            return self._read_back(screening)
        question = self.next_question(screening)
        if question is None:
            screening.asking, screening.group = [], None
            return None
        if question.facts != tuple(screening.asking):
            screening.tries, screening.chosen = 0, []
        screening.asking, screening.group = list(question.facts), question.group
        if question.facts == (RESPONDENT,):
            return Message(wording.WHO_IS_ANSWERING, [button(label, f"choice:{key}") for key, label in RESPONDENTS.items()])
        guardian = screening.respondent == "guardian"
        progress = wording.progress_hint(len(screening.history))
        if question.group:
            group = self.catalog.groups[question.group]
            items = [self.catalog.facts[f] for f in question.facts]
            tick = lambda fact: "✓ " if fact.id in screening.chosen else ""  # noqa: E731
            lines = "\n".join(f"{tick(fact)}{i}. {fact.label}" for i, fact in enumerate(items, 1))
            text = f"{group.question_guardian if guardian else group.question}\n{lines}"
            if screening.chosen:
                chosen = wording.plain_list(self.catalog.facts[f].label for f in question.facts if f in screening.chosen)
                text += "\n" + wording.chosen_so_far(chosen)
            buttons = [button(f"{tick(fact)}{fact.label}", f"choice:item:{fact.id}") for fact in items]
            buttons += [button(wording.DONE_BUTTON, "choice:done")] if screening.chosen else \
                [button(wording.NONE_OF_THESE, "choice:none")]
            buttons.append(button(wording.NOT_SURE_BUTTON, "not sure"))
            return Message(_join(progress, text), buttons)
        fact = self.catalog.facts[question.facts[0]]
        text = fact.question_guardian if guardian else fact.question
        if screening.respondent == "helper" and len(screening.history) == 1:
            text = wording.sentences(wording.HELPER_NOTE, text)
        return Message(_join(progress, text), self._buttons(fact))

    def _buttons(self, fact) -> list[dict[str, str]]:
        not_sure = button(wording.NOT_SURE_BUTTON, "not sure")
        if fact.type == "yes_no":
            return [button(wording.YES_BUTTON, "yes"), button(wording.NO_BUTTON, "no"), not_sure]
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
            label = wording.IN_THE_LAST.format(period=wording.days(limit)) if low == 0 else \
                wording.BETWEEN_AGO.format(low=wording.days(low - 1), high=wording.days(limit))
            ranges.append((label, low, str(limit)))
            low = limit + 1
        ranges.append((wording.MORE_THAN_AGO.format(period=wording.days(low - 1)) if limits else str(wording.ANY_TIME),
                       low, ""))
        return ranges

    # ---- receiving ------------------------------------------------------------

    def receive(self, screening: Screening, text: str, intent: str | None, today: date,
                tapped: bool = False) -> list[Message]:
        """Apply one patient message; return what to say before the next question.

        `tapped` is true for a button press: a tap is taken as it is, a typed answer that
        would rule a study out is read back first. "stop" and "delete my data" are the
        adapters' (`command_of` says which message is one); this handles the rest.
        """
        if wording.is_crisis(intent, text):
            screening.paused = True
            return [Message(wording.CRISIS_SUPPORT)]
        if screening.paused:  # "Continue when you are ready", tapped or typed
            screening.paused = False
            return []
        try:
            check_length(text)
        except AnswerError as error:
            return [Message(error.hint)]
        tapped = tapped or text.startswith(CHOICE_PREFIX)
        command = None if tapped else command_of(intent, text)
        if command == "ask_why":
            return [Message(self._why(screening))]
        if command == "start_over":
            screening.clear()
            return [Message(wording.STARTING_OVER)]
        if screening.pending:
            return self._confirm(screening, text, tapped, command, today)
        if not tapped and command is None and wording.asks_how_long(text):
            return [Message(wording.HOW_LONG)]
        if not tapped and command is None and is_question(text):  # "can I still join if I'm over 70?"
            if wording.asks_if_a_person(text):
                return [Message(wording.NOT_A_PERSON)]
            return [Message(wording.ASK_YOUR_DOCTOR if intent == "medical_question" else wording.QUESTION_FOR_THE_TEAM)]
        if not tapped and command is None and self._corrects_a_yes(screening, text):
            return [Message(self._undo_parent(screening, text))]
        correction = None if tapped else _correction(text)
        if correction is not None and _answers_here(text):  # "yes no I mean no": this question's answer
            command = None
        elif command == "go_back" or (correction is not None and screening.history):
            correction = None if command == "go_back" and plain_command(text) else _correction(text)
            if correction is not None:
                return self._correct_last(screening, correction)
            return [Message(self.go_back(screening))]
        try:
            return self._answer(screening, text, today, tapped)
        except NeedsDetail:
            return [Message(wording.WHICH_ONES)]
        except AnswerError as error:
            if intent == "medical_question":
                return [Message(wording.ASK_YOUR_DOCTOR), Message(wording.CARRY_ON)]
            if intent in wording.SMALL_TALK:
                return [Message(wording.SMALL_TALK[intent])]
            if tapped:  # a button of an earlier question: show this one again, it is not a failed try
                return [Message(error.hint)]
            screening.tries += 1
            if screening.tries < MAX_TRIES or screening.asking == [RESPONDENT]:
                return [Message(error.hint)]
            screening.record({fact: NOT_SURE for fact in screening.asking}, text[:200])
            return [Message(wording.MOVING_ON)]

    def _answer(self, screening: Screening, text: str, today: date, tapped: bool) -> list[Message]:
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
            answers = self._checklist(screening, asking, text)
            if answers is None:  # a tap that ticks or unticks one item: the list stays on screen
                return []
        else:
            answers = {asking[0]: parse_answer(self.catalog.facts[asking[0]], text, today)}
        if not tapped and self._rules_out(screening, answers):
            screening.pending = {"answers": {f: encode_value(v) for f, v in answers.items()}, "said": text[:200]}
            return self._crisis_first(screening, answers)
        return self._record(screening, answers, self._said(text, asking))

    def _checklist(self, screening: Screening, asking: list[str], text: str) -> dict[str, Any] | None:
        if text.startswith(f"{CHOICE_PREFIX}item:"):
            item = text[len(CHOICE_PREFIX) + 5:]
            if item not in asking:
                raise AnswerError(wording.CHECKLIST_HINT)
            screening.chosen = [f for f in asking if (f == item) != (f in screening.chosen)]
            return None
        if text == f"{CHOICE_PREFIX}done":
            return {f: f in screening.chosen for f in asking}
        group = self.catalog.groups[screening.group]
        ticked = screening.chosen if text != f"{CHOICE_PREFIX}none" else []
        return parse_group_answer(group, [self.catalog.facts[f] for f in asking], text, ticked=ticked)

    def _record(self, screening: Screening, answers: dict[str, Any], said: str) -> list[Message]:
        screening.record(answers, said)
        return self._crisis_first(screening, answers)

    def _crisis_first(self, screening: Screening, answers: dict[str, Any]) -> list[Message]:
        """A yes to thoughts of ending one's life: support at once, and nothing else until they are ready."""
        if any(v is True and self.catalog.facts[f].crisis_if_yes for f, v in answers.items()):
            screening.paused = True
            return [Message(wording.CRISIS_SUPPORT)]
        return []

    def _rules_out(self, screening: Screening, answers: dict[str, Any]) -> bool:
        """Would these answers make a study "does not seem to fit" that is not so now?"""
        before = screening.values()
        after = {**before, **answers}
        order = list(self.catalog.facts)
        return any(evaluate_trial(t, after, order).verdict == NOT_ELIGIBLE
                   and evaluate_trial(t, before, order).verdict != NOT_ELIGIBLE for t in self.catalog.trials)

    def _read_back(self, screening: Screening) -> Message:
        answers = screening.pending_answers()
        said = join(wording.PLACES_SEPARATOR, (self._value_words(fact, value) for fact, value in answers.items()
                                               if value is not False or len(answers) == 1))
        yes_no = len(answers) == 1 and self.catalog.facts[next(iter(answers))].type == "yes_no"
        undo = (wording.NO_I_MEANT_YES if next(iter(answers.values())) is False else wording.NO_I_MEANT_NO) \
            if yes_no else wording.NO_LET_ME_CHANGE
        return Message(wording.read_back(said), [button(wording.YES_THATS_RIGHT, "yes"), button(undo, "no")])

    def _value_words(self, fact_id: str, value: Any) -> str:
        fact = self.catalog.facts[fact_id]
        if value is True or value is False:
            return wording.said_yes_no(fact.label, value)
        if fact.type == "choice":
            value = next((o.label for o in fact.options if o.id == value), value)
        elif isinstance(value, DaysAgo):
            value = wording.days_ago(value)
        return wording.said_value(fact.label, value)

    def _confirm(self, screening: Screening, text: str, tapped: bool, command: str | None, today: date) -> list[Message]:
        """The reply to a read-back: yes keeps the answer, no undoes it, anything else answers afresh."""
        answers, said = screening.pending_answers(), screening.pending.get("said", "")
        reply = polarity(text) if not text.startswith(CHOICE_PREFIX) else None
        if command == "go_back":
            screening.pending = None
            return [Message(wording.LETS_TRY_AGAIN)]
        if reply == YES:
            screening.record(answers, said)  # crisis support, if any, came with the answer
            return []
        if reply == NO:
            screening.pending = None
            if len(answers) == 1 and self.catalog.facts[next(iter(answers))].type == "yes_no":
                fact, value = next(iter(answers.items()))
                return self._record(screening, {fact: not value}, text[:200] if not tapped else
                                    str(wording.NO_I_MEANT_YES if value is False else wording.NO_I_MEANT_NO))
            return [Message(wording.LETS_TRY_AGAIN)]
        if reply == NOT_SURE_REPLY:
            screening.pending = None
            return self._record(screening, {f: NOT_SURE for f in answers}, text[:200])
        screening.pending = None  # a new answer to the same question ("34", "no, I'm 34"), read as one
        try:
            return self._answer(screening, text, today, tapped)
        except (AnswerError, NeedsDetail):
            screening.pending = {"answers": {f: encode_value(v) for f, v in answers.items()}, "said": said}
            return [Message(wording.YES_OR_NO_TO_READ_BACK)]

    def _corrects_a_yes(self, screening: Screening, text: str) -> bool:
        """"I haven't had any of those" at "When was your last dose?": the yes before it was wrong."""
        if len(screening.asking) != 1:
            return False
        parents = [f for f in self.planner.parents_of(screening.asking[0]) if screening.values().get(f) is True]
        if not parents or polarity(text) != NO:
            return False
        fact = self.catalog.facts[screening.asking[0]]
        if fact.type == "time_ago":
            return not re.search(r"\d|ago|last|year|month|week|前|年|月", text.lower())
        # "说错了，我没得过癌症" at "Which cancer?": the reply denies the parent itself
        return fact.type == "choice" and any(
            _has_phrase(normalise(text), word) for f in parents
            for word in (self.catalog.facts[f].label, *self.catalog.facts[f].keywords))

    def _undo_parent(self, screening: Screening, text: str) -> str:
        parents = [f for f in self.planner.parents_of(screening.asking[0]) if screening.values().get(f) is True]
        for fact in parents:
            screening.answers[fact] = {"value": False, "said": text[:200]}
        screening.history.append(parents)
        screening.tries = 0
        labels = wording.plain_list(self.catalog.facts[f].label for f in parents)
        return wording.changed_to_no(labels)

    def _correct_last(self, screening: Screening, value: bool) -> list[Message]:
        """"Oops, I meant no": the last answer, if it was a yes or no, is changed (and read back if
        that rules a study out); any other last answer is asked again."""
        last = [self.catalog.facts[f] for f in screening.history[-1] if f in self.catalog.facts]
        if len(last) != 1 or last[0].type != "yes_no":
            return [Message(self.go_back(screening))]
        fact = last[0]
        self.go_back(screening)
        screening.asking, screening.group = [fact.id], None
        answers = {fact.id: value}
        if self._rules_out(screening, answers):
            screening.pending = {"answers": {fact.id: value}, "said": wording.said_yes_no(fact.label, value)}
            return []
        self._record(screening, answers, wording.said_yes_no(fact.label, value))
        return [Message(wording.changed_last_answer(fact.label, value))]

    def _said(self, text: str, asking: list[str]) -> str:
        """The patient's own words, or the words of the button they tapped."""
        if not text.startswith("choice:"):
            return text[:200]
        choice = text[len("choice:"):]
        if choice == "none":
            return str(wording.NONE_OF_THESE)
        if choice.startswith("item:") and choice[5:] in self.catalog.facts:
            return str(self.catalog.facts[choice[5:]].label)
        fact = self.catalog.facts[asking[0]]
        if choice.startswith("days:"):
            low, _dash, high = choice[5:].partition("-")
            labels = {f"{lo}-{hi}": label for label, lo, hi in self._time_ranges(fact.id)}
            return labels.get(f"{low}-{high}", choice)
        return str(next((o.label for o in fact.options if o.id == choice), choice))

    def _why(self, screening: Screening) -> str:
        if not screening.asking or screening.asking == [RESPONDENT]:
            return wording.WHY_WHO_IS_ANSWERING
        if screening.group:
            return self.catalog.groups[screening.group].why
        return self.catalog.facts[screening.asking[0]].why

    def go_back(self, screening: Screening) -> str:
        """Forget the last answered turn so it is asked again; verdicts follow the answers."""
        screening.pending, screening.chosen = None, []
        if not screening.history:
            if screening.respondent is None:
                return wording.NOTHING_TO_GO_BACK_TO
            screening.respondent, screening.tries = None, 0  # back to "who is answering?"
            return wording.GOING_BACK
        for fact in screening.history.pop():
            screening.answers.pop(fact, None)
        screening.tries = 0
        return wording.GOING_BACK

    # ---- results ----------------------------------------------------------------

    def results(self, screening: Screening, today: date | None = None) -> list[Message]:
        return results_messages(self.catalog, screening.values(), today, respondent=screening.respondent)


_QUESTION_START = re.compile(r"^\s*(can|could|will|would|is|are|does|do|should|shall|may|what|why|how|when|where|who|which|"
                             r"am i|if i)\b", re.I)


# "为什么我会得这个病", "怎么才能参加": a question back, with or without a question mark
_QUESTION_START_ZH = re.compile(r"^\s*(请问|我想问)?\s*(为什么|为啥|怎么|怎样|如何|是不是|会不会|能不能|可不可以|有没有可能)")


def is_question(text: str) -> bool:
    """A question back ("can I still join if I'm over 70?"), not an answer: it is never parsed as one."""
    return "?" in text and bool(_QUESTION_START.search(text)) or bool(re.search(r"[吗呢][？?]?\s*$", text)) \
        or bool(_QUESTION_START_ZH.search(text))


def _answers_here(text: str) -> bool:
    """"yes no I mean no" corrects itself in one message; "oops I meant no" corrects the answer before."""
    if re.search(r"上一题|上一个问题|上个问题|前一题|刚才那|刚才的", text):  # "不对，上一题应该选没有": the one before
        return False
    before = re.split(r"\b(?:i )?(?:meant|mean|actually)\b|点错|选错|按错|说错|打错|弄错|" + MEANT_ZH, simplify(text))[0]
    return polarity(before) is not None


def _parse_respondent(text: str) -> str:
    if text.startswith("choice:") and text[7:] in RESPONDENTS:
        return text[7:]
    norm = text.lower().replace("’", "'")
    family = r"(mother|father|mom|mum|dad|parent|wife|husband|partner|sister|brother|aunt|uncle|grandmother|grandfather|friend)"
    if re.search(rf"\bmy {family}\b", norm) or re.search(r"\b(helping|someone else|relative|on behalf|carer|"
                                                          r"caregiver|care giver|caretaker|looking after|nurse)\b", norm):
        return "helper"
    if re.search(r"帮|替|代|朋友|亲戚|家人|配偶|丈夫|妻子|老公|老婆|我(妈|爸|母亲|父亲)", norm):
        return "helper"
    if re.search(r"\b(child|son|daughter|kid|baby|boy|girl|parent|guardian|mother|father|mom|mum|dad)\b", norm) \
            or re.search(r"孩子|儿子|女儿|小孩|家长|监护人|父母|妈妈|爸爸", norm):
        return "guardian"
    not_me = re.search(r"\b(not|isnt|isn't) (the )?(patient|me|for me)\b|不是(病人|患者|我)", norm)
    if not not_me and (re.search(r"\b(me|myself|patient|mine|self|i am|i'm|im|i)\b", norm)
                       or re.search(r"病人|患者|本人|我自己|是我|我$", norm)):
        return "self"
    raise AnswerError(WHO_HINT)


def _join(*parts: str | None) -> str:
    return wording.sentences(*parts)
