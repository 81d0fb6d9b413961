"""The fact and question bank: each patient fact once, with how to ask it.

Trials refer to facts by id; the planner picks which fact to ask next. The bank is
data (`trials/facts.yml`), so wording changes need no code.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from prescreen.i18n import DataText
from prescreen.screening.durations import DaysAgo, parse_duration
from prescreen.screening.errors import TrialDataError
from prescreen.screening.yamlfile import read_yaml

NOT_SURE = "not_sure"  # the answer "I'm not sure": known to be unknown, never asked again

# Which comparison operators each answer type allows.
OPERATORS = {
    "yes_no": {"eq"},
    "number": {"eq", "ne", "gt", "gte", "lt", "lte"},
    "choice": {"eq", "ne", "in", "not_in"},
    "choices": {"includes", "excludes"},
    "time_ago": {"within", "longer_ago_than"},
}


@dataclass(frozen=True)
class Option:
    id: str
    label: str
    synonyms: tuple[str, ...] = ()  # other words a patient may type for this option


@dataclass(frozen=True)
class FollowUp:
    """Facts asked only when `when` (a rule over answers) is true."""

    ask: tuple[str, ...]
    when: Any  # a prescreen.screening.rules node; typed loosely to avoid an import cycle


@dataclass(frozen=True)
class Fact:
    id: str
    type: str
    question: str  # asked of the patient
    question_guardian: str  # asked of a parent or guardian, about "your child"
    why: str  # one line: why we ask
    options: tuple[Option, ...] = ()
    min: int | None = None
    max: int | None = None
    follow_ups: tuple[FollowUp, ...] = ()
    crisis_if_yes: bool = False  # a "yes" must bring crisis-support information at once
    label: str = ""  # a short name: a checklist item, or a topic the site must still check
    keywords: tuple[str, ...] = ()  # words that name this item when typed in a checklist answer
    unit: str | None = None  # time_ago only: "month" shows its answer buttons in whole months
    sensitive: str | None = None  # a sensitive topic ("HIV"): the consent text names it when this was answered
    yes_words: tuple[str, ...] = ()  # the fact's own words for yes ("still active", "flared"), both languages
    no_words: tuple[str, ...] = ()  # ... and for no ("in remission", "under control"; "benign" for cancer)
    deny_words: tuple[str, ...] = ()  # broader words that, denied, deny this item ("no heart problems")

    @property
    def about_now(self) -> bool:
        """Does the question ask about now ("Are you pregnant now?"), not ever? "I stopped" is then a no."""
        question = re.sub(r"now or (in the past|before|ever)|ever,? or now", " ", self.question.original, flags=re.IGNORECASE)
        return bool(re.search(r"\b(now|still|currently|at the moment|at present|these days)\b", question, re.IGNORECASE))

    def option_ids(self) -> list[str]:
        return [o.id for o in self.options]

    def check_answer(self, value: Any) -> Any:
        """Return the value if it is a valid answer to this fact, else raise ValueError.

        Storage and rules rely on this: a value that passes is a true statement in the
        fact's own terms (an age within bounds, a listed option, a day range).
        """
        if value == NOT_SURE:
            return value
        if self.type == "yes_no" and isinstance(value, bool):
            return value
        if self.type == "number" and isinstance(value, int) and not isinstance(value, bool):
            if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
                raise ValueError(f"{value} is outside {self.min}..{self.max}")
            return value
        if self.type == "choice" and value in self.option_ids():
            return value
        if self.type == "choices" and isinstance(value, (list, tuple, frozenset, set)):
            unknown = set(value) - set(self.option_ids())
            if not unknown:
                return frozenset(value)
        if self.type == "time_ago" and isinstance(value, DaysAgo):
            return value
        raise ValueError(f"{value!r} is not an answer to the {self.type} fact {self.id}")

    def rule_value(self, op: str, value: Any) -> Any:
        """Check and normalise the `value` a rule compares this fact with."""
        if op not in OPERATORS[self.type]:
            allowed = ", ".join(sorted(OPERATORS[self.type]))
            raise ValueError(f"operator {op!r} does not apply to {self.type} fact {self.id} (use {allowed})")
        if self.type == "yes_no":
            if not isinstance(value, bool):
                raise ValueError(f"{self.id} is yes/no: compare with true or false, not {value!r}")
            return value
        if self.type == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{self.id} is a number: {value!r} is not")
            return value
        if self.type in ("choice", "choices"):
            values = value if op in ("in", "not_in") else [value]
            if op in ("in", "not_in") and not isinstance(value, list):
                raise ValueError(f"{op} needs a list of options, not {value!r}")
            for v in values:
                if v not in self.option_ids():
                    raise ValueError(f"{v!r} is not an option of {self.id} ({', '.join(self.option_ids())})")
            return frozenset(value) if op in ("in", "not_in") else value
        # time_ago: a duration such as "4 weeks"
        return parse_duration(value)


@dataclass(frozen=True)
class QuestionGroup:
    """Related yes/no facts asked as one "any of these?" question.

    Answering "none of these" settles every member at once; the planner offers
    only the members that can still change a verdict.
    """

    id: str
    question: str
    question_guardian: str
    why: str
    facts: tuple[str, ...]


# Patient-facing texts; each has a Chinese version in a field of the same name with "_zh".
FACT_TEXTS = ("question", "question_guardian", "why", "label")
GROUP_TEXTS = ("question", "question_guardian", "why")
OPTION_TEXTS = ("label",)
OTHER_LANGUAGES = ("zh",)

GROUP_FIELDS = {"id", "facts", *GROUP_TEXTS, *(f"{t}_{lang}" for t in GROUP_TEXTS for lang in OTHER_LANGUAGES)}

FACT_FIELDS = {
    "id", "type", "options", "min", "max", "follow_ups", "crisis_if_yes", "keywords", "unit", "sensitive",
    "yes_words", "no_words", "deny_words",
    *FACT_TEXTS, *(f"{t}_{lang}" for t in (*FACT_TEXTS, "sensitive") for lang in OTHER_LANGUAGES),
}


def localized(item: dict, field: str) -> DataText:
    """`field` with its versions in other languages (`field_zh`), read in the conversation's language."""
    return DataText(str(item[field]).strip(), {lang: str(item[f"{field}_{lang}"]).strip()
                                               for lang in OTHER_LANGUAGES if item.get(f"{field}_{lang}")})


