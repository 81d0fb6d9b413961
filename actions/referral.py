"""After the results: the contact steps (offer, consent, details) and withdrawal."""
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.catalog import CATALOG, REFERRAL
from actions.channel import intent_of, patient_text, send
from actions.screening import CONTACT, screening_of, stage_events
from actions.store import database
from prescreen.screening import wording
from prescreen.screening.commands import says_command
from prescreen.screening.conversation import Message
from prescreen.referral.handoff import create_handoff, erase_conversation
from prescreen.referral.conversation import CONSENT_VERSION, Referral


def referral_of(tracker: Tracker) -> Referral:
    return Referral.from_json(tracker.get_slot("referral"))


class ActionContactTurn(Action):
    """One reply in the contact steps. Every message comes here, so the step itself
    decides what is "stop" or "delete my data": names and emails are easily taken by
    NLU for commands."""

    def name(self) -> Text:
        return "action_contact_turn"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        text, intent = patient_text(tracker.latest_message), intent_of(tracker.latest_message)
        if intent == "withdraw" and says_command(intent, text):
            return [SlotSet(slot, value) for slot, value in withdraw(dispatcher, tracker).items()]
        referral, screening = referral_of(tracker), screening_of(tracker)
        replies, handoff = REFERRAL.receive(referral, text, screening.respondent, intent)
        if handoff is not None:
            create_handoff(database(), CATALOG, tracker.sender_id, referral.screening_id, screening,
                           handoff.trial_id, handoff.contact, CONSENT_VERSION, handoff.consent_text)
        question = REFERRAL.ask(referral, screening.respondent)
        replies.append(question if question is not None else REFERRAL.closing(referral))
        send(dispatcher, replies)
        return [SlotSet("referral", referral.to_json()), *stage_events(tracker, CONTACT if question else None)]


class ActionWithdraw(Action):
    """Erase the screening, answers, contact details, pending deliveries and this conversation."""

    def name(self) -> Text:
        return "action_withdraw"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        return [SlotSet(slot, value) for slot, value in withdraw(dispatcher, tracker).items()]


def withdraw(dispatcher: CollectingDispatcher, tracker: Tracker) -> Dict[Text, Any]:
    """Erase everything stored for this conversation; return the slots that clear it here."""
    erase_conversation(database(), tracker.sender_id)
    send(dispatcher, [Message(wording.ERASED)])
    # The tracker store deletes this conversation's events when it sees the last slot.
    return {"screening": None, "referral": None, "stage": None, "erase_conversation": True}
