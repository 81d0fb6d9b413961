""""May fit after a waiting period": a failure that time will lift, with the earliest date,
never a guess on an unclear date; and the study facts patients must see (status, ages).
"""
from __future__ import annotations

import math
import re
from datetime import date, datetime, timezone

import pytest

from prescreen.screening.conversation import Conversation, Screening, encode_value
from prescreen.screening.durations import DaysAgo
from prescreen.screening.eligibility import (
    MAX_WAIT_DAYS, NOT_ELIGIBLE, POSSIBLY_ELIGIBLE, POSSIBLY_ELIGIBLE_LATER, UNKNOWN, evaluate_trial,
)
from prescreen.screening.factbank import NOT_SURE
from prescreen.screening.results import results_messages
from prescreen.referral.conversation import ReferralConversation, start_referral
from prescreen.referral.summary import Consent, Contact, render_summary, summary_context

from test_clinical_fidelity import C000, CLEAN, K004, N001, W002, Z003

TODAY = date(2026, 11, 23)


def result(catalog, trial_id, **answers):
    return evaluate_trial(catalog.trial(trial_id), {**CLEAN, **answers}, list(catalog.facts), TODAY)


def payload_of(messages):
    return {r["trial_id"]: r for r in next(m.custom for m in messages if m.custom)["results"]}


def card_and_details(card) -> str:
    """What a result card says, with what "More about this study" shows."""
    details = card["details"]
    return " ".join([card["message"], details["summary"], *details["notes"], *details.get("checks", [])])


def test_a_live_vaccine_two_weeks_ago_waits_until_four_weeks_have_passed(catalog):
    r = result(catalog, K004, live_vaccine=True, live_vaccine_when=DaysAgo.exactly(14))
    assert r.verdict == POSSIBLY_ELIGIBLE_LATER
    # "within 4 weeks" holds up to day 28; day 29 is the first day it no longer does.
    assert r.wait_days == 15 and r.earliest_date == date(2026, 12, 8)
    assert [f.id for f in r.failed] == ["exc-live-vaccine"]


def test_the_latest_of_several_waits_decides(catalog):
    r = result(catalog, K004, live_vaccine=True, live_vaccine_when=DaysAgo.exactly(14),
               b_cell_therapy=True, b_cell_therapy_when=DaysAgo.exactly(7))
    assert r.verdict == POSSIBLY_ELIGIBLE_LATER
    assert r.wait_days == 22 and {f.id for f in r.failed} == {"exc-live-vaccine", "exc-b-cell-therapy"}


def test_a_wait_plus_a_lasting_failure_does_not_fit(catalog):
    r = result(catalog, K004, live_vaccine=True, live_vaccine_when=DaysAgo.exactly(14), hiv=True)
    assert r.verdict == NOT_ELIGIBLE
    # The reason told to the patient is one time will not lift.
    assert r.lasting_failures[0].id == "exc-hepatitis-hiv" and not r.lasting_failures[0].lifted_by_time
    assert r.lasting_failures[-1].id == "exc-live-vaccine" and r.lasting_failures[-1].lifted_by_time
    values = {**CLEAN, "live_vaccine": True, "live_vaccine_when": DaysAgo.exactly(14), "hiv": True}
    message = payload_of(results_messages(catalog, values, TODAY))[K004]["message"]
    assert "does not seem to fit. This study does not take people with HIV." in message


def test_a_range_that_straddles_the_limit_stays_unknown(catalog):
    # "some time in the last two months": maybe within 4 weeks, maybe not.
    r = result(catalog, K004, live_vaccine=True, live_vaccine_when=DaysAgo(0, 60))
    assert r.verdict == POSSIBLY_ELIGIBLE
    assert next(c for c in r.criteria if c.id == "exc-live-vaccine").status == UNKNOWN


def test_not_sure_when_never_excludes_and_gives_no_date(catalog):
    r = result(catalog, K004, live_vaccine=True, live_vaccine_when=NOT_SURE)
    assert r.verdict == POSSIBLY_ELIGIBLE and r.earliest_date is None


def test_diagnosed_too_recently_is_a_wait_and_exactly_24_weeks_is_enough(catalog):
    early = result(catalog, W002, diagnosis_when=DaysAgo.exactly(140))
    assert early.verdict == POSSIBLY_ELIGIBLE_LATER and early.wait_days == 28
    assert result(catalog, W002, diagnosis_when=DaysAgo.exactly(168)).verdict == POSSIBLY_ELIGIBLE
    # The "in the last 6 months" button (0 to 180 days) cannot say: it stays open.
    assert result(catalog, W002, diagnosis_when=DaysAgo(0, 180)).verdict == POSSIBLY_ELIGIBLE


