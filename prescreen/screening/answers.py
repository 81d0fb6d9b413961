"""Turn what a patient typed (or the button they pressed) into a fact's value.

Every parser either returns a value that `Fact.check_answer` accepts, or raises
AnswerError with a short hint for the patient. Nothing is guessed: an answer that
could mean two things is asked again, so a wrong fact is never stored.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Iterable

from prescreen.i18n import _
from prescreen.screening import wording
from prescreen.screening.chinese import canonical, has_chinese
from prescreen.screening.durations import DAYS_PER_UNIT, DaysAgo
from prescreen.screening.factbank import NOT_SURE, Fact, QuestionGroup
from prescreen.screening.polarity import (MIXED, NO, NOT_SURE as HEDGE, YES, changed_state, clauses, correction,
                                         has_negation, leading_answer, polarity, says_not_sure)

MAX_MESSAGE_CHARS = 500
CHOICE_PREFIX = "choice:"  # button payloads carry "choice:<option id>" and the like


class AnswerError(ValueError):
    """The message does not answer the question; `hint` says how to answer."""

    def __init__(self, hint: str):
        super().__init__(hint)
        self.hint = hint


class NeedsDetail(Exception):
    """The patient said "yes" to a checklist: ask which items apply."""


def normalise(text: str) -> str:
    text = text.lower().replace("’", "'").replace("'", "")
    text = re.sub(r"[^\w\s/+-]", " ", text)
    return " ".join(text.split())


def _has_phrase(text: str, phrase: str) -> bool:
    """Whole-word match, so "male" is not found in "female"; Chinese, which has no spaces, anywhere."""
    phrase = normalise(phrase)
    if has_chinese(phrase):
        return phrase in text
    return bool(phrase) and re.search(_word(phrase), text) is not None


def _word(phrase: str) -> str:
    """A Latin word or phrase standing alone (or with a plural s): not inside another word, but found next
    to Chinese ("我有HIV")."""
    words = r"\s+".join(rf"{re.escape(word)}(?:e?s)?" for word in phrase.split())
    return rf"(?<![a-z0-9]){words}(?![a-z0-9])"


def parse_not_sure(text: str) -> bool:
    """"I'm not sure", "dunno", "I forget", a hedge ("could be", "I think so"), or the shrug emoji."""
    return says_not_sure(text)


def parse_yes_no(text: str) -> bool | str:
    """True, False or NOT_SURE. A reply that says both, or neither, gets a hint instead of a guess."""
    value = polarity(text)
    if value == YES:
        return True
    if value == NO:
        return False
    if value == NOT_SURE:
        return NOT_SURE
    if value == MIXED:
        raise AnswerError(wording.MIXED_REPLY)
    raise AnswerError(wording.YES_NO_HINT)


def parse_fact_yes_no(fact: Fact, text: str) -> bool | str:
    """Yes or no to this fact: its own words first ("in remission" is a no to "still active?"),
    then the reply's polarity; a change over time ("I stopped", "used to") is a no to a question about now."""
    corrected = correction(text)  # "no... well actually yes": the correction is the answer
    if corrected is not None:
        return corrected
    if fact.about_now and _THEN_NOW_ZH.search(text):  # "之前是，现在好了": which does the question mean?
        raise AnswerError(wording.MIXED_REPLY)
    said = fact_words(fact, text)
    if said == MIXED:
        raise AnswerError(wording.MIXED_REPLY)
    if said is not None:
        lead = leading_answer(text)  # "no, it's under control" agrees; "no, it's still bad" does not
        if lead is not None and (lead == YES) != said:
            raise AnswerError(wording.MIXED_REPLY)
        return said
    value = parse_yes_no(text)
    if value is True and fact.about_now and changed_state(text):
        if re.search(r"\b(still|again|back|flar\w*|but|though)\b", normalise(text)):  # "it was active but now it's ok"
            raise AnswerError(wording.MIXED_REPLY)
        return False
    return value


_THEN_NOW_ZH = re.compile(r"(之前|以前|原来|过去|本来|曾经)(是|有|挺|很|一直|也|老|总).*(现在|目前|如今|最近)")


