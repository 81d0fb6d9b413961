"""Every action, driven with rasa_sdk's own Tracker and CollectingDispatcher.

Each test compares the whole list of events an action returns.
"""
import asyncio
import json
import shutil
import subprocess
import sys

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.catalog import CONVERSATION
from actions.channel import patient_text, rasa_payload
from actions.screening import ActionScreeningTurn, ActionSideReply, ActionStop, ActionWelcome
from prescreen.screening import wording
from prescreen.screening.conversation import Screening
from prescreen.screening.durations import DaysAgo

from conftest import ROOT

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def tracker(text="hello", intent="greet", slots=None, entities=None, events=None):
    latest = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": entities or []}
    return Tracker(
        sender_id="test",
        slots={"screening": None, "referral": None, "stage": None, "language": "en", **(slots or {})},
        latest_message=latest,
        events=events or [],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def run(action, tracker_):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker_, DOMAIN))
    return dispatcher.messages, events


def slot(name, value):
    return {"event": "slot", "timestamp": None, "name": name, "value": value}


def test_welcome_says_what_it_does_then_asks_who_is_answering():
    messages, events = run(ActionWelcome(), tracker(slots={"screening": {"respondent": "self"}}))
    welcome, question = messages
    text = welcome["text"]
    assert "5 research studies" in text and "not medical advice" in text
    assert "don't need to give your name" in text and '"stop"' in text
    assert "eligible" not in text.lower()
    assert question["text"] == wording.WHO_IS_ANSWERING
    assert [b["payload"] for b in question["buttons"]] == [
        '/inform{"choice": "self"}', '/inform{"choice": "guardian"}', '/inform{"choice": "helper"}']
    assert events == [slot("screening", Screening(asking=["respondent"]).to_json()), slot("referral", None),
                      slot("stage", "screening")]  # a fresh screening: the old answers are gone


def turn(text, intent, state, entities=None, stage="screening"):
    return run(ActionScreeningTurn(), tracker(text, intent, slots={"screening": state, "stage": stage},
                                              entities=entities))


def test_an_answer_is_stored_and_the_next_question_asked_in_one_turn():
    state = Screening(respondent="guardian", asking=["condition"]).to_json()
    messages, events = turn("My daughter has lupus", "inform", state)
    answers = {"condition": {"value": "sle", "said": "My daughter has lupus"}}
    [next_fact] = CONVERSATION.planner.next_question({"condition": "sle"}).facts
    expected = Screening(respondent="guardian", asking=[next_fact], answers=answers, history=[["condition"]]).to_json()
    assert events == [slot("screening", expected), slot("referral", None)]  # stage unchanged: no event
    [question] = messages
    assert question["text"] == CONVERSATION.catalog.facts[next_fact].question_guardian
    assert question["buttons"][-1]["payload"] == "/not_sure"


def test_a_button_payload_becomes_the_option():
    state = Screening(respondent="self", asking=["condition"]).to_json()
    _, events = turn('/inform{"choice":"aps"}', "inform", state, entities=[{"entity": "choice", "value": "aps"}])
    assert events[0]["value"]["answers"]["condition"]["value"] == "aps"


def test_bad_input_gets_a_hint_the_question_again_and_stores_nothing():
    answers = {"condition": "sle", "refractory": True, "diagnosis_when": {"days_ago": [1000, None]}}
    assert CONVERSATION.planner.next_question({**answers, "diagnosis_when": DaysAgo.more_than(1000)}).facts == ("age",)
    state = Screening(respondent="self", asking=["age"],
                      answers={f: {"value": v, "said": "..."} for f, v in answers.items()},
                      history=[[f] for f in answers]).to_json()
    messages, events = turn("150", "inform", state)
    assert events == [slot("screening", {**state, "tries": 1}), slot("referral", None)]
    hint, question = messages
    assert "from 1 to 120" in hint["text"] and question["text"] == CONVERSATION.catalog.facts["age"].question


def test_crisis_words_get_support_first_then_the_same_question():
    state = Screening(respondent="self", asking=["condition"]).to_json()
    messages, events = turn("I want to end my life", "crisis", state)
    assert [m["text"] for m in messages] == [wording.CRISIS_SUPPORT, wording.CONTINUE_WHEN_READY]
    assert messages[1]["buttons"] == [{"title": wording.CONTINUE_BUTTON, "payload": '/inform{"choice": "continue"}'}]
    assert events[0]["value"]["answers"] == {}
    messages, events = turn('/inform{"choice": "continue"}', "inform", events[0]["value"],
                            entities=[{"entity": "choice", "value": "continue"}])
    assert [m["text"] for m in messages] == [CONVERSATION.catalog.facts["condition"].question]