def missing_translations(item: dict, fields: tuple[str, ...]) -> list[str]:
    """The patient-facing fields of `item` that have no version in another language."""
    return [f"{field}_{lang}" for field in fields for lang in OTHER_LANGUAGES
            if item.get(field) and not str(item.get(f"{field}_{lang}") or "").strip()]


LANGUAGE_NAMES = {"zh": "Chinese"}


def translation_problem(item: dict, fields: tuple[str, ...]) -> tuple[str, str] | None:
    """(field, problem) for the first patient-facing text of `item` whose version in another
    language is missing or empty, or that has such a version but no English; else None.

    A half-translated file is refused like any other broken field: a Chinese patient would
    otherwise read English in the middle of a Chinese conversation."""
    for field in fields:
        english = item.get(field)
        has_english = isinstance(english, str) and bool(english.strip())
        for lang in OTHER_LANGUAGES:
            key, name = f"{field}_{lang}", LANGUAGE_NAMES.get(lang, lang)
            if key in item and not has_english:
                return key, f'a {name} version with no English "{field}"'
            if key in item and (item[key] is None or isinstance(item[key], str) and not item[key].strip()):
                return key, f'empty {name} version of "{field}"'
            if key in item and not isinstance(item[key], str):
                return key, f'the {name} version of "{field}" must be text'
            if has_english and key not in item:
                return key, f'missing {name} version of "{field}"'
    return None
UNITS = ("month",)