def fact_words(fact: Fact, text: str) -> bool | str | None:
    """True or False when the reply uses the fact's own yes- or no-words, MIXED when both, else None.
    A word negated in its clause counts the other way: "it never came back" is a no to "did it come back?"."""
    found = set()
    for clause in clauses(text):
        norm = normalise(clause)
        for words, value in ((fact.yes_words, True), (fact.no_words, False)):
            for word in words:
                if _has_phrase(norm, word):
                    # The negation must be the phrase's own: in "no, it's still bad" the "no" answers, it negates nothing.
                    rest = re.sub(r"^(no|nope|nah|yes|yeah|yep)\b", " ", norm.replace(normalise(word), " ").strip())
                    found.add(value if not has_negation(rest) else not value)
    if len(found) > 1:
        return MIXED
    return found.pop() if found else None


UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "a": 1, "an": 1, "couple": 2,
    "few": 3, "several": 3,
}
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}


NUMBER_WORDS = {w: n for w, n in UNITS.items() if w not in ("a", "an", "couple", "few", "several")} | TENS


def _numbers_in(norm: str) -> list[int]:
    """Whole numbers in digits or English words ("34", "thirty-four", "one hundred and two")."""
    found: list[int] = []
    current: int | None = None
    for word in norm.replace("-", " ").split():
        if word in NUMBER_WORDS:
            current = (current or 0) + NUMBER_WORDS[word]
        elif word == "hundred" and current is not None:
            current *= 100
        elif word == "and" and current is not None:
            continue
        else:
            if current is not None:
                found.append(current)
                current = None
            if word.isdigit():
                found.append(int(word))
    if current is not None:
        found.append(current)
    return found


# Units that are not the question's ("34 kg" at "how old are you?"): asked again, never taken as the answer.
_OTHER_UNITS = re.compile(r"\d\s*(kg|kgs|kilos?|lbs?|pounds?|cm|mm|m|mg|g|ml|%|kilograms?|stone|feet|ft|inches)\b")
_APPROXIMATE = re.compile(r"\b(nearly|almost|about|around|roughly|approximately|or so|ish|over|under|more than|less than)\b")


def parse_number(fact: Fact, text: str) -> int:
    norm = normalise(re.sub(r"(\d)([a-z])", r"\1 \2", text.lower()))  # "34yo" -> "34 yo"
    norm = re.sub(r"\ba hundred\b", "one hundred", norm)
    example = 34 if fact.id == "age" else 3
    if re.search(r"\d+[.,]\d", text):
        raise AnswerError(_("Please type a whole number, for example {example}.").format(example=example))
    if _OTHER_UNITS.search(norm) or (fact.id == "age" and re.search(r"\d\s*(months?|weeks?|days?)\b", norm)):
        raise AnswerError(_("Please type the number in whole years, for example {example}.").format(example=example))
    if _APPROXIMATE.search(norm):
        raise AnswerError(_("Please type the exact number, for example {example}.").format(example=example))
    numbers = _numbers_in(norm)
    if len(numbers) != 1:
        raise AnswerError(_("Please type one number, for example {example}.").format(example=example))
    value = numbers[0]
    if not fact.min <= value <= fact.max:
        raise AnswerError(_("Please type a number from {low} to {high}.").format(low=fact.min, high=fact.max))
    return value


def _amount(word: str) -> float | None:
    if word.isdigit():
        return float(word)
    if word in UNITS:
        return float(UNITS[word])
    if word in TENS:
        return float(TENS[word])
    return None


_UNIT_WORD = r"(day|week|month|year)s?"
_UNIT_ABBREVIATIONS = {r"yrs?|years?": "years", r"mos?|mths?|mnths?|months?": "months", r"wks?|weeks?": "weeks",
                       r"dys?|days?": "days"}
_AMOUNT = r"(\d+|" + "|".join(sorted(set(UNITS) | set(TENS), key=len, reverse=True)) + ")"


MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
TIME_AGO_HINT = _('Please say how long ago, for example "2 weeks ago", "last month" or "in 2019".')


