"""The screening's adapters: one action per patient message.

The `stage` slot says where a conversation is: "screening" (questions), "contact" (the
offers, consent and contact details after the results, see referral.py), "erase" (asking
for an explicit yes before erasing, see referral.py) or none.
While a stage lasts, the rules send every message to that stage's turn action, which
reads the answer, says what the core says, and asks the next question, in one call.
"""
from datetime import date
from typing import Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.language import TurnAction
from actions.catalog import CATALOG, CONVERSATION, REFERRAL
from actions.channel import intent_of, patient_text, send, was_tapped
from actions.store import database
from prescreen.screening import wording
from prescreen.screening.commands import command_of
from prescreen.screening.conversation import Message, Screening, button
from prescreen.referral.handoff import save_screening
from prescreen.referral.conversation import start_referral

SCREENING, CONTACT, ERASE = "screening", "contact", "erase"
# Tells the patient page to drop the result cards: the answers they came from are changing.
CLEAR_RESULTS = Message(custom={"results": []})


def screening_of(tracker: Tracker) -> Screening:
    return Screening.from_json(tracker.get_slot("screening"))


def continue_screening(tracker: Tracker, screening: Screening, replies: List[Message]) -> tuple:
    """After a message: the next question, or the results and the first offer to be
    contacted. Returns what to say and the events."""
    question = CONVERSATION.ask(screening)
    if question is not None:
        return [*replies, question], screening_events(tracker, screening, SCREENING)
    replies = [*replies, *CONVERSATION.results(screening, date.today())]
    screening_id = save_screening(database(), CATALOG, tracker.sender_id, screening)
    referral = start_referral(CATALOG, screening, screening_id)
    offer = REFERRAL.ask(referral, screening.respondent)
    if offer is not None:
        replies.append(offer)
    return replies, screening_events(tracker, screening, CONTACT if offer else None, referral.to_json())


def screening_events(tracker: Tracker, screening: Screening, stage: Optional[Text],
                     referral: Optional[dict] = None) -> List[Dict]:
    events = [SlotSet("screening", screening.to_json()), SlotSet("referral", referral)]
    return events + stage_events(tracker, stage)


def stage_events(tracker: Tracker, stage: Optional[Text]) -> List[Dict]:
    """`stage` is set only when it changes (the rules list each change)."""
    return [] if tracker.get_slot("stage") == stage else [SlotSet("stage", stage)]


class ActionWelcome(TurnAction):
    """Say what the assistant does, that it is not medical advice, and how to stop; then
    ask the first question. A greeting begins a new screening: earlier answers are cleared."""

    def name(self) -> Text:
        return "action_welcome"

    async def turn(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        replies, events = continue_screening(tracker, Screening(), [Message(wording.welcome_message(CATALOG))])
        send(dispatcher, replies)
        return events


class ActionScreeningTurn(TurnAction):
    """One answer during the screening (or "why?", "go back", crisis words, ...); after
    the results, "go back" and "start over" come here too and reopen the screening."""

    def name(self) -> Text:
        return "action_screening_turn"

    async def turn(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        text, intent, tapped = patient_text(tracker.latest_message), intent_of(tracker.latest_message), \
            was_tapped(tracker.latest_message)
        command = None if tapped else command_of(intent, text)
        if command == "withdraw" and not wording.mentions_crisis(text):  # NLU missed it; the words say it
            return ask_to_erase(dispatcher, tracker)
        if command == "stop" and not wording.mentions_crisis(text):
            return stop(dispatcher, tracker)
        screening = screening_of(tracker)
        replies = CONVERSATION.receive(screening, text, intent, date.today(), tapped=tapped)
        if tracker.get_slot("stage") != SCREENING:  # reopened after the results: the old cards go
            replies = [CLEAR_RESULTS, *replies]
        replies, events = continue_screening(tracker, screening, replies)
        send(dispatcher, replies)
        return events


class ActionStop(TurnAction):
    """Stop at once; nothing is kept for later steps and nothing is sent anywhere."""

    def name(self) -> Text:
        return "action_stop"

    async def turn(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        return stop(dispatcher, tracker)


def stop(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[Dict]:
    text = tracker.latest_message.get("text") or ""
    if wording.mentions_crisis(text):  # "I want to end it all" is taken for "stop" by NLU: support comes first
        if tracker.get_slot("stage") != SCREENING:
            send(dispatcher, [Message(wording.CRISIS_SUPPORT)])
            return []
        screening = screening_of(tracker)
        screening.paused = True
        send(dispatcher, [Message(wording.CRISIS_SUPPORT), CONVERSATION.ask(screening)])
        return [SlotSet("screening", screening.to_json())]
    send(dispatcher, [Message(wording.STOPPED)])  # a plain string in the conversation's language
    return [SlotSet("screening", None), SlotSet("referral", None), *stage_events(tracker, None)]


def repeat_question(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[Dict]:
    """The patient asked for another language: say so, and ask the question on screen again in it."""
    stage = tracker.get_slot("stage")
    replies = [Message(wording.LANGUAGE_CHANGED)]
    if stage == SCREENING:
        screening = screening_of(tracker)
        question = CONVERSATION.ask(screening)
        send(dispatcher, [*replies, *([question] if question else [])])
        return [SlotSet("screening", screening.to_json())]
    if stage == CONTACT:
        from actions.referral import referral_of

        screening = screening_of(tracker)
        question = REFERRAL.ask(referral_of(tracker), screening.respondent)
        # The result cards again, in the new language (the page redraws them); not the results' chat text.
        cards = [m for m in CONVERSATION.results(screening) if m.custom is not None]
        send(dispatcher, [*replies, *cards, *([question] if question else [])])
        return []
    if stage == ERASE:
        send(dispatcher, [*replies, Message(wording.ERASE_QUESTION, [button(wording.YES_ERASE, "yes"),
                                                                      button(wording.NO_KEEP, "no")])])
        return []
    send(dispatcher, [*replies, Message(wording.NOT_SCREENING_NOW)])
    return []


def ask_to_erase(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[Dict]:
    """Erasure needs an explicit yes to a question that says what will be erased."""
    if wording.mentions_crisis(tracker.latest_message.get("text") or ""):
        send(dispatcher, [Message(wording.CRISIS_SUPPORT)])
        return []
    send(dispatcher, [Message(wording.ERASE_QUESTION, [button(wording.YES_ERASE, "yes"), button(wording.NO_KEEP, "no")])])
    return [SlotSet("erase_from", tracker.get_slot("stage")), *stage_events(tracker, ERASE)]


class ActionSideReply(TurnAction):
    """Outside the screening: crisis support, "ask your doctor", "why", or a pointer back."""

    def name(self) -> Text:
        return "action_side_reply"

    async def turn(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        intent = intent_of(tracker.latest_message)
        text = tracker.latest_message.get("text") or ""
        if wording.is_crisis(intent, text):
            send(dispatcher, [Message(wording.CRISIS_SUPPORT)])
        elif intent == "medical_question":
            send(dispatcher, [Message(wording.ASK_YOUR_DOCTOR)])
        elif intent == "ask_why":
            send(dispatcher, [Message(wording.WHY_IN_GENERAL)])
        else:
            send(dispatcher, [Message(wording.SMALL_TALK.get(intent, wording.NOT_SCREENING_NOW))])
        return []