def load_fact_bank(path: Path) -> tuple[dict[str, Fact], dict[str, QuestionGroup]]:
    """Load and check `facts.yml`: the facts, and the groups they may be asked in.

    Raises TrialDataError naming the file, the fact (or group) and the field, also where a
    patient-facing text has no Chinese version (`question_zh`, ...).
    """
    from prescreen.screening.rules import parse_rule  # rules need facts; facts' follow-ups need rules

    name = Path(path).name
    raw = read_yaml(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("facts"), list):
        raise TrialDataError(name, "-", "facts", "the file must hold a list under 'facts'")

    facts: dict[str, Fact] = {}
    pending_follow_ups: list[tuple[str, list]] = []
    for index, item in enumerate(raw["facts"]):
        fact_id = item.get("id") if isinstance(item, dict) else None
        where = fact_id or f"fact #{index + 1}"
        if not isinstance(item, dict):
            raise TrialDataError(name, where, "-", "each fact must be a mapping")
        if not fact_id or not isinstance(fact_id, str):
            raise TrialDataError(name, where, "id", "missing")
        if fact_id in facts:
            raise TrialDataError(name, fact_id, "id", "duplicate fact id")
        unknown = set(item) - FACT_FIELDS
        if unknown:
            raise TrialDataError(name, fact_id, sorted(unknown)[0], "unknown field")
        if item.get("type") not in OPERATORS:
            raise TrialDataError(name, fact_id, "type", f"must be one of {', '.join(OPERATORS)}")
        for text_field in ("question", "question_guardian", "why", "label"):
            if not isinstance(item.get(text_field), str) or not item[text_field].strip():
                raise TrialDataError(name, fact_id, text_field, "missing text")
        for word_field in ("keywords", "yes_words", "no_words", "deny_words"):
            words = item.get(word_field, [])
            if not isinstance(words, list) or not all(isinstance(k, str) and k.strip() for k in words):
                raise TrialDataError(name, fact_id, word_field, "must be a list of words")
        options = tuple(_parse_options(name, fact_id, item))
        if item["type"] in ("choice", "choices") and not options:
            raise TrialDataError(name, fact_id, "options", "a choice needs options")
        if item.get("unit") is not None and (item["type"] != "time_ago" or item["unit"] not in UNITS):
            raise TrialDataError(name, fact_id, "unit", f"only a time_ago fact has a unit ({', '.join(UNITS)})")
        if item.get("sensitive") is not None and not (isinstance(item["sensitive"], str) and item["sensitive"].strip()):
            raise TrialDataError(name, fact_id, "sensitive", "must be a short name of the topic, such as HIV")
        if item["type"] == "number":
            for bound in ("min", "max"):
                if not isinstance(item.get(bound), int):
                    raise TrialDataError(name, fact_id, bound, "a number needs whole-number bounds")
        problem = translation_problem(item, (*FACT_TEXTS, "sensitive"))
        if problem:
            raise TrialDataError(name, fact_id, *problem)
        facts[fact_id] = Fact(
            id=fact_id,
            type=item["type"],
            question=localized(item, "question"),
            question_guardian=localized(item, "question_guardian"),
            why=localized(item, "why"),
            options=options,
            min=item.get("min"),
            max=item.get("max"),
            crisis_if_yes=bool(item.get("crisis_if_yes", False)),
            label=localized(item, "label"),
            keywords=tuple(item.get("keywords") or ()),
            yes_words=tuple(item.get("yes_words") or ()),
            no_words=tuple(item.get("no_words") or ()),
            deny_words=tuple(item.get("deny_words") or ()),
            unit=item.get("unit"),
            sensitive=localized(item, "sensitive") if (item.get("sensitive") or "").strip() else None,
        )
        pending_follow_ups.append((fact_id, item.get("follow_ups") or []))

    # Follow-ups can name facts defined later in the file, so resolve them last.
    for fact_id, entries in pending_follow_ups:
        follow_ups = []
        for entry in entries:
            if not isinstance(entry, dict) or "ask" not in entry or "when" not in entry:
                raise TrialDataError(name, fact_id, "follow_ups", "each needs 'ask' and 'when'")
            ask = entry["ask"] if isinstance(entry["ask"], list) else [entry["ask"]]
            for target in ask:
                if target not in facts:
                    raise TrialDataError(name, fact_id, "follow_ups.ask", f"points to unknown fact {target!r}")
                if target == fact_id:
                    raise TrialDataError(name, fact_id, "follow_ups.ask", "a fact cannot follow itself")
            when = entry["when"]
            if not isinstance(when, dict):  # shorthand: a value of this fact
                when = {"fact": fact_id, "op": "eq", "value": when}
            try:
                rule = parse_rule(when, facts)
            except ValueError as exc:
                raise TrialDataError(name, fact_id, "follow_ups.when", str(exc)) from exc
            follow_ups.append(FollowUp(ask=tuple(ask), when=rule))
        facts[fact_id] = replace(facts[fact_id], follow_ups=tuple(follow_ups))
    return facts, _parse_groups(name, raw.get("groups") or [], facts)


