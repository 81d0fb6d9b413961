"""Structured rules over patient facts, evaluated in three values (plus "site").

A rule is a tree: `all`, `any`, `not`, a comparison `{fact, op, value}`, or
`{site: "..."}` for a part only the trial site can check (a lab value, a score, the
investigator's opinion). Rules are data, parsed once and checked against the fact
bank; nothing is ever `eval`-ed.

Truth values follow Kleene's logic with two kinds of "don't know":
  UNKNOWN  the patient has not answered, or said "I'm not sure";
  SITE     the patient's answers are in, and only the site can settle the rest.
UNKNOWN outranks SITE when combining, because the patient can still resolve it.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Mapping

from prescreen.screening.factbank import NOT_SURE, Fact


class Truth(enum.Enum):
    TRUE = "true"
    FALSE = "false"
    UNKNOWN = "unknown"
    SITE = "site"

    @classmethod
    def of(cls, value: bool | None) -> "Truth":
        return cls.UNKNOWN if value is None else (cls.TRUE if value else cls.FALSE)


def _combine(values: list[Truth], dominant: Truth, neutral: Truth) -> Truth:
    if dominant in values:
        return dominant
    if Truth.UNKNOWN in values:
        return Truth.UNKNOWN
    if Truth.SITE in values:
        return Truth.SITE
    return neutral


@dataclass(frozen=True)
class All:
    children: tuple

    def evaluate(self, answers: Mapping[str, Any]) -> Truth:
        return _combine([c.evaluate(answers) for c in self.children], Truth.FALSE, Truth.TRUE)

    def facts(self) -> set[str]:
        return set().union(*(c.facts() for c in self.children))


@dataclass(frozen=True)
class AnyOf:
    children: tuple

    def evaluate(self, answers: Mapping[str, Any]) -> Truth:
        return _combine([c.evaluate(answers) for c in self.children], Truth.TRUE, Truth.FALSE)

    def facts(self) -> set[str]:
        return set().union(*(c.facts() for c in self.children))


@dataclass(frozen=True)
class Not:
    child: Any

    def evaluate(self, answers: Mapping[str, Any]) -> Truth:
        value = self.child.evaluate(answers)
        return {Truth.TRUE: Truth.FALSE, Truth.FALSE: Truth.TRUE}.get(value, value)

    def facts(self) -> set[str]:
        return self.child.facts()


@dataclass(frozen=True)
class SiteCheck:
    """A part of a criterion that only the study site can check."""

    note: str

    def evaluate(self, answers: Mapping[str, Any]) -> Truth:
        return Truth.SITE

    def facts(self) -> set[str]:
        return set()


@dataclass(frozen=True)
class Compare:
    fact: str
    op: str
    value: Any

    def evaluate(self, answers: Mapping[str, Any]) -> Truth:
        answer = answers.get(self.fact)
        if answer is None or answer == NOT_SURE:
            return Truth.UNKNOWN
        return Truth.of(_compare(self.op, answer, self.value))

    def facts(self) -> set[str]:
        return {self.fact}


def _compare(op: str, answer: Any, value: Any) -> bool | None:
    if op == "eq":
        return answer == value
    if op == "ne":
        return answer != value
    if op == "in":
        return answer in value
    if op == "not_in":
        return answer not in value
    if op == "gt":
        return answer > value
    if op == "gte":
        return answer >= value
    if op == "lt":
        return answer < value
    if op == "lte":
        return answer <= value
    if op == "includes":
        return value in answer
    if op == "excludes":
        return value not in answer
    if op == "within":
        return answer.within(value)
    if op == "longer_ago_than":  # "at least N ago": exactly N ago counts
        return answer.at_least(value)
    raise ValueError(f"unknown operator {op!r}")  # parse_rule stops this at load time


RULE_KEYS = {"all", "any", "not", "fact", "site"}


def parse_rule(raw: Any, facts: Mapping[str, Fact], path: str = "rule"):
    """Turn a rule mapping from YAML into nodes. Raises ValueError naming the place."""
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: must be a mapping, not {raw!r}")
    kinds = RULE_KEYS & set(raw)
    if len(kinds) != 1:
        raise ValueError(f"{path}: needs exactly one of all/any/not/fact/site, got {sorted(raw) or 'nothing'}")
    kind = kinds.pop()
    if kind in ("all", "any"):
        extra = set(raw) - {kind}
        if extra:
            raise ValueError(f"{path}: unexpected key {sorted(extra)[0]!r}")
        items = raw[kind]
        if not isinstance(items, list) or not items:
            raise ValueError(f"{path}.{kind}: must be a non-empty list")
        children = tuple(parse_rule(c, facts, f"{path}.{kind}[{i}]") for i, c in enumerate(items))
        return All(children) if kind == "all" else AnyOf(children)
    if kind == "not":
        if set(raw) != {"not"}:
            raise ValueError(f"{path}: unexpected key next to 'not'")
        return Not(parse_rule(raw["not"], facts, f"{path}.not"))
    if kind == "site":
        if set(raw) != {"site"} or not isinstance(raw["site"], str) or not raw["site"].strip():
            raise ValueError(f"{path}.site: must be a short note of what the site checks")
        return SiteCheck(raw["site"].strip())
    extra = set(raw) - {"fact", "op", "value"}
    if extra:
        raise ValueError(f"{path}: unexpected key {sorted(extra)[0]!r}")
    fact_id = raw.get("fact")
    if fact_id not in facts:
        raise ValueError(f"{path}.fact: unknown fact {fact_id!r}")
    if "op" not in raw:
        raise ValueError(f"{path}.op: missing")
    if "value" not in raw:
        raise ValueError(f"{path}.value: missing")
    try:
        value = facts[fact_id].rule_value(raw["op"], raw["value"])
    except ValueError as exc:
        field = "op" if "operator" in str(exc) else "value"
        raise ValueError(f"{path}.{field}: {exc}") from exc
    return Compare(fact_id, raw["op"], value)
