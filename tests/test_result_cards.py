"""The patient's result cards: at most 50 words, the reason that matters most, the wording for
who is answering, where and what next from the site's settings, and the details on demand."""
from __future__ import annotations

import itertools
import re
from datetime import date

import pytest

from prescreen.screening.conversation import Screening, encode_value
from prescreen.screening.durations import DaysAgo
from prescreen.screening.errors import TrialDataError
from prescreen.screening.factbank import NOT_SURE
from prescreen.screening.results import CARD_WORDS, results_messages
from prescreen.screening.trials import load_catalog

from test_clinical_fidelity import C000, CLEAN, K004, N001, W002, Z003

TODAY = date(2026, 11, 23)
WUHAN_ENV = {"SITE_WUHAN_UNION_CALLBACK_DAYS": "3", "SITE_WUHAN_UNION_PHONE": "027-8572 6114"}
FORBIDDEN = ("you are eligible", "you qualify", "22 things", "things, such as")


def cards(catalog, values, respondent="self", env=None):
    messages = results_messages(catalog, values, TODAY, respondent, env or {})
    return messages, {r["trial_id"]: r for r in next(m.custom for m in messages if m.custom)["results"]}


def words(text: str) -> int:
    return len(text.split())


# Answer sets that reach every verdict and many different first failures.
VARIATIONS = [
    {}, {"condition": "other"}, {"condition": "sjogren"}, {"condition": "aps"}, {"age": 9}, {"age": 68},
    {"age": 80}, {"refractory": False}, {"hiv": True}, {"hiv": NOT_SURE, "tuberculosis": NOT_SURE},
    {"suicidal_thoughts": True}, {"transplant": True}, {"sex": "male"},
    {"live_vaccine": True, "live_vaccine_when": DaysAgo.exactly(14)},
    {"live_vaccine": True, "live_vaccine_when": DaysAgo.exactly(14), "hiv": True},
    {"diagnosis_when": DaysAgo.exactly(140)},
    {"heart_stent": True, "heart_stent_when": DaysAgo.exactly(300)},
    {"cancer": True, "cancer_kind": "lymphoma", "cancer_when": DaysAgo.exactly(400)},
    {"b_cell_therapy": True, "b_cell_therapy_when": DaysAgo.exactly(7)},
]


@pytest.mark.parametrize("respondent, extra", list(itertools.product(("self", "guardian", "helper"), VARIATIONS)))
def test_every_card_is_at_most_50_words_and_never_promises(catalog, respondent, extra):
    for env in ({}, WUHAN_ENV):
        messages, by_id = cards(catalog, {**CLEAN, **extra}, respondent, env)
        for card in by_id.values():
            assert words(card["message"]) <= CARD_WORDS, card["message"]
            text = card["message"].lower() + " ".join(str(v) for v in card["details"].values()).lower()
            assert not any(phrase in text for phrase in FORBIDDEN), card
            assert not re.search(r"\b\d+ things?\b", text)
            assert card["message"].startswith("This study ") and card["where"] in card["message"]
            assert card["verdict_text"] in ("May be a match", "May fit after a waiting period", "Does not seem to fit")


def test_the_chat_says_once_where_the_cards_are(catalog):
    messages, by_id = cards(catalog, CLEAN)
    texts = [m.text for m in messages if m.text]
    assert len(texts) == 1 and words(texts[0]) <= 60
    assert '"Your results"' in texts[0] and "5 studies may be a match" in texts[0]
    assert "only the study team can decide" in texts[0]
    for card in by_id.values():  # the cards' words are not said again in the chat
        assert card["message"] not in texts[0] and card["title"] not in texts[0]


def test_no_study_fits_says_so_and_points_to_the_doctor(catalog):
    messages, by_id = cards(catalog, {"condition": "other"})
    [text] = [m.text for m in messages if m.text]
    assert "5 studies do not seem to fit" in text and "Your own doctor" in text
    assert all(card["next"] is None and card["phone_text"] is None for card in by_id.values())


