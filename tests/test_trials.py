"""Every trial file, checked the same way: a new trial file is tested with no new code."""
import itertools

import pytest

from prescreen.screening.eligibility import (
    MET,
    NOT_APPLICABLE,
    NOT_ELIGIBLE,
    NOT_MET,
    POSSIBLY_ELIGIBLE,
    UNKNOWN,
    VERIFY_SITE,
    CriterionResult,
    evaluate_criterion,
    evaluate_trial,
)
from prescreen.screening.factbank import NOT_SURE
from prescreen.screening.trials import load_catalog, load_trial

from conftest import TRIAL_FILES, TRIALS_DIR

ids = [p.stem for p in TRIAL_FILES]


def test_there_are_five_seed_trials():
    assert len(TRIAL_FILES) >= 5


@pytest.mark.parametrize("path", TRIAL_FILES, ids=ids)
def test_trial_file_loads_with_its_required_fields(path, catalog):
    trial = load_trial(path, catalog.facts)
    assert trial.title and trial.plain_summary and trial.conditions and trial.source
    assert trial.sites and all(s.city and (s.contact.phone or s.contact.email) for s in trial.sites)
    assert trial.criteria, "even a trial with incomplete criteria encodes what its listing says"
    assert all(c.text for c in trial.criteria)


def _outcomes(criterion, planner):
    """Every status the criterion can reach over the answers the planner would probe."""
    facts = sorted(criterion.facts())
    per_fact = [planner.probe_values(planner.catalog.facts[f]) + [NOT_SURE] for f in facts]
    found = {}
    for combo in itertools.product(*per_fact):
        answers = dict(zip(facts, combo))
        found.setdefault(evaluate_criterion(criterion, answers), answers)
    return found


def _rule_criteria():
    for trial in load_catalog(TRIALS_DIR).trials:
        for criterion in trial.criteria:
            if criterion.rule is not None:
                yield pytest.param(trial.id, criterion.id, id=f"{trial.file[:-4]}:{criterion.id}")


@pytest.mark.parametrize("trial_id, criterion_id", list(_rule_criteria()))
def test_each_rule_has_a_case_that_meets_it_and_one_that_fails_it(trial_id, criterion_id, catalog, planner):
    trial = catalog.trial(trial_id)
    criterion = next(c for c in trial.criteria if c.id == criterion_id)
    outcomes = _outcomes(criterion, planner)
    passing = {NOT_MET, NOT_APPLICABLE, VERIFY_SITE} if criterion.kind == "exclusion" else {MET, VERIFY_SITE, NOT_APPLICABLE}
    # The patient's answers can settle the criterion one way or the other ...
    assert {MET, NOT_MET} & set(outcomes), f"no answer decides {criterion_id}: {sorted(outcomes)}"
    # ... a passing case exists (nobody is excluded by a rule that can never pass) ...
    assert passing & set(outcomes), f"{criterion_id} can never pass: {sorted(outcomes)}"
    # ... and the rule is not a constant: some answer changes its outcome.
    assert len(set(outcomes) - {UNKNOWN}) >= 2, sorted(outcomes)
    # "Not sure" to everything never decides it.
    all_unsure = {f: NOT_SURE for f in criterion.facts()}
    assert evaluate_criterion(criterion, all_unsure) in (UNKNOWN, NOT_APPLICABLE, VERIFY_SITE)


@pytest.mark.parametrize("path", TRIAL_FILES, ids=ids)
def test_unknown_never_excludes(path, catalog, planner):
    trial = next(t for t in catalog.trials if t.file == path.name)
    assert evaluate_trial(trial, {}).verdict == POSSIBLY_ELIGIBLE
    all_unsure = {f: NOT_SURE for f in catalog.facts}
    assert evaluate_trial(trial, all_unsure).verdict == POSSIBLY_ELIGIBLE
    # Less information never excludes more: turning any answer into "not sure", or
    # dropping it, never turns a possible match into `not_eligible`.
    for criterion in trial.criteria:
        if criterion.rule is None:
            continue
        for answers in _outcomes(criterion, planner).values():
            possible = evaluate_trial(trial, answers).verdict == POSSIBLY_ELIGIBLE
            for fact in answers:
                unsure = {**answers, fact: NOT_SURE}
                dropped = {k: v for k, v in answers.items() if k != fact}
                if possible:
                    assert evaluate_trial(trial, unsure).verdict == POSSIBLY_ELIGIBLE, (criterion.id, unsure)
                    assert evaluate_trial(trial, dropped).verdict == POSSIBLY_ELIGIBLE, (criterion.id, dropped)


