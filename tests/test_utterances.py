"""The utterance suites against the real servers: English (tests/utterances/en.yml) with issue 12's thresholds
(no negation stored as yes, no erasure without an explicit yes, at least 97 % understood in context) and
Chinese (zh.yml) with issue 15's (the same, and at least 95 % understood).

Every case is typed mid-screening, in its own conversation, through the REST channel (see
tests/utterance_suite.py). On failure every miss is printed: context, utterance, expected, observed, reply.
"""
from datetime import date

import pytest

from utterance_suite import (Case, Judge, State, category_counts, format_misses, load_facts, load_suite, run_suite,
                             summarize)

UNDERSTOOD_TARGET = {"en": 97.0, "zh": 95.0}


def test_the_suite_is_large_and_varied_enough():
    cases = load_suite("en")
    counts = category_counts(cases)
    assert len(cases) >= 320, len(cases)
    assert len(counts) >= 15, counts
    required = {"yes", "no", "not_sure", "numbers", "durations", "checklists", "why", "go_back", "start_over", "stop",
                "delete", "greetings", "thanks", "off_topic", "medical", "crisis", "consent_questions"}
    assert required <= set(counts), required - set(counts)
    seen, twice = set(), []
    for case in cases:
        key = (case.where, case.text)
        twice += [key] if key in seen else []
        seen.add(key)
    assert not twice, f"written twice in the same context: {twice}"


def test_the_chinese_suite_is_large_and_varied_enough():
    cases = load_suite("zh")
    counts = category_counts(cases)
    assert len(cases) >= 200, len(cases)
    required = {"yes", "no", "not_sure", "numbers", "durations", "checklists", "why", "go_back", "start_over", "stop",
                "delete", "crisis", "negations", "hedges"}
    assert required <= set(counts), required - set(counts)


# --- the judge itself, on states written by hand (no servers) ----------------------------------------------

def screening_state(asking, answers=None, group=None, pending=None, stage="screening", events=40):
    return State(events, {"stage": stage, "screening": {
        "respondent": "self", "asking": asking, "group": group, "pending": pending, "history": [["condition"]],
        "answers": {f: {"value": v, "said": "..."} for f, v in (answers or {}).items()}}})


@pytest.fixture(scope="module")
def judge():
    facts, groups = load_facts()
    return Judge(facts, groups, today=date(2026, 12, 1))


HEALTH = ["cancer", "hiv", "tuberculosis", "heart_attack", "brain_condition", "other_autoimmune", "active_infection",
          "blood_thinner"]


def test_a_negation_stored_as_yes_is_counted(judge):
    case = Case("en", {"group": "health_history"}, "negations", "I never had cancer or HIV",
                {"none_of": ["cancer", "hiv"]})
    before = screening_state(HEALTH, group="health_history")
    misread = screening_state(["b_cell_therapy"], answers={f: f in ("cancer", "hiv") for f in HEALTH})
    result = judge.judge(case, before, misread, [("screening", "health_history")], [], "")
    assert not result.ok and result.negation_as_yes
    right = screening_state(["b_cell_therapy"], answers={f: False for f in HEALTH})
    assert judge.judge(case, before, right, [], [], "").ok


def test_a_pending_read_back_counts_as_the_understood_value(judge):
    case = Case("en", {"fact": "refractory"}, "no", "no", False)
    before = screening_state(["refractory"])
    after = screening_state(["refractory"], pending={"answers": {"refractory": False}, "said": "no"})
    assert judge.judge(case, before, after, [], [], "").ok
    hedge = Case("en", {"fact": "refractory"}, "hedges", "I think so", "unsure")
    stored_yes = screening_state(["age"], answers={"refractory": True})
    result = judge.judge(hedge, before, stored_yes, [], [], "")
    assert not result.ok and result.negation_as_yes


def test_an_erasure_is_counted_whatever_was_expected(judge):
    case = Case("en", {"fact": "refractory"}, "not_sure", "I forget", "not_sure")
    before = screening_state(["refractory"])
    result = judge.judge(case, before, State(0, {}), [], [], "")
    assert not result.ok and result.erased
    asked = Case("en", {"fact": "refractory"}, "delete", "delete my data", "erase_asked")
    confirming = State(44, {**before.slots, "stage": "erase"})
    result = judge.judge(asked, before, confirming, [], [], "")
    assert result.ok and not result.erased


def test_durations_must_lie_inside_the_bounds(judge):
    before = screening_state(["diagnosis_when"])
    case = Case("en", {"fact": "diagnosis_when"}, "durations", "in 2019", {"year": 2019})
    inside = screening_state(["age"], answers={"diagnosis_when": {"days_ago": [2527, 2891]}})
    too_wide = screening_state(["age"], answers={"diagnosis_when": {"days_ago": [2000, 2891]}})
    assert judge.judge(case, before, inside, [], [], "").ok
    assert not judge.judge(case, before, too_wide, [], [], "").ok


def test_a_clarifying_question_is_not_a_deflection(judge):
    case = Case("en", {"fact": "refractory"}, "hedges", "could be", "unsure")
    before = screening_state(["refractory"])
    medical = judge.judge(case, before, screening_state(["refractory"]), [],
                          [{"text": "I can't give medical advice. Please ask your doctor."}], "")
    crisis = judge.judge(case, before, screening_state(["refractory"]), [],
                         [{"text": "Help is available now: call 12356."}], "")
    asked = judge.judge(case, before, screening_state(["refractory"]), [],
                        [{"text": "Is that a yes, a no, or are you not sure?"}], "")
    assert not medical.ok and not crisis.ok and crisis.crisis_unasked and asked.ok


def test_a_question_at_consent_must_keep_the_offer(judge):
    ref = {"trial": "t1", "step": "consent", "offers": ["t2"], "contact": {}, "consented": []}
    before = State(60, {"stage": "contact", "referral": ref, "screening": {}})
    case = Case("en", {"step": "consent"}, "consent_questions", "who will see my answers?", "keep")
    kept = State(64, {"stage": "contact", "referral": dict(ref), "screening": {}})
    lost = State(64, {"stage": "contact", "referral": {**ref, "trial": "t2", "step": "offer"}, "screening": {}})
    assert judge.judge(case, before, kept, [], [], "").ok
    assert not judge.judge(case, before, lost, [], [], "").ok


# --- the suite against the real servers ---------------------------------------------------------------------

@pytest.mark.parametrize("language", ["en", "zh"])
def test_utterances_are_understood_in_context(assistant, language):
    results = run_suite(assistant, load_suite(language), workers=4)
    summary = summarize(results)
    lines = [f"{summary['understood']}/{summary['count']} understood ({summary['understood_pct']} %), "
             f"{summary['negations_as_yes']} negations stored as yes, {summary['erasures']} erasures, "
             f"{summary['navigation_failures']} contexts not reached, "
             f"{summary['crisis_unasked']} crisis replies to non-crisis messages (counted, not a threshold)"]
    lines += [f"  {name}: {row['understood']}/{row['count']} ({row['understood_pct']} %), "
              f"negations as yes {row['negations_as_yes']}, erasures {row['erasures']}"
              for name, row in summary["categories"].items()]
    report = "\n".join(lines) + "\nMisses:\n" + format_misses(results)
    print(report)
    assert summary["navigation_failures"] == 0, report
    assert summary["negations_as_yes"] == 0, report
    assert summary["erasures"] == 0, report
    assert summary["understood_pct"] >= UNDERSTOOD_TARGET[language], report
