"""After the results: the contact steps (offer, consent, details) and withdrawal."""
from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.language import TurnAction
from actions.catalog import CATALOG, CONVERSATION, REFERRAL
from actions.channel import intent_of, patient_text, send, was_tapped
from actions.screening import CLEAR_RESULTS, CONTACT, SCREENING, ask_to_erase, continue_screening, screening_of, stage_events
from actions.store import database
from prescreen.screening import wording
from prescreen.screening.conversation import Message, button
from prescreen.screening.polarity import plain_yes
from prescreen.referral.handoff import create_handoff, erase_conversation
from prescreen.referral.conversation import Referral


def referral_of(tracker: Tracker) -> Referral:
    return Referral.from_json(tracker.get_slot("referral"))


class ActionContactTurn(TurnAction):
    """One reply in the contact steps. Every message comes here, so the step itself
    decides what is "stop" or "delete my data": names and emails are easily taken by
    NLU for commands."""

    def name(self) -> Text:
        return "action_contact_turn"

    async def turn(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        text, intent = patient_text(tracker.latest_message), intent_of(tracker.latest_message)
        referral, screening = referral_of(tracker), screening_of(tracker)
        turn = REFERRAL.receive(referral, text, screening.respondent, intent, tapped=was_tapped(tracker.latest_message))
        if turn.leave == "withdraw":
            return ask_to_erase(dispatcher, tracker)
        if turn.leave in ("screening", "start_over"):
            replies = [CLEAR_RESULTS, Message(CONVERSATION.go_back(screening))] if turn.leave == "screening" else \
                [CLEAR_RESULTS, Message(wording.STARTING_OVER_AFTER_CONSENT if referral.consented else wording.STARTING_OVER)]
            if turn.leave == "start_over":
                screening.clear()
            replies, events = continue_screening(tracker, screening, replies)
            send(dispatcher, replies)
            return events
        if turn.handoff is not None:
            # The consent record keeps the language the patient read the consent in, and its version.
            create_handoff(database(), CATALOG, tracker.sender_id, referral.screening_id, screening,
                           turn.handoff.trial_id, turn.handoff.contact, turn.handoff.consent_version,
                           turn.handoff.consent_text, consent_language=turn.handoff.consent_language)
        replies = turn.messages
        question = REFERRAL.ask(referral, screening.respondent)
        if turn.leave != "stop":
            replies.append(question if question is not None else REFERRAL.closing(referral))
        send(dispatcher, replies)
        return [SlotSet("referral", referral.to_json()), *stage_events(tracker, CONTACT if question else None)]


class ActionWithdraw(TurnAction):
    """"Delete my data": first ask for an explicit yes, saying what will be erased."""

    def name(self) -> Text:
        return "action_withdraw"

    async def turn(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        return ask_to_erase(dispatcher, tracker)


class ActionEraseTurn(TurnAction):
    """The reply to "Shall I erase ...?": only an explicit yes erases; anything else keeps
    everything and goes back to where the patient was."""

    def name(self) -> Text:
        return "action_erase_turn"

    async def turn(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        text, intent = patient_text(tracker.latest_message), intent_of(tracker.latest_message)
        if wording.is_crisis(intent, text):
            send(dispatcher, [Message(wording.CRISIS_SUPPORT), ERASE_AGAIN])
            return []
        if plain_yes(text):
            return [SlotSet(slot, value) for slot, value in withdraw(dispatcher, tracker).items()]
        back_to = tracker.get_slot("erase_from")
        replies = [Message(wording.NOTHING_ERASED)]
        screening = screening_of(tracker)
        if back_to == SCREENING:
            replies, events = continue_screening(tracker, screening, replies)
            send(dispatcher, replies)
            return [SlotSet("erase_from", None), *events]
        if back_to == CONTACT:
            question = REFERRAL.ask(referral_of(tracker), screening.respondent)
            if question is not None:
                replies.append(question)
                send(dispatcher, replies)
                return [SlotSet("erase_from", None), *stage_events(tracker, CONTACT)]
        replies.append(Message(wording.NOT_SCREENING_NOW))
        send(dispatcher, replies)
        return [SlotSet("erase_from", None), *stage_events(tracker, None)]


ERASE_AGAIN = Message(wording.ERASE_QUESTION, [button(wording.YES_ERASE, "yes"), button(wording.NO_KEEP, "no")])


def withdraw(dispatcher: CollectingDispatcher, tracker: Tracker) -> Dict[Text, Any]:
    """Erase everything stored for this conversation; return the slots that clear it here."""
    erase_conversation(database(), tracker.sender_id)
    send(dispatcher, [Message(wording.ERASED)])
    # The tracker store deletes this conversation's events when it sees the last slot.
    return {"screening": None, "referral": None, "stage": None, "erase_from": None, "erase_conversation": True}
