"""Choose the next question: the fact whose answer could rule out the most open trials.

A fact is worth asking only if some answer to it (with its follow-ups) would make an
open trial fail a criterion (`not_eligible`, or "may fit after a waiting period", which
stays open); answers can only ever rule trials out, so a fact that cannot do that
cannot change any verdict. A follow-up that still matters is asked
right after the answer that opened it (the illness, then when it was diagnosed),
unless one question could settle every open study at once.
Ties go to the fact bank's order, which is the natural order of a conversation, so
the same answers always give the same question.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Iterator, Mapping

from prescreen.screening.durations import DaysAgo
from prescreen.screening.eligibility import NOT_ELIGIBLE, CriterionResult, evaluate_criterion, evaluate_trial
from prescreen.screening.factbank import Fact, follow_up_triggers
from prescreen.screening.rules import Compare, Truth
from prescreen.screening.trials import Catalog, Criterion, Trial

FOLLOW_UP_DEPTH = 2  # cancer -> which kind -> how long ago


@dataclass(frozen=True)
class Question:
    """What to ask next: one fact, or several yes/no facts of one group at once."""

    facts: tuple[str, ...]
    group: str | None = None


class Planner:
    """Built once per catalog: indexes which criteria each fact can move."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.fact_order = list(catalog.facts)
        self._triggers = follow_up_triggers(catalog.facts)

    @cached_property
    def _criteria_by_fact(self) -> dict[str, list[tuple[Trial, Criterion]]]:
        index: dict[str, list[tuple[Trial, Criterion]]] = {}
        for trial in self.catalog.trials:
            for criterion in trial.criteria:
                for fact in criterion.facts():
                    index.setdefault(fact, []).append((trial, criterion))
        return index

    @cached_property
    def _opens(self) -> dict[str, list[str]]:
        """For each fact, the follow-ups whose triggers name it (in the fact bank's order):
        the only ones an answer to it can open."""
        return {fact_id: [f for f in self.fact_order
                          if any(fact_id in trigger.facts() for trigger in self._triggers.get(f, []))]
                for fact_id in self.fact_order}

    @cached_property
    def _constants(self) -> dict[str, set]:
        """Every value a rule compares each fact with: the edges worth probing."""
        found: dict[str, set] = {}

        def walk(node):
            if isinstance(node, Compare):
                found.setdefault(node.fact, set()).add(node.value)
            for child in getattr(node, "children", ()):
                walk(child)
            if hasattr(node, "child"):
                walk(node.child)

        for trial in self.catalog.trials:
            for criterion in trial.criteria:
                for node in (criterion.rule, criterion.applies_if):
                    if node is not None:
                        walk(node)
        for fact in self.catalog.facts.values():
            for follow_up in fact.follow_ups:
                walk(follow_up.when)
        return found

    def rule_values(self, fact_id: str) -> set:
        """The limits to show as answer buttons (days, for a time question): every value the
        rules compare this fact with, rounded up to whole months for a fact asked in months
        (a rule's 24 weeks shows as 6 months; the range in between stays "unknown", never
        a wrong "no")."""
        values = self._constants.get(fact_id, set())
        fact = self.catalog.facts.get(fact_id)
        if fact is not None and fact.unit == "month":
            return {-(-int(v) // 30) * 30 for v in values}
        return values

    def parents_of(self, fact_id: str) -> list[str]:
        """The facts whose answer opens this follow-up ("b_cell_therapy" for "b_cell_therapy_when")."""
        return [f for trigger in self._triggers.get(fact_id, []) for f in sorted(trigger.facts())]

    def is_askable(self, fact_id: str, answers: Mapping[str, Any]) -> bool:
        """A follow-up is asked only once one of its triggers is surely true."""
        triggers = self._triggers.get(fact_id)
        return not triggers or any(t.evaluate(answers) is Truth.TRUE for t in triggers)

    def probe_values(self, fact: Fact) -> list[Any]:
        """A finite set of answers that covers every outcome the rules can give."""
        if fact.type == "yes_no":
            return [True, False]
        if fact.type == "choice":
            return fact.option_ids()
        if fact.type == "choices":
            return [frozenset()] + [frozenset([o]) for o in fact.option_ids()]
        constants = self._constants.get(fact.id, set())
        if fact.type == "number":
            values = {fact.min, fact.max}
            for c in constants:
                values |= {int(c) - 1, int(c), int(c) + 1}
            return sorted(v for v in values if fact.min <= v <= fact.max)
        # time_ago: just either side of every limit, plus "today" and "long ago"
        values = [DaysAgo.exactly(0), DaysAgo.more_than(max(constants, default=0) + 1)]
        for c in sorted(constants):
            values += [DaysAgo.exactly(max(c - 1, 0)), DaysAgo.exactly(c + 1)]
        return values

    def scenarios(self, fact_id: str, answers: Mapping[str, Any], depth: int = FOLLOW_UP_DEPTH) -> Iterator[dict]:
        """Hypothetical answers to `fact_id` and to the follow-ups each answer opens."""
        fact = self.catalog.facts[fact_id]
        for value in self.probe_values(fact):
            hypothetical = {**answers, fact_id: value}
            opened = [
                f for f in self._opens[fact_id]
                if f not in hypothetical and self.is_askable(f, hypothetical) and not self.is_askable(f, answers)
            ]
            if depth == 0 or not opened:
                yield {fact_id: value}
                continue
            # Each opened follow-up independently; combined, for rules that use several.
            per_follow_up = [list(self.scenarios(f, hypothetical, depth - 1)) for f in opened]
            for combo in itertools.product(*per_follow_up):
                merged = {fact_id: value}
                for part in combo:
                    merged.update(part)
                yield merged

    def could_exclude(self, fact_id: str, answers: Mapping[str, Any], open_trials: set[str]) -> set[str]:
        """Open trials that some answer to this fact (and its follow-ups) would rule out."""
        excluded: set[str] = set()
        for scenario in self.scenarios(fact_id, answers):
            hypothetical = {**answers, **scenario}
            for changed in scenario:
                for trial, criterion in self._criteria_by_fact.get(changed, []):
                    if trial.id in open_trials and trial.id not in excluded:
                        if CriterionResult(criterion, evaluate_criterion(criterion, hypothetical)).excludes:
                            excluded.add(trial.id)
            if excluded == open_trials:
                break
        return excluded

    def candidates(self, answers: Mapping[str, Any], open_trials: set[str]) -> list[str]:
        """Unanswered, askable facts that appear in an open trial's criteria.

        A follow-up that cannot be asked yet brings in the facts of its triggers
        (for a rule that names "cancer type" alone, ask "cancer?" first).
        """
        wanted: set[str] = set()
        for trial in self.catalog.trials:
            if trial.id in open_trials:
                wanted |= trial.facts()
        frontier = set(wanted)
        while frontier:
            fact = frontier.pop()
            if fact not in answers and not self.is_askable(fact, answers):
                for trigger in self._triggers.get(fact, []):
                    new = trigger.facts() - wanted
                    wanted |= new
                    frontier |= new
        return [f for f in self.fact_order if f in wanted and f not in answers and self.is_askable(f, answers)]

    def next_question(self, answers: Mapping[str, Any]) -> Question | None:
        """What to ask next, or None when no answer could change any verdict.

        The fact that could rule out the most open trials wins. If it belongs to a
        group, the group is asked with just its members that still matter.
        """
        open_trials = {
            t.id for t in self.catalog.trials if evaluate_trial(t, answers).verdict != NOT_ELIGIBLE
        }
        scores = {f: len(self.could_exclude(f, answers, open_trials)) for f in self.candidates(answers, open_trials)}
        # A follow-up that is open and still matters comes first, right after the answer that
        # opened it ("which medicine?", then "when?"), unless another question could settle
        # every open study at once (it keeps "fits none" short); otherwise the most decisive.
        best = max(scores, key=lambda f: scores[f], default=None)  # max keeps the first of equals
        follow_ups = [f for f in scores if scores[f] > 0 and f in self._triggers]
        if follow_ups and (best is None or scores[best] < len(open_trials) or best in self._triggers):
            best = follow_ups[0]
        if best is None or scores[best] == 0:
            return None
        group = self.catalog.group_of(best)
        members = tuple(f for f in group.facts if scores.get(f, 0) > 0) if group else ()
        if len(members) >= 2:
            return Question(members, group.id)
        return Question((best,))


def next_question(catalog: Catalog, answers: Mapping[str, Any]) -> Question | None:
    """Convenience for one-off calls; long-lived callers keep a Planner."""
    return Planner(catalog).next_question(answers)
