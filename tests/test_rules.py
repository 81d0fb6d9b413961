"""Three-valued rule logic and "how long ago" ranges."""
import math

import pytest

from prescreen.screening.durations import DaysAgo, parse_duration
from prescreen.screening.factbank import NOT_SURE, Fact
from prescreen.screening.rules import All, AnyOf, Compare, Not, SiteCheck, Truth, parse_rule

T, F, U, S = Truth.TRUE, Truth.FALSE, Truth.UNKNOWN, Truth.SITE


class Const:
    def __init__(self, value):
        self.value = value

    def evaluate(self, answers):
        return self.value

    def facts(self):
        return set()


@pytest.mark.parametrize(
    "values, expected_all, expected_any",
    [
        ([T, T], T, T),
        ([T, F], F, T),
        ([F, U], F, U),
        ([T, U], U, T),
        ([T, S], S, T),
        ([F, S], F, S),
        ([U, S], U, U),  # the patient can still answer: unknown outranks site
    ],
)
def test_kleene_combination(values, expected_all, expected_any):
    children = tuple(Const(v) for v in values)
    assert All(children).evaluate({}) is expected_all
    assert AnyOf(children).evaluate({}) is expected_any


def test_not_keeps_unknown_and_site():
    assert Not(Const(T)).evaluate({}) is F
    assert Not(Const(U)).evaluate({}) is U
    assert Not(Const(S)).evaluate({}) is S


def test_unanswered_and_not_sure_are_unknown():
    rule = Compare("age", "gte", 18)
    assert rule.evaluate({}) is U
    assert rule.evaluate({"age": NOT_SURE}) is U
    assert rule.evaluate({"age": 18}) is T
    assert rule.evaluate({"age": 17}) is F
    assert SiteCheck("a lab value").evaluate({"age": 40}) is S


def test_durations():
    assert parse_duration("4 weeks") == 28
    assert parse_duration("3 months") == 90
    assert parse_duration("5 years") == 1825
    assert parse_duration("14 days") == 14
    with pytest.raises(ValueError):
        parse_duration("soon")


def test_day_ranges_say_unknown_when_they_straddle_the_limit():
    limit = parse_duration("4 weeks")
    assert DaysAgo.exactly(14).within(limit) is True
    assert DaysAgo.exactly(60).within(limit) is False
    assert DaysAgo(20, 40).within(limit) is None
    assert DaysAgo.more_than(1825).within(limit) is False
    assert DaysAgo.more_than(10).within(limit) is None
    with pytest.raises(ValueError):
        DaysAgo(10, 5)


def test_time_rules_with_ranges_and_never():
    rule = Compare("vaccine_when", "within", 28)
    assert rule.evaluate({"vaccine_when": DaysAgo.exactly(7)}) is T
    assert rule.evaluate({"vaccine_when": DaysAgo(20, 40)}) is U
    longer = Compare("diagnosis_when", "longer_ago_than", 168)
    assert longer.evaluate({"diagnosis_when": DaysAgo.more_than(365)}) is T
    assert longer.evaluate({"diagnosis_when": DaysAgo(0, math.inf)}) is U


FACTS = {
    "age": Fact(id="age", type="number", question="q", question_guardian="q", why="w", min=0, max=120),
    "smoker": Fact(id="smoker", type="yes_no", question="q", question_guardian="q", why="w"),
}


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"fact": "height", "op": "gte", "value": 1}, "unknown fact"),
        ({"fact": "age", "op": "approx", "value": 1}, "operator 'approx'"),
        ({"fact": "age", "op": "gte", "value": "eighteen"}, "is not"),
        ({"fact": "smoker", "op": "eq", "value": "yes"}, "compare with true or false"),
        ({"fact": "age", "op": "gte"}, "value: missing"),
        ({"all": []}, "non-empty list"),
        ({"all": [{"fact": "age", "op": "gte", "value": 1}], "any": []}, "exactly one"),
        ({"site": ""}, "short note"),
        ("age >= 18", "must be a mapping"),
    ],
)
def test_parse_rule_rejects_bad_rules(raw, message):
    with pytest.raises(ValueError, match=message):
        parse_rule(raw, FACTS)
