"""The contact-step actions with rasa_sdk's Tracker and CollectingDispatcher, writing to
the test database (set up in conftest.py)."""

import re

import pytest
from sqlalchemy import select

from actions.referral import ActionContactTurn, ActionEraseTurn, ActionWithdraw
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
        sender_id=sender, slots={"language": "en", **slots},
        latest_message={"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": []},
        events=[{"event": "action", "name": "action_listen"}, {"event": "user", "text": text}],
        paused=False, followup_action=None, active_loop={}, latest_action_name="action_listen")


def show_results(sender, screening):
    """The results: the screening's last turn (answered already, so no question is left)."""
    messages, events = run(ActionScreeningTurn(), tracker(sender, "none", "deny",
                                                          {"screening": screening, "stage": "screening"}))
    return {"screening": screening, **{e["name"]: e["value"] for e in events}}, messages


def reply(sender, slots, text, intent="inform"):
    """One patient reply in the contact steps (or to "shall I erase?"): what was said and the new slots."""
    action = ActionEraseTurn() if slots.get("stage") == "erase" else ActionContactTurn()
    messages, events = run(action, tracker(sender, text, intent, slots))
    return [m.get("text") for m in messages], {**slots, **{e["name"]: e["value"] for e in events}}


def stored(model, **where):
    with database().transaction() as session:
        return list(session.scalars(select(model).filter_by(**where)))


def test_results_store_the_screening_and_offer_the_first_study(adult):
    slots, messages = show_results("actions-1", adult)
    assert slots["stage"] == "contact"
    [record] = stored(ScreeningRecord, conversation_id="actions-1")
    assert slots["referral"]["screening_id"] == record.id and slots["referral"]["contact"] == {}
    assert "may contact you?" in messages[-1]["text"]
    assert messages[-1]["buttons"][0]["payload"].startswith('/inform{"choice": "offer:')
    assert messages[-1]["buttons"][-1]["payload"] == '/inform{"choice": "none"}'


def test_consent_and_details_store_one_handoff_with_its_consent_record(adult):
    slots, _ = show_results("actions-2", adult)
    for text in ["1", "yes", "Li Wei", "13800138000", "skip", "evening", "English"]:
        _, slots = reply("actions-2", slots, text)
        assert slots["stage"] == "contact"  # the steps go on
        assert stored(HandoffRecord, contact_name="Li Wei") == []  # nothing stored before the last detail
    said, slots = reply("actions-2", slots, "hydroxychloroquine")
    [handoff] = stored(HandoffRecord, screening_id=slots["referral"]["screening_id"])
    assert (handoff.contact_phone, handoff.contact_email, handoff.language) == ("13800138000", None, "English")
    [consent] = stored(ConsentRecord, conversation_id="actions-2")
    assert consent.version == "2" and "delete my data" in consent.text and consent.accepted_at is not None
    assert "will be sent to the study team" in said[0]


def test_withdraw_words_during_the_contact_steps_erase_everything(adult):
    slots, _ = show_results("actions-3", adult)
    for text in ["1 and 2", "yes", "Li Wei", "13800138000", "skip", "evening", "English", "skip"]:
        _, slots = reply("actions-3", slots, text)
    assert slots["stage"] == "contact"  # the second study's consent is on screen
    said, slots = reply("actions-3", slots, "please delete my data", intent="withdraw")
    assert said == [wording.ERASE_QUESTION] and slots["stage"] == "erase" and slots["erase_from"] == "contact"
    assert stored(ScreeningRecord, conversation_id="actions-3") != []  # nothing erased on the words alone
    said, slots = reply("actions-3", slots, "/affirm", intent="affirm")
    assert said == [wording.ERASED]
    assert slots["erase_conversation"] is True and slots["screening"] is None and slots["stage"] is None
    assert stored(ScreeningRecord, conversation_id="actions-3") == []
    assert stored(ConsentRecord, conversation_id="actions-3") == []