def parse_time_ago(text: str, today: date) -> DaysAgo:
    """"2 weeks ago", "last month", "in 2019", "more than 5 years ago" -> a day range."""
    norm = normalise(text).replace("couple of", "couple").replace("a few", "few")
    norm = re.sub(r"\b(a|one) year and a half\b", "18 months", norm)
    norm = re.sub(r"\bhalf an? year\b|\bsix months\b", "6 months", norm)
    norm = re.sub(r"\b(a|one) fortnight\b", "2 weeks", norm)
    norm = re.sub(r"\b(a|one) decade\b", "10 years", norm)
    norm = re.sub(r"(\d)([a-z])", r"\1 \2", norm)  # "6yrs" -> "6 yrs"
    for short, unit in _UNIT_ABBREVIATIONS.items():
        norm = re.sub(rf"\b({short})\b", unit, norm)
    if norm in ("today", "just now", "this morning", "tonight"):
        return DaysAgo.exactly(0)
    if norm == "yesterday":
        return DaysAgo.exactly(1)
    for phrase, unit in (("last week", 7), ("last month", 30)):
        if _has_phrase(norm, phrase):
            return DaysAgo(unit, 2 * unit)
    if _has_phrase(norm, "this year"):
        return DaysAgo(0, (today - date(today.year, 1, 1)).days)
    if _has_phrase(norm, "last year"):
        return DaysAgo((today - date(today.year - 1, 12, 31)).days, (today - date(today.year - 1, 1, 1)).days)

    month_year = re.fullmatch(rf".*?\b({'|'.join(MONTHS)})[a-z]*\s+(?:of\s+)?(19\d\d|20\d\d)\b.*", norm)
    if month_year:
        return _month_range(MONTHS.index(month_year.group(1)) + 1, int(month_year.group(2)), today)
    years = [int(y) for y in re.findall(r"(?<!\d)(19\d\d|20\d\d)(?!\d)", norm)]
    if years:
        if len(years) > 1:
            raise AnswerError(_('Please give one year, for example "in 2019".'))
        year = years[0]
        if year > today.year:
            raise AnswerError(_('That year is in the future. When was it? For example "in 2019" or "3 months ago".'))
        end = min(date(year, 12, 31), today)
        return DaysAgo((today - end).days, (today - date(year, 1, 1)).days)

    spans = re.findall(rf"{_AMOUNT}\s*(?:to|-|or)\s*{_AMOUNT}\s*{_UNIT_WORD}", norm)
    if spans:
        low, high, unit = _amount(spans[0][0]), _amount(spans[0][1]), DAYS_PER_UNIT[spans[0][2]]
        return DaysAgo(min(low, high) * unit, max(low, high) * unit)
    matches = re.findall(rf"{_AMOUNT}\s*{_UNIT_WORD}", norm)
    if len(matches) == 1:
        days = _amount(matches[0][0]) * DAYS_PER_UNIT[matches[0][1]]
        if re.search(r"\b(more than|over|at least|longer than|more then|not in the (last|past)|not within)\b", norm):
            return DaysAgo.more_than(days)
        if has_negation(text):  # "not 2 weeks ago", "never": what did they mean?
            raise AnswerError(TIME_AGO_HINT)
        if re.search(r"\b(less than|under|within|in the last|in the past|fewer than)\b", norm):
            return DaysAgo(0, days)
        if re.search(r"\b(about|around|roughly|approximately|almost|nearly|maybe|or so)\b", norm):
            # "about 2 years ago": within a tenth either way; a limit inside that span stays unknown for the site
            return DaysAgo(days * 0.9, days * 1.1)
        return DaysAgo.exactly(days)
    raise AnswerError(TIME_AGO_HINT)