def test_the_illness_is_the_reason_when_the_illness_does_not_fit(catalog):
    # Rheumatoid arthritis ("Something else"): told what the study is for, not its diagnosis date.
    _, by_id = cards(catalog, {"condition": "other", "age": 40})
    assert by_id[W002]["reason"] == "This study is for lupus (SLE)."
    assert "24 weeks" not in by_id[W002]["message"]
    assert by_id[Z003]["reason"].startswith("This study is for lupus (SLE), Sjögren's syndrome,")
    assert by_id[Z003]["reason"].endswith("or antiphospholipid syndrome (APS).")
    for card in by_id.values():
        assert card["message"].startswith("This study does not seem to fit. This study is for ")


def test_the_illness_comes_before_an_earlier_failed_rule(catalog):
    # A 9-year-old with Sjögren's: the Wuhan study's first failed rule is the age (inc-age comes first
    # in the listing), but the illness is what matters most.
    _, by_id = cards(catalog, {**CLEAN, "condition": "sjogren", "age": 9}, "guardian")
    assert by_id[W002]["reason"] == "This study is for lupus (SLE)."
    assert "This study is for adults aged 18 to 70." in by_id[W002]["details"]["other_reasons"]


def test_otherwise_the_first_failed_rule_in_the_patients_terms(catalog):
    _, by_id = cards(catalog, {**CLEAN, "age": 80})
    assert by_id[W002]["reason"] == "This study is for adults aged 18 to 70."
    _, by_id = cards(catalog, {**CLEAN, "hiv": True})
    assert by_id[W002]["reason"] == "This study does not take people with HIV."


def test_a_failure_that_lasts_is_named_before_a_wait(catalog):
    _, by_id = cards(catalog, {**CLEAN, "live_vaccine": True, "live_vaccine_when": DaysAgo.exactly(14), "hiv": True})
    assert by_id[K004]["verdict"] == "not_eligible"
    assert "HIV" in by_id[K004]["reason"] and "vaccine" not in by_id[K004]["reason"]
    assert any("vaccine" in r for r in by_id[K004]["details"]["other_reasons"])


def test_a_waiting_period_card_says_from_when_and_why(catalog):
    _, by_id = cards(catalog, {**CLEAN, "live_vaccine": True, "live_vaccine_when": DaysAgo.exactly(14)})
    card = by_id[W002]
    assert card["verdict_text"] == "May fit after a waiting period" and card["earliest_date"] == "2026-12-08"
    assert card["message"].startswith("This study may fit after a waiting period, from about 8 December 2026.")
    assert "live vaccine must be at least 4 weeks" in card["reason"]


def test_parent_wording_on_every_card(catalog):
    _, by_id = cards(catalog, {**CLEAN, "age": 9}, "guardian")
    assert by_id[C000]["message"].startswith("This study may be a match for your child.")
    for card in by_id.values():
        summary = card["details"]["summary"]
        assert "your own" not in summary and "you will have" not in summary
    assert "some of your child's own white blood cells" in by_id[C000]["details"]["summary"]
    assert "your child will have a few days of chemotherapy" in by_id[Z003]["details"]["summary"]
    _, by_id = cards(catalog, {**CLEAN, "clinical_trial": True, "clinical_trial_when": DaysAgo.exactly(20)}, "guardian")
    reasons = [c["reason"] or "" for c in by_id.values()] + [r for c in by_id.values()
                                                              for r in c["details"]["other_reasons"]]
    assert any("since your child took part in another clinical study" in r for r in reasons), reasons


def test_patient_and_helper_wording(catalog):
    _, mine = cards(catalog, CLEAN, "self")
    assert "some of your own white blood cells" in mine[W002]["details"]["summary"]
    assert mine[W002]["message"].startswith("This study may be a match. ")
    _, helped = cards(catalog, CLEAN, "helper")
    assert helped[W002]["message"].startswith("This study may be a match for the person you help.")
    assert "some of the patient's own white blood cells" in helped[W002]["details"]["summary"]