def test_a_wait_longer_than_about_six_months_is_not_called_a_wait(catalog):
    # 003: a heart stent within 12 months. Last month: 11 months to go.
    r = result(catalog, Z003, heart_stent=True, heart_stent_when=DaysAgo.exactly(30))
    assert r.verdict == NOT_ELIGIBLE and r.wait_days is None
    near = result(catalog, Z003, heart_stent=True, heart_stent_when=DaysAgo.exactly(300))
    assert near.verdict == POSSIBLY_ELIGIBLE_LATER and near.wait_days <= MAX_WAIT_DAYS


def test_time_never_lifts_a_yes_no_exclusion(catalog):
    assert result(catalog, W002, b_cell_therapy=True, b_cell_therapy_when=DaysAgo.exactly(3 * 365)).verdict \
        == NOT_ELIGIBLE


def test_results_say_from_when_why_and_offer_contact(catalog):
    values = {**CLEAN, "live_vaccine": True, "live_vaccine_when": DaysAgo.exactly(14)}
    messages = results_messages(catalog, values, TODAY)
    payload = payload_of(messages)
    for trial_id in (C000, W002, Z003, K004):
        assert payload[trial_id]["verdict"] == "possibly_eligible_later"
        assert payload[trial_id]["earliest_date"] == "2026-12-08"
        assert "exc-live-vaccine" in payload[trial_id]["waiting_for"]
        assert "may fit after a waiting period, from about 8 December 2026" in payload[trial_id]["message"]
        assert "live vaccine must be at least 4 weeks" in payload[trial_id]["message"]
    assert payload[N001]["verdict"] == "possibly_eligible" and "earliest_date" not in payload[N001]
    texts = [m.text for m in messages if m.text]
    assert "may fit after a waiting period" in texts[0] and "Your results" in texts[0]
    assert not any("you are eligible" in t.lower() for t in texts)
    # The order: may fit, then may fit after a wait, then does not fit.
    verdicts = [r["verdict"] for r in next(m.custom for m in messages if m.custom)["results"]]
    assert verdicts == sorted(verdicts, key=["possibly_eligible", "possibly_eligible_later", "not_eligible"].index)


def screening_with(values):
    screening = Screening(respondent="self")
    for fact, value in values.items():
        screening.answers[fact] = {"value": encode_value(value), "said": str(value)}
    return screening


def test_a_study_after_a_wait_gets_the_contact_offer(catalog):
    screening = screening_with({**CLEAN, "condition": "sle", "live_vaccine": True,
                                "live_vaccine_when": DaysAgo.exactly(14), "hiv": False})
    referral = start_referral(catalog, screening, "ref-1")
    assert set(referral.offers) == {C000, N001, W002, Z003, K004} and referral.step == "choose"


def test_the_offer_says_when_a_study_is_not_yet_recruiting(catalog):
    screening = screening_with({**CLEAN, "condition": "aps"})
    referral = start_referral(catalog, screening, "ref-2")
    assert referral.offers == [Z003]
    text = ReferralConversation(catalog).ask(referral, "self").text
    assert "This study is not yet recruiting: you can ask to be contacted when it opens." in text


def test_summary_shows_the_waiting_period_and_the_study_status(catalog):
    trial = catalog.trial(Z003)
    values = {**CLEAN, "condition": "aps", "live_vaccine": True, "live_vaccine_when": DaysAgo.exactly(14)}
    r = evaluate_trial(trial, values, list(catalog.facts), TODAY)
    created = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
    consent = Consent(version="1", text="consent", accepted_at=created, conversation_id="c")
    context = summary_context(catalog, trial, trial.sites[0], r, {}, "self", Contact(name="A"), consent, "s-1", created,
                              language="en")
    html, text = render_summary(context)
    assert "Pre-screening result: may fit after a waiting period." in text
    assert "Waiting period: from about 2026-12-08, because of exc-live-vaccine." in text
    assert "Study status: not yet recruiting." in text
    assert "may fit after a waiting period" in html and "2026-12-08" in html


# ---- the study facts patients must see ----

def test_not_yet_recruiting_is_said_on_the_result(catalog):
    payload = payload_of(results_messages(catalog, {**CLEAN, "condition": "aps"}, TODAY))
    assert payload[Z003]["status"] == "not_yet_recruiting"
    assert "not recruiting yet" in payload[Z003]["message"]
    assert "not yet recruiting: you can ask to be contacted when it opens" in card_and_details(payload[Z003])
    assert "not yet recruiting" not in card_and_details(payload_of(results_messages(catalog, CLEAN, TODAY))[K004])


def test_adults_are_told_plainly_about_the_childrens_hospital_study(catalog):
    trial = catalog.trial(C000)
    assert "children 5 and over" not in trial.short_title
    message = card_and_details(payload_of(results_messages(catalog, {**CLEAN, "age": 40}, TODAY))[C000])
    assert "children's hospital" in message and "no upper age limit" in message
    assert "study team will confirm" in message