def _parse_groups(name: str, raw_groups: list, facts: dict[str, Fact]) -> dict[str, QuestionGroup]:
    groups: dict[str, QuestionGroup] = {}
    grouped: dict[str, str] = {}
    for index, item in enumerate(raw_groups):
        group_id = item.get("id") if isinstance(item, dict) else None
        where = group_id or f"group #{index + 1}"
        if not isinstance(item, dict) or not group_id:
            raise TrialDataError(name, where, "id", "each group needs an id")
        if group_id in groups or group_id in facts:
            raise TrialDataError(name, group_id, "id", "duplicate id (groups and facts share ids)")
        unknown = set(item) - GROUP_FIELDS
        if unknown:
            raise TrialDataError(name, group_id, sorted(unknown)[0], "unknown field")
        for text_field in ("question", "question_guardian", "why"):
            if not isinstance(item.get(text_field), str) or not item[text_field].strip():
                raise TrialDataError(name, group_id, text_field, "missing text")
        problem = translation_problem(item, GROUP_TEXTS)
        if problem:
            raise TrialDataError(name, group_id, *problem)
        members = item.get("facts")
        if not isinstance(members, list) or len(members) < 2:
            raise TrialDataError(name, group_id, "facts", "a group needs at least two facts")
        for member in members:
            if member not in facts:
                raise TrialDataError(name, group_id, "facts", f"unknown fact {member!r}")
            if facts[member].type != "yes_no":
                raise TrialDataError(name, group_id, "facts", f"{member} is not a yes/no fact")
            if member in grouped:
                raise TrialDataError(name, group_id, "facts", f"{member} is already in group {grouped[member]}")
            grouped[member] = group_id
        groups[group_id] = QuestionGroup(
            id=group_id,
            question=localized(item, "question"),
            question_guardian=localized(item, "question_guardian"),
            why=localized(item, "why"),
            facts=tuple(members),
        )
    return groups


def _parse_options(name: str, fact_id: str, item: dict):
    seen = set()
    for option in item.get("options") or []:
        if not isinstance(option, dict) or not option.get("id") or not option.get("label"):
            raise TrialDataError(name, fact_id, "options", "each option needs an id and a label")
        synonyms = option.get("synonyms", [])
        if not isinstance(synonyms, list) or not all(isinstance(w, str) and w.strip() for w in synonyms):
            raise TrialDataError(name, fact_id, "options.synonyms", f"must be a list of words ({option['id']})")
        if option["id"] in seen:
            raise TrialDataError(name, fact_id, "options", f"duplicate option {option['id']!r}")
        seen.add(option["id"])
        unknown = set(option) - {"id", "synonyms", *OPTION_TEXTS, *(f"{t}_{lang}" for t in OPTION_TEXTS
                                                                   for lang in OTHER_LANGUAGES)}
        if unknown:
            raise TrialDataError(name, fact_id, f"options.{sorted(unknown)[0]}", f"unknown field ({option['id']})")
        problem = translation_problem(option, OPTION_TEXTS)
        if problem:
            raise TrialDataError(name, fact_id, f"options.{problem[0]}", f"{problem[1]} ({option['id']})")
        yield Option(id=str(option["id"]), label=localized(option, "label"), synonyms=tuple(synonyms))


def follow_up_triggers(facts: dict[str, Fact]) -> dict[str, list]:
    """For each follow-up fact, the rules under which it may be asked."""
    triggers: dict[str, list] = {}
    for fact in facts.values():
        for follow_up in fact.follow_ups:
            for target in follow_up.ask:
                triggers.setdefault(target, []).append(follow_up.when)
    return triggers
