"""Answer parsing: digits and words, how long ago, choices, checklists, bad input."""
from datetime import date

import pytest

from prescreen.screening.answers import AnswerError, NeedsDetail, parse_answer, parse_group_answer, parse_time_ago
from prescreen.screening.durations import DaysAgo
from prescreen.screening.factbank import NOT_SURE

TODAY = date(2026, 11, 23)


@pytest.fixture(scope="module")
def facts(catalog):
    return catalog.facts


@pytest.mark.parametrize("text, expected", [
    ("34", 34), ("I'm 34", 34), ("thirty-four", 34), ("thirty four years old", 34), ("She is 9", 9),
    ("nine", 9), ("one hundred and two", 102), ("I am 18 years old", 18), ("not sure", NOT_SURE),
])
def test_age(facts, text, expected):
    assert parse_answer(facts["age"], text, TODAY) == expected


@pytest.mark.parametrize("text", ["0", "150", "abc", "", "34.5", "I'm 34 and my son is 9", "😀", "x" * 5000])
def test_bad_age_is_refused_with_a_hint(facts, text):
    with pytest.raises(AnswerError) as caught:
        parse_answer(facts["age"], text, TODAY)
    assert caught.value.hint


@pytest.mark.parametrize("text, expected", [
    ("yes", True), ("Yes, I have", True), ("yeah", True), ("y", True), ("I did", True), ("👍", True), ("是的", True),
    ("no", False), ("No, never", False), ("nope", False), ("I have not", False), ("没有", False),
    ("I'm not sure", NOT_SURE), ("I don't know", NOT_SURE), ("no idea", NOT_SURE), ("maybe", NOT_SURE),
])
def test_yes_no(facts, text, expected):
    assert parse_answer(facts["transplant"], text, TODAY) == expected


def test_yes_no_nonsense_is_refused(facts):
    with pytest.raises(AnswerError, match="yes"):
        parse_answer(facts["transplant"], "purple", TODAY)


@pytest.mark.parametrize("text, expected", [
    ("2 weeks ago", DaysAgo(14, 14)), ("two weeks ago", DaysAgo(14, 14)), ("yesterday", DaysAgo(1, 1)),
    ("last month", DaysAgo(30, 60)), ("more than 5 years ago", DaysAgo.more_than(1825)),
    ("in the last 3 months", DaysAgo(0, 90)), ("in 2019", DaysAgo((TODAY - date(2019, 12, 31)).days,
                                                                (TODAY - date(2019, 1, 1)).days)),
    ("3-6 months ago", DaysAgo(90, 180)), ("a year ago", DaysAgo(365, 365)),
    ("last year", DaysAgo((TODAY - date(2025, 12, 31)).days, (TODAY - date(2025, 1, 1)).days)),
])
def test_how_long_ago(text, expected):
    assert parse_time_ago(text, TODAY) == expected


@pytest.mark.parametrize("text", ["soon", "in 2031", "5", "between 2019 and 2020"])
def test_bad_how_long_ago(text):
    with pytest.raises(AnswerError):
        parse_time_ago(text, TODAY)


def test_time_buttons_carry_exact_ranges(facts):
    assert parse_answer(facts["live_vaccine_when"], "choice:days:29-", TODAY) == DaysAgo.more_than(29)
    assert parse_answer(facts["live_vaccine_when"], "choice:days:0-28", TODAY) == DaysAgo(0, 28)


@pytest.mark.parametrize("text, expected", [
    ("lupus", "sle"), ("I have SLE", "sle"), ("Sjogren's", "sjogren"), ("scleroderma", "systemic_sclerosis"),
    ("dermatomyositis", "myositis"), ("GPA", "anca_vasculitis"), ("antiphospholipid syndrome", "aps"),
    ("rheumatoid arthritis", "other"), ("choice:aps", "aps"), ("Lupus (SLE)", "sle"),
])
def test_condition_by_words_or_button(facts, text, expected):
    assert parse_answer(facts["condition"], text, TODAY) == expected


@pytest.mark.parametrize("text, expected", [("female", "female"), ("I'm a woman", "female"), ("male", "male"),
                                            ("boy", "male"), ("choice:female", "female")])
def test_sex_whole_words_only(facts, text, expected):
    assert parse_answer(facts["sex"], text, TODAY) == expected


def test_ambiguous_choice_is_asked_again(facts):
    with pytest.raises(AnswerError, match="just one"):
        parse_answer(facts["condition"], "lupus and scleroderma", TODAY)


def group(catalog, group_id):
    g = catalog.groups[group_id]
    return g, [catalog.facts[f] for f in g.facts]


def test_checklist_answers(catalog):
    g, members = group(catalog, "health_history")
    assert set(parse_group_answer(g, members, "none of these").values()) == {False}
    assert set(parse_group_answer(g, members, "no").values()) == {False}
    assert set(parse_group_answer(g, members, "not sure").values()) == {NOT_SURE}
    answer = parse_group_answer(g, members, "1 and 3")
    assert answer["cancer"] is True and answer["hepatitis"] is True and answer["hiv"] is False
    answer = parse_group_answer(g, members, "I had skin cancer and TB")
    assert {f for f, v in answer.items() if v} == {"cancer", "tuberculosis"}
    with pytest.raises(NeedsDetail):
        parse_group_answer(g, members, "yes")
    with pytest.raises(AnswerError):
        parse_group_answer(g, members, "7 and 12")
    with pytest.raises(AnswerError):
        parse_group_answer(g, members, "banana")


def test_checklist_prefers_the_longer_item_name(catalog):
    g, members = group(catalog, "recent_events")
    answer = parse_group_answer(g, members, "I have surgery planned")
    assert answer["surgery_planned"] is True and answer["major_surgery"] is False
