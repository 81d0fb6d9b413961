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
from actions.screening import (
    ActionAskAnswer,
    ActionResumeScreening,
    ActionShowResults,
    ActionSideReply,
    ActionStop,
    ValidatePrescreenForm,
)
from actions.welcome import ActionWelcome
from prescreen import wording
from prescreen.conversation import Screening

from conftest import ROOT

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def tracker(text="hello", intent="greet", slots=None, entities=None, events=None):
    latest = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": entities or []}
    return Tracker(
        sender_id="test",
        slots={"answer": None, "screening": None, "requested_slot": None, **(slots or {})},
        latest_message=latest,
        events=events or [],
        paused=False,
        followup_action=None,
        active_loop={"name": "prescreen_form"},
        latest_action_name="action_listen",
    )


def run(action, tracker_):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker_, DOMAIN))
    return dispatcher.messages, events


def slot(name, value):
    return {"event": "slot", "timestamp": None, "name": name, "value": value}


def test_welcome_says_what_it_does_and_starts_a_fresh_screening():
    messages, events = run(ActionWelcome(), tracker(slots={"screening": {"respondent": "self"}}))
    assert events == [slot("screening", None), slot("answer", None)]
    [message] = messages
    text = message["text"]
    assert "5 research studies" in text and "not medical advice" in text
    assert "don't need to give your name" in text and '"stop"' in text
    assert "eligible" not in text.lower()


def test_ask_answer_asks_who_is_answering_first():
    messages, events = run(ActionAskAnswer(), tracker())
    expected = Screening(asking=["respondent"]).to_json()
    assert events == [slot("screening", expected)]
    assert messages[0]["text"] == wording.WHO_IS_ANSWERING
    assert [b["payload"] for b in messages[0]["buttons"]] == [
        '/inform{"choice": "self"}', '/inform{"choice": "guardian"}', '/inform{"choice": "helper"}']


def test_ask_answer_uses_guardian_wording_and_yes_no_buttons():
    state = Screening(respondent="guardian", answers={"condition": {"value": "sle", "said": "lupus"}},
                      history=[["condition"]]).to_json()
    messages, events = run(ActionAskAnswer(), tracker(slots={"screening": state}))
    assert messages[0]["text"] == CONVERSATION.catalog.facts["refractory"].question_guardian
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/affirm", "/deny", "/not_sure"]
    assert events == [slot("screening", {**state, "asking": ["refractory"], "group": None})]


def validate(text, intent, state, entities=None, requested="answer"):
    t = tracker(text, intent, slots={"screening": state, "answer": text, "requested_slot": requested},
                entities=entities,
                events=[{"event": "action", "name": "action_listen"}, {"event": "user", "text": text},
                        slot("answer", text)])
    return run(ValidatePrescreenForm(), t)


def test_validate_stores_a_parsed_answer_and_keeps_asking():
    state = Screening(respondent="self", asking=["condition"]).to_json()
    messages, events = validate("I have lupus", "inform", state)
    expected = Screening(respondent="self", asking=["condition"],
                         answers={"condition": {"value": "sle", "said": "I have lupus"}},
                         history=[["condition"]]).to_json()
    assert events == [slot("answer", None), slot("screening", expected)]
    assert messages == []


def test_validate_button_payload_becomes_the_option():
    state = Screening(respondent="self", asking=["condition"]).to_json()
    _, events = validate('/inform{"choice":"aps"}', "inform", state, entities=[{"entity": "choice", "value": "aps"}])
    assert events[1]["value"]["answers"]["condition"]["value"] == "aps"


def test_validate_bad_input_re_asks_with_a_hint_and_stores_nothing():
    state = Screening(respondent="self", asking=["age"],
                      answers={"condition": {"value": "sle", "said": "lupus"}}, history=[["condition"]]).to_json()
    messages, events = validate("150", "inform", state)
    assert events == [slot("answer", None), slot("screening", {**state, "tries": 1})]
    assert "from 1 to 120" in messages[0]["text"]


def test_validate_finishes_the_form_when_no_question_is_left():
    state = Screening(respondent="self", asking=["condition"]).to_json()
    _, events = validate("rheumatoid arthritis", "inform", state)
    assert events[0] == slot("answer", "done")


def test_validate_ignores_the_message_that_opened_the_form():
    state = Screening(respondent="self").to_json()
    messages, events = validate("hello", "greet", state, requested=None)
    assert events == [slot("answer", None)] and messages == []


def test_validate_crisis_words_get_support_first():
    state = Screening(respondent="self", asking=["condition"]).to_json()
    messages, events = validate("I want to end my life", "crisis", state)
    assert [m["text"] for m in messages] == [wording.CRISIS_SUPPORT, wording.CARRY_ON]
    assert events == [slot("answer", None), slot("screening", state)]


def test_show_results_sends_cards_and_the_machine_readable_payload():
    state = Screening(respondent="self", answers={"condition": {"value": "other", "said": "RA"}},
                      history=[["condition"]]).to_json()
    messages, events = run(ActionShowResults(), tracker(slots={"screening": state, "answer": "done"}))
    [referral] = [e["value"] for e in events if e["name"] == "referral"]
    assert events == [slot("referral", referral), slot("may_fit", False), slot("handoff_answer", None)]
    assert referral["offers"] == [] and referral["trial"] is None and referral["screening_id"]
    [custom] = [m["custom"] for m in messages if m.get("custom")]
    assert [r["verdict"] for r in custom["results"]] == ["not_eligible"] * 5
    assert json.loads(json.dumps(custom)) == custom
    assert all("eligible" not in (m.get("text") or "") for m in messages)


def test_stop_clears_the_screening():
    messages, events = run(ActionStop(), tracker("stop", "stop", slots={"screening": {"respondent": "self"}}))
    assert events == [slot("screening", None), slot("answer", None)]
    assert messages[0]["text"] == wording.STOPPED


def test_resume_goes_back_one_answer():
    state = Screening(respondent="self", answers={"condition": {"value": "sle", "said": "lupus"},
                                                  "refractory": {"value": False, "said": "no"}},
                      history=[["condition"], ["refractory"]]).to_json()
    messages, events = run(ActionResumeScreening(), tracker("go back", "go_back", slots={"screening": state}))
    expected = Screening(respondent="self", answers={"condition": {"value": "sle", "said": "lupus"}},
                         history=[["condition"]]).to_json()
    assert events == [slot("screening", expected), slot("answer", None)]
    assert messages[0]["text"] == wording.GOING_BACK


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
    code = "import sys, actions.welcome, actions.screening; sys.exit(1 if 'rasa' in sys.modules else 0)"
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
