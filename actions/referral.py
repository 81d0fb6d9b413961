"""After the results: the contact form (offer, consent, details) and withdrawal."""
from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.catalog import CATALOG
from actions.channel import intent_of, patient_text, send
from actions.screening import screening_of
from actions.store import database
from prescreen import wording
from prescreen.commands import says_command
from prescreen.conversation import Message
from prescreen.handoff import create_handoff, erase_conversation
from prescreen.referral import CONSENT_VERSION, Referral, ReferralConversation

REFERRAL = ReferralConversation(CATALOG)


def referral_of(tracker: Tracker) -> Referral:
    return Referral.from_json(tracker.get_slot("referral"))


class ActionAskHandoffAnswer(Action):
    def name(self) -> Text:
        return "action_ask_handoff_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        message = REFERRAL.ask(referral_of(tracker), screening_of(tracker).respondent)
        if message is not None:
            send(dispatcher, [message])
        return []


class ValidateHandoffForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_handoff_form"

    async def validate_handoff_answer(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        referral = referral_of(tracker)
        if tracker.get_slot("requested_slot") is None:
            return {"handoff_answer": "done" if referral.finished else None}  # the results' message is no answer
        text, intent = patient_text(tracker.latest_message), intent_of(tracker.latest_message)
        if intent == "withdraw" and says_command(intent, text):
            return {"handoff_answer": "done", **withdraw(dispatcher, tracker)}
        screening = screening_of(tracker)
        replies, handoff = REFERRAL.receive(referral, text, screening.respondent, intent)
        if handoff is not None:
            create_handoff(database(), CATALOG, tracker.sender_id, referral.screening_id, screening,
                           handoff.trial_id, handoff.contact, CONSENT_VERSION, handoff.consent_text)
        if referral.finished:
            replies.append(REFERRAL.closing(referral))
        send(dispatcher, replies)
        return {"handoff_answer": "done" if referral.finished else None, "referral": referral.to_json()}


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
    return {"screening": None, "referral": None, "answer": None, "erase_conversation": True}
