"""The contact-step actions with rasa_sdk's Tracker and CollectingDispatcher, writing to
the test database (set up in conftest.py)."""

import pytest
from sqlalchemy import select

from actions.referral import ActionContactTurn, ActionWithdraw
from actions.screening import ActionScreeningTurn
from actions.store import database
from prescreen.screening import wording
from prescreen.screening.conversation import RESPONDENT, Conversation, Screening
from prescreen.storage import ConsentRecord, HandoffRecord, ScreeningRecord

from test_actions import run, slot
from test_conversation import answer_everything
from rasa_sdk import Tracker


@pytest.fixture
def adult(planner):
    return answer_everything(Conversation(planner), Screening(), {
        RESPONDENT: "me", "condition": "lupus", "refractory": "yes", "age": "34",
        "diagnosis_when": "more than 2 years ago", "sex": "female"}).to_json()


def tracker(sender, text, intent, slots):
    return Tracker(
        sender_id=sender, slots=slots,
        latest_message={"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": []},
        events=[{"event": "action", "name": "action_listen"}, {"event": "user", "text": text}],
        paused=False, followup_action=None, active_loop={}, latest_action_name="action_listen")


def show_results(sender, screening):
    """The results: the screening's last turn (answered already, so no question is left)."""
    messages, events = run(ActionScreeningTurn(), tracker(sender, "none", "deny",
                                                          {"screening": screening, "stage": "screening"}))
    return {"screening": screening, **{e["name"]: e["value"] for e in events}}, messages


def reply(sender, slots, text, intent="inform"):
    """One patient reply in the contact steps: what the assistant said and the new slots."""
    messages, events = run(ActionContactTurn(), tracker(sender, text, intent, slots))
    return [m.get("text") for m in messages], {**slots, **{e["name"]: e["value"] for e in events}}


def stored(model, **where):
    with database().transaction() as session:
        return list(session.scalars(select(model).filter_by(**where)))


def test_results_store_the_screening_and_offer_the_first_study(adult):
    slots, messages = show_results("actions-1", adult)
    assert slots["stage"] == "contact"
    [record] = stored(ScreeningRecord, conversation_id="actions-1")
    assert slots["referral"]["screening_id"] == record.id and slots["referral"]["contact"] == {}
    assert "contact you?" in messages[-1]["text"]
    assert [b["payload"] for b in messages[-1]["buttons"]] == ["/affirm", "/deny"]


def test_consent_and_details_store_one_handoff_with_its_consent_record(adult):
    slots, _ = show_results("actions-2", adult)
    for text in ["yes", "yes", "Li Wei", "13800138000", "skip", "evening"]:
        _, slots = reply("actions-2", slots, text)
        assert slots["stage"] == "contact"  # the steps go on
        assert stored(HandoffRecord, contact_name="Li Wei") == []  # nothing stored before the last detail
    said, slots = reply("actions-2", slots, "English")
    [handoff] = stored(HandoffRecord, screening_id=slots["referral"]["screening_id"])
    assert (handoff.contact_phone, handoff.contact_email, handoff.language) == ("13800138000", None, "English")
    [consent] = stored(ConsentRecord, conversation_id="actions-2")
    assert consent.version == "1" and "delete my data" in consent.text and consent.accepted_at is not None
    assert "will be sent to the study team" in said[0]


def test_withdraw_words_during_the_contact_steps_erase_everything(adult):
    slots, _ = show_results("actions-3", adult)
    for text in ["yes", "yes", "Li Wei", "13800138000", "skip", "evening", "English"]:
        _, slots = reply("actions-3", slots, text)
    said, slots = reply("actions-3", slots, "please delete my data", intent="withdraw")
    assert said == [wording.ERASED]
    assert slots["erase_conversation"] is True and slots["screening"] is None and slots["stage"] is None
    assert stored(ScreeningRecord, conversation_id="actions-3") == []
    assert stored(ConsentRecord, conversation_id="actions-3") == []


def test_a_name_taken_for_withdraw_by_nlu_is_still_a_name(adult):
    slots, _ = show_results("actions-4", adult)
    for text in ["yes", "yes"]:
        _, slots = reply("actions-4", slots, text)
    _, slots = reply("actions-4", slots, "Ren Ying", intent="withdraw")
    assert slots["referral"]["contact"]["name"] == "Ren Ying" and "erase_conversation" not in slots
    assert stored(ScreeningRecord, conversation_id="actions-4") != []


def test_withdraw_action_erases_and_marks_the_conversation_for_the_tracker_store(adult):
    show_results("actions-5", adult)
    messages, events = run(ActionWithdraw(), tracker("actions-5", "delete my data", "withdraw", {"screening": adult}))
    assert [m["text"] for m in messages] == [wording.ERASED]
    assert events == [slot("screening", None), slot("referral", None), slot("stage", None),
                      slot("erase_conversation", True)]
    assert stored(ScreeningRecord, conversation_id="actions-5") == []