def test_where_is_the_short_hospital_name_and_the_city(catalog):
    _, by_id = cards(catalog, CLEAN)
    assert by_id[W002]["where"] == "Where: Union Hospital, Wuhan."
    assert "Huazhong" not in by_id[W002]["message"]
    for card in by_id.values():
        assert words(card["where"]) <= 8


def test_next_step_and_phone_follow_the_sites_settings(catalog):
    _, unset = cards(catalog, CLEAN)
    assert unset[W002]["phone"] is None and unset[W002]["phone_text"] == "No phone number is listed."
    assert unset[W002]["next"] == "If you ask to be contacted, the study team will call you."
    assert "working day" not in unset[W002]["message"]  # no timeframe is made up
    _, configured = cards(catalog, CLEAN, env=WUHAN_ENV)
    assert configured[W002]["next"] == "If you ask to be contacted, the team usually calls within 3 working days."
    assert configured[W002]["phone"] == "027-8572 6114" and "Phone: 027-8572 6114." in configured[W002]["message"]
    assert configured[K004]["phone"] is None  # another site's setting is not borrowed
    _, wrong = cards(catalog, CLEAN, env={"SITE_WUHAN_UNION_CALLBACK_DAYS": "soon"})
    assert "working day" not in wrong[W002]["message"]


def test_details_say_what_the_team_still_checks_in_plain_words(catalog):
    _, by_id = cards(catalog, {**CLEAN, "hiv": NOT_SURE})
    checks = by_id[W002]["details"]["checks"]
    assert checks[0].startswith("What you were not sure about: ") and "HIV" in checks[0]
    assert "Blood and urine tests" in checks and "Scores of how active the illness is" in checks
    assert by_id[W002]["reason"] == "The team will check what you were not sure about."
    for check in checks:  # no listing numbers, scores' names or raw criteria
        assert not re.search(r"SLEDAI|BILAG|EULAR|^\d+\.", check), check
    assert by_id[N001]["details"]["checks"] == []  # no published rules: said in the notes instead
    assert any("has not published its full rules" in n for n in by_id[N001]["details"]["notes"])


def test_a_study_not_yet_recruiting_says_so_on_its_card(catalog):
    _, by_id = cards(catalog, {**CLEAN, "condition": "aps"})
    assert by_id[Z003]["reason"] == "It is not recruiting yet."


def test_the_payload_keeps_its_machine_readable_fields(catalog):
    _, by_id = cards(catalog, CLEAN)
    for card in by_id.values():
        assert {"trial_id", "title", "verdict", "message", "criteria", "reason", "where", "next", "phone",
                "details"} <= set(card)
        assert {c["status"] for c in card["criteria"]} <= {"met", "not_met", "unknown", "verify_site"}


def test_conversation_words_the_results_for_the_parent(conversation_for_cards):
    screening = Screening(respondent="guardian")
    for fact, value in {**CLEAN, "age": 9}.items():
        screening.answers[fact] = {"value": encode_value(value), "said": str(value)}
    messages = conversation_for_cards.results(screening, TODAY)
    [payload] = [m.custom for m in messages if m.custom]
    child = next(r for r in payload["results"] if r["trial_id"] == C000)
    assert child["message"].startswith("This study may be a match for your child.")


@pytest.fixture
def conversation_for_cards(planner):
    from prescreen.screening.conversation import Conversation

    return Conversation(planner)


# ---- the trial data the cards need ----

