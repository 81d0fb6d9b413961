"""Evaluate a patient's answers against a trial: per criterion, then per trial.

Unknown never excludes: a trial is `not_eligible` only when an inclusion is surely
not met or an exclusion surely met. Everything else is `possibly_eligible`, with
what is still open for the site.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from prescreen.screening.factbank import NOT_SURE
from prescreen.screening.rules import Truth
from prescreen.screening.trials import Criterion, Trial

MET, NOT_MET, UNKNOWN, VERIFY_SITE, NOT_APPLICABLE = "met", "not_met", "unknown", "verify_site", "not_applicable"
NOT_ELIGIBLE, POSSIBLY_ELIGIBLE = "not_eligible", "possibly_eligible"

_STATUS = {Truth.TRUE: MET, Truth.FALSE: NOT_MET, Truth.UNKNOWN: UNKNOWN, Truth.SITE: VERIFY_SITE}


@dataclass(frozen=True)
class CriterionResult:
    criterion: Criterion
    status: str

    @property
    def id(self) -> str:
        return self.criterion.id

    @property
    def excludes(self) -> bool:
        kind = self.criterion.kind
        return (kind == "inclusion" and self.status == NOT_MET) or (kind == "exclusion" and self.status == MET)


@dataclass(frozen=True)
class TrialResult:
    trial: Trial
    verdict: str
    criteria: tuple[CriterionResult, ...]
    open_facts: tuple[str, ...]  # facts that could still change this verdict, unanswered or "not sure"

    @property
    def trial_id(self) -> str:
        return self.trial.id

    @property
    def failed(self) -> tuple[CriterionResult, ...]:
        """The criteria that rule this trial out, in the trial's order."""
        return tuple(r for r in self.criteria if r.excludes)

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


def evaluate_trial(trial: Trial, answers: Mapping[str, Any], fact_order: list[str] | None = None) -> TrialResult:
    results = tuple(CriterionResult(c, evaluate_criterion(c, answers)) for c in trial.criteria)
    verdict = NOT_ELIGIBLE if any(r.excludes for r in results) else POSSIBLY_ELIGIBLE
    open_facts: set[str] = set()
    if verdict == POSSIBLY_ELIGIBLE:
        for result in results:
            if result.status == UNKNOWN:
                open_facts |= {f for f in result.criterion.facts() if f not in answers or answers[f] == NOT_SURE}
    order = {fact: i for i, fact in enumerate(fact_order or sorted(open_facts))}
    return TrialResult(
        trial=trial,
        verdict=verdict,
        criteria=results,
        open_facts=tuple(sorted(open_facts, key=lambda f: (order.get(f, len(order)), f))),
    )
