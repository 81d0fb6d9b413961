"""Chinese answers in the words the parsers already read: "两周前" -> "2 weeks ago".

Chinese numerals go through cn2an (a kept library), but only where they count something
("三十四岁", "两周", "第三个"): cn2an on a whole sentence turns "一直" into "1直" and
"一两个月" into "12个月". Time words, "and" and item references are rewritten to the
English forms of `answers.py`, so one set of rules decides for both languages.
"""
from __future__ import annotations

import re

import cn2an

_CJK = re.compile(r"[\u3400-\u9fff]")
_NUMERAL = "零〇一二两三四五六七八九十百千"
# A numeral run that counts something: followed by a unit or a measure word, or on its own.
_COUNTED = re.compile(rf"([{_NUMERAL}]+)(?=\s*(多|来)?\s*(岁|周岁|年|个月|月|周|星期|礼拜|天|日|个|项|次|号|了|啦|$))")
_RANGE = re.compile(rf"([{_NUMERAL}\d]+)\s*(?:到|至|-|~|或)\s*([{_NUMERAL}\d]+)\s*(个月|年|周|星期|天)")
_PAIR = re.compile(r"(?<![\d])([一二两三四五六七八九])([二两三四五六七八九])(个月|年|周|星期|天)")  # "一两个月": one or two

UNITS = [("个星期", "weeks"), ("个礼拜", "weeks"), ("星期", "weeks"), ("礼拜", "weeks"), ("个月", "months"),
         ("周", "weeks"), ("年", "years"), ("天", "days"), ("日", "days")]
TIME_WORDS = [
    ("今天", " today "), ("刚才", " today "), ("昨天", " yesterday "), ("前天", " 2 days ago "),
    ("上个星期", " last week "), ("上星期", " last week "), ("上周", " last week "), ("上个月", " last month "),
    ("去年", " last year "), ("今年", " this year "), ("前年", " 2 years ago "),
    ("大概", " about "), ("大约", " about "), ("左右", " about "), ("差不多", " about "),
    # "快35了", "将近两年", "虚岁35": near a number, not the number, so the exact one is asked for
    ("虚岁", " about "),
]
# "快35了", "将近两年": near a number, not the number, so the exact one is asked for ("很快" is not).
_NEARLY = re.compile(r"(快要|快|将近|接近|差一点|差点)(?=\s*\d)")
# Units that are not the question's ("34公斤" at "how old are you?"): read as their English names, so the
# same rule asks again.
OTHER_UNITS = [("公斤", "kg"), ("千克", "kg"), ("斤", "kg"), ("厘米", "cm"), ("毫米", "mm"), ("毫克", "mg"),
               ("毫升", "ml"), ("克", "g"), ("米", "m")]


def has_chinese(text: str) -> bool:
    return bool(_CJK.search(text or ""))


def _number(run: str) -> str:
    try:
        return str(int(cn2an.cn2an(run.replace("两", "二"), "smart")))
    except (ValueError, KeyError):
        return run


def numerals_to_digits(text: str) -> str:
    """"她三十四岁" -> "她 34 岁"; "第一个和第三个" -> "第 1 个和第 3 个"; "一直" is left alone."""
    text = _PAIR.sub(lambda m: f"{_number(m.group(1))}到{_number(m.group(2))}{m.group(3)}", text)
    return _COUNTED.sub(lambda m: f" {_number(m.group(1))} ", text)


def canonical(text: str) -> str:
    """A Chinese answer rewritten for the English parsers; text without Chinese is returned as it is."""
    if not has_chinese(text):
        return text
    out = numerals_to_digits(text)
    out = re.sub(r"一年半", " 18 个月", out)
    out = re.sub(r"(\d+)\s*个半月", lambda m: f" {int(m.group(1)) * 30 + 15} 天", out)
    out = re.sub(r"(\d+)\s*年半", lambda m: f" {int(m.group(1)) * 12 + 6} 个月", out)
    out = re.sub(r"半年", " 6 个月", out)
    out = re.sub(r"半个月", " 15 天", out)
    out = re.sub(r"(19\d\d|20\d\d)\s*年\s*(\d{1,2})\s*月(份)?", lambda m: f" {_MONTHS[int(m.group(2)) - 1]} {m.group(1)} "
                 if 1 <= int(m.group(2)) <= 12 else m.group(0), out)
    out = re.sub(r"(19\d\d|20\d\d)\s*年", r" in \1 ", out)
    for chinese, english in TIME_WORDS:
        out = out.replace(chinese, english)
    out = _NEARLY.sub(" almost ", out)
    out = _RANGE.sub(lambda m: f" {_number(m.group(1))} to {_number(m.group(2))} {m.group(3)} ", out)
    out = re.sub(r"(\d+)\s*(周岁|岁)", r"\1 ", out)  # before the units: "周岁" is not "weeks"
    for chinese, english in UNITS:
        out = re.sub(rf"(\d+)\s*{chinese}", rf"\1 {english} ", out)
    for chinese, english in OTHER_UNITS:
        out = re.sub(rf"(\d+)\s*{chinese}", rf"\1{english} ", out)
    more = re.search(r"多|以上|超过|不止", out)
    less = re.search(r"以内|之内|内|最近|不到|少于", out)
    ago = re.search(r"前|以前|之前|那时", out)
    out = re.sub(r"以前|之前|前|多|以上|超过|不止|以内|之内|最近|不到|少于", " ", out)
    if more:
        out = f"more than {out}"
    elif less:
        out = f"in the last {out}"
    if ago and not less:
        out = f"{out} ago"
    out = re.sub(r"第\s*(\d+)\s*(个|项|条)?", r" \1 ", out)
    out = re.sub(r"\s*(和|跟|与|、|，|,|还有|及)\s*", " and ", out)
    out = re.sub(r"(\d+(?:\.\d+)?)", r" \1 ", out)
    return " ".join(out.split())


_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december"]
