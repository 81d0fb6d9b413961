"""Evaluate a patient's answers against a trial: per criterion, then per trial.

Unknown never excludes: a trial is `not_eligible` only when an inclusion is surely
not met or an exclusion surely met. When every such failure is one that time will
lift (a washout after a medicine, a recent vaccine, an illness diagnosed too
recently), the trial is `possibly_eligible_later`, with the number of days to wait.
Everything else is `possibly_eligible`, with what is still open for the site.

No clock is read here: "how long ago" answers are day ranges counted from the day
they were given, and a caller that wants a calendar date passes `today`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Mapping

from prescreen.screening.durations import DaysAgo
from prescreen.screening.factbank import NOT_SURE
from prescreen.screening.rules import Truth
from prescreen.screening.trials import Criterion, Trial

MET, NOT_MET, UNKNOWN, VERIFY_SITE, NOT_APPLICABLE = "met", "not_met", "unknown", "verify_site", "not_applicable"
NOT_ELIGIBLE, POSSIBLY_ELIGIBLE = "not_eligible", "possibly_eligible"
POSSIBLY_ELIGIBLE_LATER = "possibly_eligible_later"  # "may fit after a waiting period"
MAY_FIT = (POSSIBLY_ELIGIBLE, POSSIBLY_ELIGIBLE_LATER)  # verdicts that get a contact offer
MAX_WAIT_DAYS = 183  # about 6 months: a failure lifted only later than this is "does not fit" now

_STATUS = {Truth.TRUE: MET, Truth.FALSE: NOT_MET, Truth.UNKNOWN: UNKNOWN, Truth.SITE: VERIFY_SITE}


@dataclass(frozen=True)
class CriterionResult:
    criterion: Criterion
    status: str
    wait_days: int | None = None  # for a failure that time lifts: days until it surely no longer fails

    @property
    def id(self) -> str:
        return self.criterion.id

    @property
    def excludes(self) -> bool:
        kind = self.criterion.kind
        return (kind == "inclusion" and self.status == NOT_MET) or (kind == "exclusion" and self.status == MET)

    @property
    def lifted_by_time(self) -> bool:
        return self.excludes and self.wait_days is not None


@dataclass(frozen=True)
class TrialResult:
    trial: Trial
    verdict: str
    criteria: tuple[CriterionResult, ...]
    open_facts: tuple[str, ...]  # facts that could still change this verdict, unanswered or "not sure"
    wait_days: int | None = None  # possibly_eligible_later: days from the answers until every failure is lifted
    earliest_date: date | None = None  # today + wait_days, when the caller passed today

    @property
    def trial_id(self) -> str:
        return self.trial.id

    @property
    def may_fit(self) -> bool:
        return self.verdict in MAY_FIT

    @property
    def failed(self) -> tuple[CriterionResult, ...]:
        """The criteria that rule this trial out (or make it wait), in the trial's order."""
        return tuple(r for r in self.criteria if r.excludes)

    @property
    def lasting_failures(self) -> tuple[CriterionResult, ...]:
        """The failures time will not lift, first; then the rest (for naming the reason)."""
        return tuple(sorted(self.failed, key=lambda r: r.lifted_by_time))

    @property
    def site_checks(self) -> tuple[CriterionResult, ...]:
        """What the study team must still check: site-only parts and open criteria."""
        return tuple(r for r in self.criteria if r.status in (VERIFY_SITE, UNKNOWN))


def evaluate_criterion(criterion: Criterion, answers: Mapping[str, Any]) -> str:
    if criterion.applies_if is not None and criterion.applies_if.evaluate(answers) is Truth.FALSE:
        return NOT_APPLICABLE
    if criterion.rule is None:
        return VERIFY_SITE
    return _STATUS[criterion.effective_rule().evaluate(answers)]


def _excludes(criterion: Criterion, status: str) -> bool:
    return CriterionResult(criterion, status).excludes


def shifted(answers: Mapping[str, Any], days: int) -> dict[str, Any]:
    """The answers as they will read `days` from now: every "how long ago" answer is
    moved on, and collapsed to its most recent end, so a limit counts as passed only
    when it has surely passed."""
    out = dict(answers)
    for fact, value in answers.items():
        if isinstance(value, DaysAgo):
            out[fact] = DaysAgo.exactly(value.low + days)
    return out


def _edges(node, answers: Mapping[str, Any]) -> set[int]:
    """Candidate waits: the days after which a time answer crosses one of the node's limits."""
    found: set[int] = set()
    fact, value = getattr(node, "fact", None), getattr(node, "value", None)
    answer = answers.get(fact) if fact else None
    if isinstance(answer, DaysAgo) and isinstance(value, (int, float)) and getattr(node, "op", "") in (
            "within", "longer_ago_than"):
        for wait in (value - answer.low, value - answer.low + 1):
            if 0 < wait <= MAX_WAIT_DAYS:
                found.add(int(wait))
    for child in getattr(node, "children", ()):
        found |= _edges(child, answers)
    if hasattr(node, "child"):
        found |= _edges(node.child, answers)
    return found


def wait_for(criterion: Criterion, answers: Mapping[str, Any]) -> int | None:
    """Days until this failing criterion surely stops failing by time alone, or None."""
    nodes = [n for n in (criterion.rule, criterion.applies_if) if n is not None]
    edges = sorted(set().union(*(_edges(n, answers) for n in nodes)) if nodes else set())
    for wait in edges:
        if not _excludes(criterion, evaluate_criterion(criterion, shifted(answers, wait))):
            return wait
    return None


def evaluate_trial(trial: Trial, answers: Mapping[str, Any], fact_order: list[str] | None = None,
                   today: date | None = None) -> TrialResult:
    statuses = [(c, evaluate_criterion(c, answers)) for c in trial.criteria]
    results = tuple(CriterionResult(c, s, wait_for(c, answers) if _excludes(c, s) else None) for c, s in statuses)
    failed = [r for r in results if r.excludes]
    wait = None
    if not failed:
        verdict = POSSIBLY_ELIGIBLE
    elif all(r.wait_days is not None for r in failed):
        wait = max(r.wait_days for r in failed)
        later = shifted(answers, wait)  # waiting must not make anything else fail
        ok = not any(_excludes(c, evaluate_criterion(c, later)) for c in trial.criteria)
        verdict = POSSIBLY_ELIGIBLE_LATER if ok else NOT_ELIGIBLE
        wait = wait if ok else None
    else:
        verdict = NOT_ELIGIBLE
    open_facts: set[str] = set()
    if verdict != NOT_ELIGIBLE:
        for result in results:
            if result.status == UNKNOWN:
                open_facts |= {f for f in result.criterion.facts() if f not in answers or answers[f] == NOT_SURE}
    order = {fact: i for i, fact in enumerate(fact_order or sorted(open_facts))}
    return TrialResult(
        trial=trial,
        verdict=verdict,
        criteria=results,
        open_facts=tuple(sorted(open_facts, key=lambda f: (order.get(f, len(order)), f))),
        wait_days=wait,
        earliest_date=today + timedelta(days=wait) if (today is not None and wait is not None) else None,
    )
