"""The planner asks little, asks what matters, and is deterministic."""
import pytest

from prescreen.screening.durations import DaysAgo
from prescreen.screening.eligibility import NOT_ELIGIBLE, POSSIBLY_ELIGIBLE, evaluate_trial
from prescreen.screening.factbank import NOT_SURE
from prescreen.screening.planner import Planner, next_question

from test_clinical_fidelity import CLEAN  # an adult with refractory lupus who fits every study



def screen(planner, truth, limit=40):
    """Answer the planner's questions from `truth` ("not sure" where it has no answer).

    Returns the facts asked (in order) and the answers; `questions` counts turns.
    """
    answers, asked, turns = {}, [], 0
    while (question := planner.next_question(answers)) is not None:
        turns += 1
        assert turns <= limit, f"runaway screening: {asked}"
        for fact in question.facts:
            assert fact not in answers, f"asked {fact} twice"
            asked.append(fact)
            answers[fact] = truth.get(fact, NOT_SURE)
    screen.turns = turns
    return asked, answers


def verdicts(catalog, answers):
    """Each trial's verdict, with the waiting period for "may fit after a waiting period"."""
    return {t.id: (lambda r: (r.verdict, r.wait_days))(evaluate_trial(t, answers)) for t in catalog.trials}


def test_a_disease_no_trial_takes_is_told_within_three_questions(planner, catalog):
    asked, answers = screen(planner, {"condition": "other", "age": 40})
    assert screen.turns <= 3
    assert set(verdicts(catalog, answers).values()) == {(NOT_ELIGIBLE, None)}


def test_a_patient_whose_treatment_works_is_told_within_three_questions(planner, catalog):
    asked, answers = screen(planner, {**CLEAN, "refractory": False})
    assert screen.turns <= 3
    assert set(verdicts(catalog, answers).values()) == {(NOT_ELIGIBLE, None)}


def test_most_decisive_question_first(planner):
    assert planner.next_question({}).facts == ("condition",)


def test_clean_adult_may_fit_every_trial_in_at_most_fifteen_questions(planner, catalog):
    asked, answers = screen(planner, CLEAN)
    assert set(verdicts(catalog, answers).values()) == {(POSSIBLY_ELIGIBLE, None)}
    assert screen.turns <= 15, asked


def test_child_of_nine_is_asked_only_about_trials_for_children(planner, catalog):
    asked, answers = screen(planner, {**CLEAN, "age": 9})
    result = {k: v[0] for k, v in verdicts(catalog, answers).items()}
    assert result["cd19-car-t-sle-children-hangzhou"] == POSSIBLY_ELIGIBLE
    assert result["cd19-bcma-car-t-sle-wuhan"] == NOT_ELIGIBLE
    assert result["NCT06421701"] == NOT_ELIGIBLE
    # Facts only adult trials use are not asked once those trials are out.
    for adult_only in ("suicidal_thoughts", "jak_btk_inhibitor", "prior_cd19_therapy", "blood_thinner"):
        assert adult_only not in asked
    # A 9-year-old girl's parent is not asked about pregnancy.
    assert "pregnant" not in asked


def test_follow_ups_only_when_their_trigger_holds(planner):
    asked, _ = screen(planner, CLEAN)
    assert "cancer_kind" not in asked and "cancer_when" not in asked
    asked, answers = screen(planner, {**CLEAN, "cancer": True, "cancer_kind": "skin_basal",
                                      "cancer_when": DaysAgo.more_than(3650)})
    assert "cancer_kind" in asked and asked.index("cancer") < asked.index("cancer_kind")


@pytest.mark.parametrize("truth", [
    CLEAN,
    {**CLEAN, "age": 9},
    {**CLEAN, "condition": "aps", "live_vaccine": True, "live_vaccine_when": DaysAgo.exactly(10)},
    {**CLEAN, "cancer": True, "cancer_kind": "breast", "cancer_when": DaysAgo(365, 730)},
    {"condition": "sle"},  # "not sure" to everything else
], ids=["clean", "child", "aps-recent-vaccine", "breast-cancer", "unsure"])
def test_every_question_asked_can_change_a_verdict(planner, catalog, truth):
    """Checked by brute force over whole-trial evaluation, not the planner's own index."""
    answers = {}
    while (question := planner.next_question(answers)) is not None:
        before = verdicts(catalog, answers)
        for fact in question.facts:  # each member of a group must matter on its own
            changes = any(
                verdicts(catalog, {**answers, **scenario}) != before for scenario in planner.scenarios(fact, answers)
            )
            assert changes, f"{fact} cannot change any verdict after {answers}"
        for fact in question.facts:
            answers[fact] = truth.get(fact, NOT_SURE)


def test_same_answers_same_question(catalog):
    answers = {"condition": "sle", "age": 30, "refractory": True}
    first = next_question(catalog, answers)
    assert all(Planner(catalog).next_question(dict(answers)) == first for _ in range(3))


def test_nothing_more_about_a_trial_once_it_is_decided(planner, catalog):
    # Everything but the children's trial is out; only its facts may be asked.
    truth = {**CLEAN, "age": 9}
    asked, answers = screen(planner, truth)
    open_trials = [t for t in catalog.trials if evaluate_trial(t, answers).verdict == POSSIBLY_ELIGIBLE]
    wanted = set().union(*(t.facts() for t in open_trials)) | {"sex"}  # sex gates pregnancy questions
    # When the illness was diagnosed comes right after the illness (and the question that could
    # settle every study at once), before the age is known.
    assert set(asked) <= wanted | {"condition", "age", "diagnosis_when"}
    assert asked[:3] == ["condition", "refractory", "diagnosis_when"]