def site_file(tmp_path, catalog_dir, site_extra: str = "", summary: str = "A test study for {your} illness."):
    import shutil

    shutil.copy(catalog_dir / "facts.yml", tmp_path / "facts.yml")
    (tmp_path / "t.yml").write_text(f"""
id: T-1
title: Test
short_title: Test study
short_title_zh: 测试研究
plain_summary: "{summary}"
plain_summary_zh: "一项针对{{your}}疾病的测试研究。"
treatment: cells
conditions: [SLE]
conditions_zh: [系统性红斑狼疮]
age: {{min: 18}}
sexes: all
status: recruiting
source: test.txt
sites:
  - id: test-site
    name: A Very Long Official Hospital Name of a University
    name_zh: 某大学附属医院
    city: Testville
    city_zh: 测试市
{site_extra}
    contact: {{role: coordinator, phone: "0571-1234 5678"}}
criteria:
  - id: inc-age
    kind: inclusion
    text: Aged 18 or over
    plain: This study is for adults; {{you}} must be 18 or over.
    plain_zh: 本研究只招收成人；{{you}}须年满 18 岁。
    rule: {{fact: age, op: gte, value: 18}}
""", encoding="utf-8")
    return load_catalog(tmp_path)


def test_a_listed_phone_and_a_literal_callback_reach_the_card(tmp_path):
    from conftest import TRIALS_DIR

    catalog = site_file(tmp_path, TRIALS_DIR, '    short_name: "Test Hospital"\n    short_name_zh: 测试医院\n    callback_days: 2')
    _, by_id = cards(catalog, {"age": 40}, env={})
    card = by_id["T-1"]
    assert card["where"] == "Where: Test Hospital, Testville."
    assert card["next"] == "If you ask to be contacted, the team usually calls within 2 working days."
    assert card["phone"] == "0571-1234 5678"
    _, by_id = cards(catalog, {"age": 9}, "guardian")
    assert by_id["T-1"]["reason"] == "This study is for adults; your child must be 18 or over."


@pytest.mark.parametrize("extra, summary, field", [
    ("    callback_days: 0", "A study.", "sites[0].callback_days"),
    ("    callback_days: soon", "A study.", "sites[0].callback_days"),
    ("    short_name: The Long Hospital Name Of Somewhere Far", "A study.", "sites[0].short_name"),
    ("", "A study for {yours} illness.", "plain_summary"),
    ("", "A study for {your illness.", "plain_summary"),
])
def test_the_check_refuses_bad_card_fields(tmp_path, extra, summary, field):
    from conftest import TRIALS_DIR

    with pytest.raises(TrialDataError) as error:
        site_file(tmp_path, TRIALS_DIR, extra, summary)
    assert error.value.field == field


def test_the_payload_carries_the_announcement_and_the_cards_fixed_words(catalog):
    messages = results_messages(catalog, {"condition": "other"}, TODAY, "self", {})
    [payload] = [m.custom for m in messages if m.custom]
    assert payload["summary"] == "Thank you. Your results are ready. 5 studies do not seem to fit."
    assert payload["labels"]["more"] == "More about this study"
    assert set(payload["labels"]) == {"more", "checks", "other_reasons", "announce_where"}


def test_the_trial_check_warns_about_what_would_make_a_card_long(tmp_path, catalog):
    from conftest import TRIALS_DIR
    from prescreen.screening.check import card_warnings

    assert card_warnings(catalog) == []  # the real trial files give every card what it needs
    long_reason = " ".join(["word"] * 31)
    test_catalog = site_file(tmp_path, TRIALS_DIR)
    assert card_warnings(test_catalog) == [
        "t.yml: sites[0]: no short_name, so cards show the full name 'A Very Long Official Hospital Name of a University'"]
    text = (tmp_path / "t.yml").read_text(encoding="utf-8")
    (tmp_path / "t.yml").write_text(text.replace("plain: This study is for adults; {you} must be 18 or over.",
                                                 f"plain: {long_reason}"), encoding="utf-8")
    warnings = card_warnings(load_catalog(tmp_path))
    assert "t.yml: inc-age: plain text of 31 words (a card's reason should be at most 30)" in warnings
