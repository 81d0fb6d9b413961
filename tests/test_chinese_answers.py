"""Chinese answers: numerals through cn2an, durations, yes/no/not sure, checklists, options, who is answering."""
from datetime import date

import pytest

from prescreen.screening.answers import parse_answer, parse_group_answer
from prescreen.screening.chinese import canonical
from prescreen.screening.commands import plain_command
from prescreen.screening.conversation import _parse_respondent
from prescreen.screening.durations import DaysAgo
from prescreen.screening.factbank import NOT_SURE

TODAY = date(2026, 12, 1)


@pytest.mark.parametrize("text, expected", [
    ("三十四", 34), ("34岁", 34), ("十二岁", 12), ("她十二岁了", 12), ("我今年四十五岁", 45), ("二十三周岁", 23),
    ("一百零二", 102), ("不知道", NOT_SURE),
])
def test_chinese_numbers(catalog, text, expected):
    assert parse_answer(catalog.facts["age"], text, TODAY) == expected


def test_numerals_that_count_nothing_are_left_alone():
    assert canonical("我一直没有") == "我一直没有" and canonical("一样") == "一样"
    assert canonical("一两个月前") == "1 to 2 months ago"  # one or two months, not twelve


@pytest.mark.parametrize("text, expected", [
    ("两周前", DaysAgo(14, 14)), ("上个月", DaysAgo(30, 60)), ("半年前", DaysAgo(180, 180)),
    ("一年多以前", DaysAgo.more_than(365)), ("三个月以内", DaysAgo(0, 90)), ("十年以上", DaysAgo.more_than(3650)),
    ("2019年", DaysAgo((TODAY - date(2019, 12, 31)).days, (TODAY - date(2019, 1, 1)).days)),
    ("三到六个月前", DaysAgo(90, 180)), ("昨天", DaysAgo(1, 1)),
])
def test_chinese_durations(catalog, text, expected):
    assert parse_answer(catalog.facts["diagnosis_when"], text, TODAY) == expected


@pytest.mark.parametrize("text, expected", [
    ("是", True), ("是的", True), ("有", True), ("对", True), ("没有", False), ("不是", False), ("从来没有", False),
    ("我没做过移植", False), ("不知道", NOT_SURE), ("记不清了", NOT_SURE), ("可能吧", NOT_SURE),
])
def test_chinese_yes_no(catalog, text, expected):
    assert parse_answer(catalog.facts["transplant"], text, TODAY) == expected


@pytest.mark.parametrize("text, expected", [("红斑狼疮", "sle"), ("系统性红斑狼疮", "sle"), ("干燥综合征", "sjogren")])
def test_chinese_options(catalog, text, expected):
    assert parse_answer(catalog.facts["condition"], text, TODAY) == expected


def test_chinese_checklists(catalog):
    group = next(g for g in catalog.groups.values() if {"cancer", "hiv"} <= set(g.facts))
    members = [catalog.facts[f] for f in group.facts]
    first, third = group.facts[0], group.facts[2]
    for text in ("1和3", "第一个和第三个", "1、3"):
        answer = parse_group_answer(group, members, text)
        assert {f for f, v in answer.items() if v is True} == {first, third}, text
    assert set(parse_group_answer(group, members, "都没有").values()) == {False}


@pytest.mark.parametrize("text, who", [
    ("我是病人", "self"), ("本人", "self"), ("我是孩子的妈妈", "guardian"), ("我女儿", "guardian"),
    ("我帮我妈妈问", "helper"), ("I'm not the patient, it's my son", "guardian"),
])
def test_who_is_answering_in_chinese_and_with_negation(text, who):
    assert _parse_respondent(text) == who


@pytest.mark.parametrize("text, command", [
    ("为什么", "ask_why"), ("返回", "go_back"), ("重新开始", "start_over"), ("停止", "stop"), ("删除我的数据", "withdraw"),
])
def test_chinese_commands(text, command):
    assert plain_command(text) == command