def test_the_last_answer_brings_results_and_with_nothing_to_offer_ends_the_stage():
    state = Screening(respondent="self", asking=["condition"]).to_json()
    messages, events = turn("rheumatoid arthritis", "inform", state)
    [read_back] = messages  # typed, and it rules every study out: one short question first
    assert read_back["text"].startswith("Just to check") and read_back["buttons"][0]["payload"] == "/affirm"
    messages, events = turn("/affirm", "affirm", events[0]["value"])
    [custom] = [m["custom"] for m in messages if m.get("custom")]
    assert [r["verdict"] for r in custom["results"]] == ["not_eligible"] * 5
    assert {"trial_id", "title", "verdict", "message", "criteria"} <= set(custom["results"][0])
    assert json.loads(json.dumps(custom)) == custom
    assert all("you are eligible" not in (m.get("text") or "").lower() for m in messages)
    referral = events[1]["value"]
    assert referral["offers"] == [] and referral["trial"] is None and referral["screening_id"]
    assert events[2] == slot("stage", None)


def test_stop_clears_the_screening_and_the_stage():
    messages, events = run(ActionStop(), tracker("stop", "stop", slots={"screening": {"respondent": "self"},
                                                                          "stage": "screening"}))
    assert events == [slot("screening", None), slot("referral", None), slot("stage", None)]
    assert messages[0]["text"] == wording.STOPPED


def test_go_back_after_the_results_reopens_the_last_question():
    state = Screening(respondent="self", answers={"condition": {"value": "sle", "said": "lupus"},
                                                  "refractory": {"value": False, "said": "no"}},
                      history=[["condition"], ["refractory"]]).to_json()
    messages, events = turn("go back", "go_back", state, stage=None)
    assert messages[0]["custom"] == {"results": []}  # the page drops the old result cards
    assert messages[1]["text"] == wording.GOING_BACK
    assert messages[2]["text"] == CONVERSATION.catalog.facts["refractory"].question
    assert events[0]["value"]["answers"] == {"condition": {"value": "sle", "said": "lupus"}}
    assert events[2] == slot("stage", "screening")


@pytest.mark.parametrize("intent, text, expected", [
    ("crisis", "I want to die", wording.CRISIS_SUPPORT),
    ("medical_question", "is CAR-T safe", wording.ASK_YOUR_DOCTOR),
    ("ask_why", "why", wording.WHY_IN_GENERAL),
    ("affirm", "yes", wording.NOT_SCREENING_NOW),
])
def test_side_reply(intent, text, expected):
    messages, events = run(ActionSideReply(), tracker(text, intent))
    assert events == [] and messages[0]["text"] == expected


def test_payload_round_trip():
    assert patient_text({"text": "/affirm", "intent": {"name": "affirm"}}) == "yes"
    assert patient_text({"text": '/inform{"choice": "days:0-28"}', "intent": {"name": "inform"},
                         "entities": [{"entity": "choice", "value": "days:0-28"}]}) == "choice:days:0-28"
    assert patient_text({"text": "I'm 34", "intent": {"name": "inform"}}) == "I'm 34"
    assert rasa_payload("choice:sle") == '/inform{"choice": "sle"}'
    assert rasa_payload("not sure") == "/not_sure"


def test_action_package_does_not_import_rasa():
    """The action server must stay light: importing rasa would pull in TensorFlow."""
    code = "import sys, actions.screening, actions.referral; sys.exit(1 if 'rasa' in sys.modules else 0)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, "the actions package imported rasa"


def test_action_server_refuses_to_start_on_a_broken_trial_file(tmp_path):
    shutil.copy(ROOT / "trials" / "facts.yml", tmp_path / "facts.yml")
    trial = (ROOT / "trials" / "nct06421701-car-nk-sle-hangzhou.yml").read_text(encoding="utf-8")
    (tmp_path / "broken.yml").write_text(trial.replace("{fact: transplant,", "{fact: transplnt,"), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-c", "import actions.catalog"],
        cwd=ROOT, capture_output=True, text=True, env={"PRESCREEN_TRIALS_DIR": str(tmp_path), "PATH": ""},
    )
    assert result.returncode != 0
    assert "broken.yml: exc-transplant: rule.fact: unknown fact 'transplnt'" in result.stderr


@pytest.mark.parametrize("text, metadata, slot, expected", [
    ("你好", None, None, "zh"), ("hello", None, None, "en"), ("hello", {"language": "zh-CN"}, None, "zh"),
    ("34", None, "zh", "zh"), ("请用中文", None, "en", "zh"), ("English please", None, "zh", "en"),
])
def test_the_conversation_language(text, metadata, slot, expected):
    from actions.language import conversation_language

    latest = {"text": text, "intent": {"name": "greet"}, "entities": [], "metadata": metadata or {}}
    tracker_ = Tracker("lang", {"language": slot}, latest, [], False, None, {}, "action_listen")
    assert conversation_language(tracker_)[0] == expected


def test_a_chinese_greeting_gets_a_chinese_first_question_and_sets_the_language():
    messages, events = run(ActionWelcome(), tracker("你好", "greet", slots={"language": None}))
    assert slot("language", "zh") in events


def test_asking_for_chinese_mid_screening_keeps_the_answers_and_asks_again():
    state = Screening(respondent="self", asking=["condition"]).to_json()
    messages, events = turn("请用中文", "nlu_fallback", state)
    assert slot("language", "zh") in events and events[0]["value"]["answers"] == {}
    assert messages[-1]["text"] == str(CONVERSATION.catalog.facts["condition"].question.resolve("zh"))