@pytest.mark.parametrize("path", TRIAL_FILES, ids=ids)
def test_not_eligible_names_the_failing_criteria_with_seed_text(path, catalog, planner):
    trial = next(t for t in catalog.trials if t.file == path.name)
    for criterion in trial.criteria:
        if criterion.rule is None:
            continue
        for status, answers in _outcomes(criterion, planner).items():
            if CriterionResult(criterion, status).excludes:
                result = evaluate_trial(trial, answers)
                assert criterion.id in [r.id for r in result.failed]
                assert all(r.criterion.text for r in result.failed)


@pytest.mark.parametrize("path", TRIAL_FILES, ids=ids)
def test_possibly_eligible_lists_what_is_open(path, catalog):
    trial = next(t for t in catalog.trials if t.file == path.name)
    result = evaluate_trial(trial, {}, list(catalog.facts))
    assert result.verdict == POSSIBLY_ELIGIBLE
    assert result.site_checks, "the site always has something to confirm"
    if any(c.rule is not None for c in trial.criteria):
        assert result.open_facts, "with nothing answered, the rules' facts are open"
    assert set(result.open_facts) <= set(catalog.facts)


def test_trial_with_no_published_criteria_always_leaves_the_site_to_confirm(catalog):
    incomplete = [t for t in catalog.trials if t.criteria_incomplete]
    assert [t.source[:3] for t in incomplete] == ["001"]
    trial = incomplete[0]
    result = evaluate_trial(trial, {"condition": "sle", "refractory": True})
    assert result.verdict == POSSIBLY_ELIGIBLE
    assert [r.status for r in result.criteria] == [VERIFY_SITE]
    assert evaluate_trial(trial, {"condition": "sle", "refractory": False}).verdict == NOT_ELIGIBLE


def test_disease_specific_criteria_apply_only_to_that_disease(catalog):
    trial = catalog.trial("NCT06420154")
    by_group = lambda answers: {  # noqa: E731
        r.criterion.group: r.status for r in evaluate_trial(trial, answers).criteria if r.criterion.group != "general"
    }
    groups = {c.group for c in trial.criteria}
    assert groups == {"general", "sle", "sjogren", "systemic_sclerosis", "myositis", "anca_vasculitis", "aps"}

    sjogren = evaluate_trial(trial, {"condition": "sjogren"})
    for r in sjogren.criteria:
        if r.criterion.group in ("sle", "aps", "anca_vasculitis"):
            assert r.status == NOT_APPLICABLE, r.id
        if r.criterion.group == "sjogren":
            assert r.status != NOT_APPLICABLE, r.id

    # A patient with APS who says their treatment failed is not held to SLE rules,
    # and one with SLE who says it did not is excluded by the SLE definition only.
    aps = evaluate_trial(trial, {"condition": "aps", "refractory": True})
    assert aps.verdict == POSSIBLY_ELIGIBLE
    sle = evaluate_trial(trial, {"condition": "sle", "refractory": False})
    assert [r.id for r in sle.failed] == ["inc-sle-refractory"]
    # Not knowing the disease keeps disease rules open rather than excluding.
    unknown_disease = evaluate_trial(trial, {"condition": NOT_SURE, "refractory": False})
    assert unknown_disease.verdict == POSSIBLY_ELIGIBLE
    assert by_group({"condition": "other"}) and evaluate_trial(trial, {"condition": "other"}).verdict == NOT_ELIGIBLE


def test_site_contacts_come_from_settings_where_the_listing_gives_none(catalog):
    trial = catalog.trial("NCT06421701")
    contact = trial.sites[0].contact
    assert contact.email == "${SITE_NCT06421701_EMAIL}"
    assert contact.resolved({})["email"] is None
    assert contact.resolved({"SITE_NCT06421701_EMAIL": "crc@example.org"})["email"] == "crc@example.org"