def test_the_study_without_an_age_range_says_the_team_will_confirm(catalog):
    message = card_and_details(payload_of(results_messages(catalog, CLEAN, TODAY))[N001])
    assert "no age limits" in message and "will confirm" in message


def test_no_made_up_title_is_presented_as_official(catalog):
    for trial_id in (C000, N001):  # their listings show no title line
        assert catalog.trial(trial_id).title.startswith("No official title in the listing")
    for trial_id in (W002, Z003, K004):
        assert "No official title" not in catalog.trial(trial_id).title


@pytest.mark.parametrize("values", [CLEAN, {**CLEAN, "live_vaccine": True, "live_vaccine_when": DaysAgo.exactly(14)},
                                    {**CLEAN, "hiv": NOT_SURE, "tuberculosis": NOT_SURE}])
def test_the_study_with_unpublished_rules_never_says_everything_else_and_one_thing(catalog, values):
    message = card_and_details(payload_of(results_messages(catalog, values, TODAY))[N001])
    assert "everything else" not in message
    assert not re.search(r"\b\d+ things?\b", message)
    assert "has not published its full rules" in message


# ---- the fact bank: checklists, follow-ups, order, months ----

def test_the_health_checklist_stem_does_not_widen_its_items(catalog):
    group = catalog.groups["health_history"]
    for text in (group.question, group.question_guardian):
        assert "now or in the past" not in text and "ever" not in text.split()
    labels = {f: catalog.facts[f].label for f in group.facts}
    assert "now" in labels["tuberculosis"] and "treated and cured does not count" in labels["tuberculosis"]
    assert "8 weeks" in labels["brain_condition"]
    assert "aspirin" in labels["blood_thinner"].lower()
    assert "creams" in labels["active_infection"].lower()
    assert "thyroid hormone" in labels["other_autoimmune"]


def test_checklist_items_keep_the_questions_clarifications(catalog):
    assert "tablets do not count" in catalog.facts["steroid_injection"].label
    for group in catalog.groups.values():
        for fact_id in group.facts:
            fact = catalog.facts[fact_id]
            if re.search(r"(does|do) not count|not among them", fact.question):
                assert re.search(r"\bnot\b", fact.label), (group.id, fact_id, fact.label)


@pytest.mark.parametrize("follow_up, words", [
    ("b_cell_therapy_when", "rituximab, belimumab, telitacicept"),
    ("other_biologic_when", "biologic medicine"),
    ("jak_btk_inhibitor_when", "JAK or BTK"),
    ("chemo_drug_when", "cyclophosphamide"),
    ("live_vaccine_when", "live vaccine"),
    ("clinical_trial_when", "clinical study"),
    ("heart_attack_when", "heart attack"),
    ("heart_stent_when", "stent"),
    ("major_surgery_when", "major operation"),
    ("cancer_when", "cancer"),
])
def test_each_follow_up_names_its_item(catalog, follow_up, words):
    fact = catalog.facts[follow_up]
    for question in (fact.question, fact.question_guardian):
        assert words in question and "that medicine" not in question and question != "When was that?"


def test_the_suicidal_thoughts_question_has_a_gentle_lead_in(catalog):
    fact = catalog.facts["suicidal_thoughts"]
    for question in (fact.question, fact.question_guardian):
        first, rest = question.split(";", 1)
        assert "personal" in first and "past year" in rest
    assert fact.crisis_if_yes


def test_diagnosis_is_asked_in_months_with_month_buttons(catalog, planner):
    fact = catalog.facts["diagnosis_when"]
    assert "months" in fact.question and fact.unit == "month"
    assert planner.rule_values("diagnosis_when") == {180}  # the rule's 24 weeks, shown as 6 months
    labels = [label for label, _low, _high in Conversation(planner)._time_ranges("diagnosis_when")]
    assert labels == ["In the last 6 months", "More than 6 months ago"]


def test_diagnosis_comes_right_after_the_illness(planner):
    answers = {"condition": "sle"}
    first = planner.next_question(answers).facts
    assert first == ("refractory",)  # the one question that could settle every study comes first
    answers["refractory"] = True
    assert planner.next_question(answers).facts == ("diagnosis_when",)
    # A patient whose usual treatment works is told in three questions, as before.
    assert planner.next_question({"condition": "sle", "refractory": False}) is None


def test_month_buttons_never_exclude_wrongly(catalog, planner):
    for label, low, high in Conversation(planner)._time_ranges("diagnosis_when"):
        value = DaysAgo(low, float(high) if high else math.inf)
        verdict = result(catalog, W002, diagnosis_when=value).verdict
        assert verdict == POSSIBLY_ELIGIBLE, label
