"""`python -m prescreen.screening.check [trials-dir]`: load and check every trial file.

Exits 1 with the file, criterion and field of the first problem, so `make run`
refuses to start on a broken trial instead of screening wrongly; a patient-facing text
without its Chinese version (`plain_zh`, `short_title_zh`, ...) is such a problem. Warns (and still
exits 0) where a yes/no question covers a different time span than its criterion.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from prescreen.screening.durations import DAYS_PER_UNIT
from prescreen.screening.errors import TrialDataError
from prescreen.screening.rules import All, AnyOf, Compare, Not, SiteCheck
from prescreen.screening.trials import load_catalog

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "trials"

# ---- time spans in words: does a yes/no question cover the same time as its criterion? ----
# A question broader in time than its criterion ("ever" for "within 8 weeks") can exclude
# a patient the listing accepts; a narrower one misses an exclusion. The check warns about
# both, naming the file and the criterion; it does not refuse the file.
EVER, NOW = "ever", "now"
_NUMBER = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "six": 6, "twelve": 12}
_WINDOW = re.compile(r"\b(?:within|in|during)\s+(?:the\s+)?(?:past|last|prior)?\s*(\d+|a|an|one|two|three|four|six|twelve)?"
                     r"\s*(day|week|month|year)s?\b", re.IGNORECASE)
_EVER = re.compile(r"\b(ever|history of|previous(?:ly)?|prior(?! to)|in the past(?! \d| (?:year|month|week|day)))\b",
                   re.IGNORECASE)
_FUTURE = re.compile(r"\s*(after|from)\b", re.IGNORECASE)
_CLAUSES = re.compile(r";|,? or |,? and/or ", re.IGNORECASE)
_NOW = re.compile(r"\b(now|right now|at the moment|currently|current|at screening|presence of)\b", re.IGNORECASE)


def span_of(text: str):
    """EVER, NOW, a number of days, or None when the words give no time."""
    match = _WINDOW.search(text)
    if match and _FUTURE.match(text[match.end():]):
        return None  # "within 2 years after the infusion" is about the future, not the history asked
    if match:
        amount = match.group(1)
        count = int(amount) if amount and amount.isdigit() else _NUMBER.get((amount or "a").lower(), 1)
        return count * DAYS_PER_UNIT[match.group(2).lower()]
    if _EVER.search(text):
        return EVER
    if _NOW.search(text):
        return NOW
    return None


def _same(question, criterion) -> bool:
    if isinstance(question, int) and isinstance(criterion, int):
        return abs(question - criterion) <= 3  # "2 months" is 60 days, "8 weeks" 56: not the same
    return question == criterion


@dataclass(frozen=True)
class SpanWarning:
    file: str
    criterion: str
    fact: str
    question_span: object
    criterion_span: object

    def __str__(self) -> str:
        def words(span):
            return span if isinstance(span, str) else f"{span} days"
        return (f"{self.file}: {self.criterion}: the question for '{self.fact}' covers {words(self.question_span)}, "
                f"the criterion {words(self.criterion_span)}")


def _gates(node, siblings=()):
    """(yes/no Compare, the nodes beside it in its `all`) for every Compare in the tree."""
    if isinstance(node, Compare):
        yield node, siblings
    elif isinstance(node, All):
        for child in node.children:
            yield from _gates(child, tuple(c for c in node.children if c is not child))
    elif isinstance(node, AnyOf):
        for child in node.children:
            yield from _gates(child)
    elif isinstance(node, Not):
        yield from _gates(node.child)


def span_warnings(catalog) -> list[SpanWarning]:
    found = []
    for trial in catalog.trials:
        for criterion in trial.criteria:
            if criterion.rule is None:
                continue
            for gate, siblings in _gates(criterion.rule):
                fact = catalog.facts[gate.fact]
                if fact.type != "yes_no" or gate.value is not True:
                    continue
                if any(isinstance(s, SiteCheck) for s in siblings):
                    continue  # the site settles the rest, time included
                asked = span_of(fact.question)
                limits = [s.value for s in siblings if isinstance(s, Compare)
                          and catalog.facts[s.fact].type == "time_ago"]
                if limits:  # a "when?" follow-up decides the time: the question must reach back that far
                    if isinstance(asked, int) and asked < max(limits) or asked == NOW:
                        found.append(SpanWarning(trial.file, criterion.id, fact.id, asked, max(limits)))
                    continue
                # A criterion text can join clauses with different times ("bleeding within 4 weeks,
                # or long-term anticoagulants"): the question must match one of the timed ones.
                timed = [m for m in (span_of(c) for c in _CLAUSES.split(criterion.text)) if m is not None]
                if asked is None or not timed or any(_same(asked, m) for m in timed):
                    continue
                named = next((m for m in timed if isinstance(m, int)), timed[0])  # the most precise
                found.append(SpanWarning(trial.file, criterion.id, fact.id, asked, named))
    return found


# ---- what the result cards need (prescreen/screening/results.py) ----
# A card says at most 50 words: a reason over 30 words leaves no room for where and what next.
PLAIN_WORDS = 30
# Chinese has no spaces to count words by: about two characters a word, so 60 characters.
PLAIN_CHARACTERS_ZH = 60


def card_warnings(catalog) -> list[str]:
    """Trial texts that would make a patient's result card long or unclear; the file still loads."""
    found = []
    for trial in catalog.trials:
        for index, site in enumerate(trial.sites):
            if not site.short_name:
                found.append(f"{trial.file}: sites[{index}]: no short_name, so cards show the full name "
                             f"{site.name!r}")
        for criterion in trial.criteria:
            if criterion.rule is not None and not criterion.plain:
                found.append(f"{trial.file}: {criterion.id}: no plain text, so a card quotes the listing's words")
            elif criterion.plain and len(criterion.plain.split()) > PLAIN_WORDS:
                found.append(f"{trial.file}: {criterion.id}: plain text of {len(criterion.plain.split())} words "
                             f"(a card's reason should be at most {PLAIN_WORDS})")
            chinese = getattr(criterion.plain, "versions", {}).get("zh", "")
            if len(chinese) > PLAIN_CHARACTERS_ZH:
                found.append(f"{trial.file}: {criterion.id}: plain_zh of {len(chinese)} characters "
                             f"(a card's reason should be at most {PLAIN_CHARACTERS_ZH})")
    return found


def main(argv: list[str]) -> int:
    directory = Path(argv[0]) if argv else DEFAULT_DIR
    try:
        catalog = load_catalog(directory)
    except TrialDataError as error:
        print(f"Broken trial data: {error}", file=sys.stderr)
        return 1
    for trial in catalog.trials:
        ruled = sum(1 for c in trial.criteria if not c.site_only)
        flag = "  (criteria incomplete: the site confirms the rest)" if trial.criteria_incomplete else ""
        print(f"ok  {trial.file}: {trial.id}, {len(trial.criteria)} criteria, {ruled} with rules{flag}")
    print(f"ok  {len(catalog.facts)} facts in the question bank, {len(catalog.groups)} question groups")
    for warning in span_warnings(catalog):
        print(f"warn  {warning}", file=sys.stderr)
    for warning in card_warnings(catalog):
        print(f"warn  {warning}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