def test_a_name_taken_for_withdraw_by_nlu_is_still_a_name(adult):
    slots, _ = show_results("actions-4", adult)
    for text in ["1", "yes"]:
        _, slots = reply("actions-4", slots, text)
    _, slots = reply("actions-4", slots, "Ren Ying", intent="withdraw")
    assert slots["referral"]["contact"]["name"] == "Ren Ying" and "erase_conversation" not in slots
    assert stored(ScreeningRecord, conversation_id="actions-4") != []


def test_withdraw_asks_first_and_only_a_yes_erases(adult):
    slots, _ = show_results("actions-5", adult)
    slots = {**slots, "stage": None}
    messages, events = run(ActionWithdraw(), tracker("actions-5", "delete my data", "withdraw", slots))
    assert [m["text"] for m in messages] == [wording.ERASE_QUESTION]
    assert [b["title"] for b in messages[0]["buttons"]] == [wording.YES_ERASE, wording.NO_KEEP]
    assert events == [slot("erase_from", None), slot("stage", "erase")]
    slots = {**slots, "stage": "erase"}
    for not_yes in ("no", "wait what?", "I'm not sure", "yes but keep my answers", "/deny"):
        said, after = reply("actions-5", slots, not_yes)
        assert said[0] == wording.NOTHING_ERASED and after["stage"] is None, not_yes
        assert stored(ScreeningRecord, conversation_id="actions-5") != []
    messages, events = run(ActionEraseTurn(), tracker("actions-5", "yes", "affirm", slots))
    assert [m["text"] for m in messages] == [wording.ERASED]
    assert events == [slot("screening", None), slot("referral", None), slot("stage", None),
                      slot("erase_from", None), slot("erase_conversation", True)]
    assert stored(ScreeningRecord, conversation_id="actions-5") == []


def test_not_erasing_goes_back_to_the_question_on_screen(adult, planner):
    screening = Screening(respondent="self", asking=["condition"]).to_json()
    slots = {"screening": screening, "referral": None, "stage": "erase", "erase_from": "screening"}
    said, after = reply("actions-6", slots, "no")
    assert said == [wording.NOTHING_ERASED, Conversation(planner).catalog.facts["condition"].question]
    assert after["stage"] == "screening"


def test_i_forget_is_not_sure_and_never_asks_to_erase(planner):
    conversation = Conversation(planner)
    screening = Screening(respondent="self")
    conversation.ask(screening)
    [fact] = screening.asking
    messages, events = run(ActionScreeningTurn(), tracker("actions-7", "I forget", "withdraw",
                                                          {"screening": screening.to_json(), "stage": "screening"}))
    assert all(e["name"] != "stage" for e in events) and wording.ERASE_QUESTION not in [m.get("text") for m in messages]


def test_asking_for_chinese_at_the_offer_redraws_the_cards_and_asks_the_offer_again_in_chinese(adult):
    slots, messages = show_results("actions-zh-switch", adult)
    english_cards = [m["custom"] for m in messages if m.get("custom")][-1]["results"]
    messages, events = run(ActionContactTurn(), tracker("actions-zh-switch", "请用中文", "nlu_fallback", slots))
    assert slot("language", "zh") in events
    [cards] = [m["custom"]["results"] for m in messages if m.get("custom")]
    assert [c["trial_id"] for c in cards] == [c["trial_id"] for c in english_cards]  # the same results
    assert all(re.search(r"[\u4e00-\u9fff]", c["title"]) and re.search(r"[\u4e00-\u9fff]", c["message"]) for c in cards)
    assert re.search(r"[\u4e00-\u9fff]", messages[-1]["text"]) and messages[-1]["buttons"]  # the offer, in Chinese
    assert [b["payload"] for b in messages[-1]["buttons"]] == [
        b["payload"] for b in show_results("actions-zh-switch-2", adult)[1][-1]["buttons"]]