def _month_range(month: int, year: int, today: date) -> DaysAgo:
    first = date(year, month, 1)
    last = date(year + month // 12, month % 12 + 1, 1)
    if first > today:
        raise AnswerError(_('That date is in the future. When was it? For example "in March 2024".'))
    end = min(today, date.fromordinal(last.toordinal() - 1))
    return DaysAgo((today - end).days, (today - first).days)


def parse_range_payload(value: str) -> DaysAgo:
    """A time button's payload: "days:29-90" or "days:91-" (open-ended)."""
    low, _dash, high = value.removeprefix("days:").partition("-")
    try:
        if not re.fullmatch(r"\d{1,6}", low) or not re.fullmatch(r"(\d{1,6})?", high):
            raise ValueError(value)
        return DaysAgo(float(low), float(high) if high else float("inf"))
    except ValueError as exc:  # typed, not tapped: "choice:days:" and the like
        raise AnswerError(_('Please tap one of the buttons, or say how long ago, for example "3 months".')) from exc


def parse_choice(fact: Fact, text: str) -> str:
    """One option, by its button or its words. An option named only to deny it ("not lupus") does
    not count; two options, or an option with a hedge ("maybe lupus"), get a hint instead of a guess."""
    if text.startswith(CHOICE_PREFIX):
        option_id = text[len(CHOICE_PREFIX):]
        if option_id in fact.option_ids():
            return option_id
    named, denied = set(), set()
    for clause in clauses(text):
        norm = normalise(clause)
        for option in fact.options:
            phrases = (option.id.replace("_", " "), option.label, *option.synonyms)
            if any(_has_phrase(norm, p) or normalise(p) == norm for p in phrases):
                (denied if has_negation(clause) and not _negation_is_inside_option(clause, phrases) else named).add(option.id)
    matched = [o.id for o in fact.options if o.id in named - denied]
    labels = wording.plain_list(o.label for o in fact.options)
    if len(matched) == 1 and not says_not_sure(text):
        return matched[0]
    if len(matched) == 1:
        raise AnswerError(_('Is it {option}? Please tap it if so, or tap "I\'m not sure".').format(
            option=fact.options[fact.option_ids().index(matched[0])].label))
    if matched:
        raise AnswerError(_("Please choose just one: {options}.").format(options=labels))
    if says_not_sure(text):
        return NOT_SURE
    raise AnswerError(_("Please choose one of: {options}.").format(options=labels))


def _negation_is_inside_option(clause: str, phrases) -> bool:
    """"None of these" names the option "Something else" by its own negative words."""
    norm = normalise(clause)
    return any(normalise(p) == norm for p in phrases)


# "43，不对，是34", "男，不对，女": the patient corrects themself in one message; what follows counts.
_SELF_CORRECTION_ZH = re.compile(r"[，,。\s]*(不对|不是不是|说错了|打错了)[了，,。\s]*(应该是|是)?\s*")


def _with_the_questions_unit(fact: Fact, text: str) -> str:
    """A bare number answers in the question's own unit: "6" to "About how many months ago ...?" is 6 months."""
    unit = re.search(r"how many (days|weeks|months|years)", fact.question.original, re.IGNORECASE)
    if unit and re.fullmatch(r"\s*\d{1,3}\s*", text):
        return f"{text.strip()} {unit.group(1).lower()} ago"
    return text


def parse_answer(fact: Fact, text: str, today: date) -> object:
    """The value this message gives `fact`, or AnswerError."""
    check_length(text)
    if fact.type != "yes_no":  # a yes or no is read whole: polarity() knows "有，不对，是没有"
        last = list(_SELF_CORRECTION_ZH.finditer(text))
        if last and last[-1].start() > 0 and text[last[-1].end():].strip():
            text = text[last[-1].end():]
    if fact.type == "choice":  # "maybe lupus" names an option and hedges it: asked again, see parse_choice
        return fact.check_answer(parse_choice(fact, text))
    if parse_not_sure(text):
        return NOT_SURE
    if fact.type == "yes_no":
        value: object = parse_fact_yes_no(fact, text)
    elif fact.type == "number":
        value = parse_number(fact, canonical(text))
    elif fact.type == "time_ago":
        value = parse_range_payload(text[len(CHOICE_PREFIX):]) if text.startswith(f"{CHOICE_PREFIX}days:") \
            else parse_time_ago(_with_the_questions_unit(fact, canonical(text)), today)
    else:  # "choices": several options at once
        value = frozenset(parse_choice(fact, part) for part in re.split(r",|\band\b", text) if part.strip())
    return fact.check_answer(value)


# Words in a clause that say the patient did not have the item: it was offered, planned, someone else's.
_NOT_AN_EVENT = re.compile(r"\b(offered|recommended|suggested|discussed|talked about|considering|thinking about|"
                           r"waiting (for|on)|on the list for|might get|may get|going to have|planned for me)\b"
                           r"|建议|推荐|提过|提到过|考虑|等着|排队")
_SOMEONE_ELSE = re.compile(r"\bmy (mum|mom|mother|dad|father|sister|brother|aunt|uncle|grand\w+|cousin|friend|"
                           r"husband|wife|partner|family|neighbour|neighbor)\b|(他|她)?(妈妈|爸爸|母亲|父亲|姐姐|妹妹|哥哥|弟弟|奶奶|爷爷|朋友|家人)"
                           r"|我(妈|爸)|老(妈|爸)|(我)?(老公|老婆|爱人|丈夫|妻子|外公|外婆|姥姥|姥爷|亲戚|邻居|同事|家里人)")
_NOT_ME = re.compile(r"\bnot (me|mine|myself)\b|\bnot (him|her)\b|\b(i|she|he) (didnt|never|havent|hasnt)\b|不是我"
                     r"|我(自己|本人)?(没有|没|从来没|从没|不)")
_PRONOUN = re.compile(r"\b(it|that|them|those|one|any)\b")
_ALL_BUT_ZH = re.compile(r"^\s*除了(.+?)(以外|之外|外)?[，,、\s]*(其他|其它|别的|剩下)?(的)?(都|全)(没有|没|不是|无)")
_DID_NOT_ZH = re.compile(r"没(有)?(做|打|用|吃|去|接受|参加|输|试|住院|移植)|没去做|没同意")
_EARLIER = re.compile(r"\b(19|20)\d\d\b|\byears? ago\b|\blast year\b|\blong ago\b|\bas a (child|kid|teenager)\b|"
                      r"\bwhen i was\b|\bin the past\b")
_THE_REST = re.compile(r"\b(the rest|everything else|all the others|the others|all others|nothing else|rest no)\b")


def parse_group_answer(group: QuestionGroup, members: Iterable[Fact], text: str,
                       ticked: Iterable[str] = ()) -> dict[str, object]:
    """A typed answer to a checklist: "none", "not sure", item numbers or item words, negation-aware.

    Items named in an affirmed clause are yes, and then the items not named are "no" (a
    typed list is a full answer). Items named only to deny them ("I never had cancer or
    HIV") are "no" and the rest are asked again, unless the reply says "nothing else" or
    "none of these"; items named with a hedge are "not sure". A clause about someone else
    ("my mum had cancer"), about an offer ("I was offered CAR-T") or with a later "never
    had it" does not make an item yes; an item about now named with a change ("I stopped
    breastfeeding") is no, and one about a recent time named with an older date is "not sure".
    Items already `ticked` (tapped) count as named, unless the text denies them.
    """
    check_length(text)
    members = list(members)
    ids = [m.id for m in members]
    by_id = {m.id: m for m in members}
    if text == f"{CHOICE_PREFIX}none":
        return {f: False for f in ids}
    answers: dict[str, object] = {}
    corrected = list(_SELF_CORRECTION_ZH.finditer(text))  # "有癌症，不对，是没有": what follows counts
    if corrected and corrected[-1].start() > 0 and text[corrected[-1].end():].strip():
        text = text[corrected[-1].end():]
    all_but = _ALL_BUT_ZH.search(text)
    if all_but:  # "除了肾移植都没有": that one is a yes, the rest no ("除了高血压都没有": all no)
        named = _items_named(normalise(all_but.group(1)), members)
        return {f: f in named for f in ids}
    norm = normalise(canonical(text)) if has_chinese(text) and not polarity(text) else normalise(text)
    if re.fullmatch(r"\d+((\s*(,|and|&|\+)\s*|\s+)\d+)*", norm):  # only item numbers: "1, 3" or "2 and 4"
        for number in _numbers_in(norm):
            if not 1 <= number <= len(members):
                raise AnswerError(_('Please use the numbers 1 to {count}, or say "none of these".').format(count=len(members)))
            answers[ids[number - 1]] = True
    hedged = says_not_sure(text)
    someone_else = bool(_SOMEONE_ELSE.search(text.lower())) and bool(_NOT_ME.search(normalise(text)))
    previous: set[str] = set()
    for clause in clauses(text):
        clause_norm = normalise(clause)
        named = _items_named(clause_norm, members)
        named |= {m.id for m in members if any(_has_phrase(clause_norm, w) for w in (*m.yes_words, *m.no_words))}
        if has_negation(clause):  # "no heart problems": a broader word, denied, denies the item too
            named |= {m.id for m in members if any(_has_phrase(clause_norm, w) for w in m.deny_words)}
        # Chinese leaves the "it" out: "医生建议过CAR-T，但我没做"
        if not named and previous and changed_state(clause) and not has_negation(clause):
            for item in previous:  # "几年前得过结核，已经治好了": an item about now is a no
                if by_id[item].about_now:
                    answers[item] = False
            continue
        if not named and has_negation(clause) and previous and (
                _PRONOUN.search(clause_norm) or _DID_NOT_ZH.search(clause)) and not says_not_sure(clause):
            for item in previous:  # "I was offered CAR-T but never had it"
                answers[item] = False
            continue
        for item in named:
            fact = by_id[item]
            if any(_has_phrase(clause_norm, w) for w in fact.no_words):
                value: object = False
            elif says_not_sure(clause) or (hedged and not has_negation(clause)):
                value = NOT_SURE
            elif has_negation(clause) or _NOT_AN_EVENT.search(clause_norm) or someone_else:
                value = False if (has_negation(clause) or someone_else) else None
            elif fact.about_now and changed_state(clause):
                value = False
            elif _time_bound(fact) and _EARLIER.search(clause_norm):
                value = NOT_SURE
            else:
                value = True
            if value is None:
                continue
            answers[item] = value if answers.get(item) in (None, value) else NOT_SURE
        previous = named
    for item in ticked:
        answers.setdefault(item, True)
    all_denied = all(has_negation(c) for c in clauses(text)) and bool(re.search(r"\b(any|anything|nothing)\b", norm))
    rest_no = bool(_THE_REST.search(norm)) or _is_none_answer(norm) or all_denied
    if True in answers.values() or (answers and rest_no):
        return {f: answers.get(f, False) for f in ids}
    if answers:
        return answers
    reply = polarity(text)
    if rest_no or (reply == NO and _about_the_list(norm)) or (norm == "both" and False):
        return {f: False for f in ids}
    if re.fullmatch(r"(both|both of them|all|all of them|all of these|每个都有|都有|两个都是)", norm) and len(ids) <= 2 \
            or norm in ("都有", "两个都有"):
        return {f: True for f in ids}
    if (re.fullmatch(r"only .+", norm) or re.match(r"^(我)?(只|只有|就只|仅)(吃|用|打|做)?(过)?[\u3400-\u9fff]", text.strip())) \
            and not someone_else:  # "only steroid tablets", "只吃激素片": nothing on this list
        return {f: False for f in ids}
    if reply == NO:  # "I never had cancer" at a list without cancer: what about this list?
        raise AnswerError(wording.MIXED_CHECKLIST)
    if reply == HEDGE:
        return {f: NOT_SURE for f in ids}
    if reply == YES:
        raise NeedsDetail()
    if reply == MIXED:
        raise AnswerError(wording.MIXED_CHECKLIST)
    raise AnswerError(wording.CHECKLIST_HINT)


def _time_bound(fact: Fact) -> bool:
    """An item about a recent time ("in the past 8 weeks", "now"): an older date does not settle it."""
    return fact.about_now or bool(re.search(r"\b(past|last|within) (\d+|few|year|month|week|\w+ (weeks|months))|\brecent",
                                            fact.label.original, re.IGNORECASE))


def _items_named(norm: str, members: list[Fact]) -> set[str]:
    """Checklist items named in the text. A match inside another item's longer match
    does not count: "surgery planned" names the planned surgery, not a past one."""
    spans: dict[str, list[tuple[int, int]]] = {}
    for member in members:
        for word in (member.label, *member.keywords):
            phrase = normalise(word or "")
            pattern = re.escape(phrase) if has_chinese(phrase) else _word(phrase)
            for match in re.finditer(pattern, norm) if phrase else ():
                spans.setdefault(member.id, []).append(match.span())
    inside = lambda a, b: b[0] <= a[0] and a[1] <= b[1] and a != b  # noqa: E731
    return {
        member for member, own in spans.items()
        if not all(any(inside(span, other) for m, others in spans.items() if m != member for other in others)
                   for span in own)
    }


def _about_the_list(norm: str) -> bool:
    """A short no, or a no about "these" / "any of them", answers the whole list."""
    return len(norm.split()) <= 3 or any(_has_phrase(norm, w) for w in ("any", "these", "those", "them", "all", "either"))


def _is_none_answer(norm: str) -> bool:
    return any(_has_phrase(norm, p) for p in ("none of these", "none of them", "nothing", "none", "not any", "neither"))


def check_length(text: str) -> None:
    if len(text) > MAX_MESSAGE_CHARS:
        raise AnswerError(wording.TOO_LONG)
    if not text.strip():
        raise AnswerError(_("I didn't get an answer. Please type a few words or tap a button."))
