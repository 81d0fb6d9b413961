"""The screening form's adapters: ask, validate, show results, stop, resume."""
from datetime import date
from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.catalog import CATALOG, CONVERSATION
from actions.channel import intent_of, patient_text, send
from actions.store import database
from prescreen import wording
from prescreen.conversation import Message, Screening
from prescreen.handoff import save_screening
from prescreen.referral import start_referral

DONE = "done"  # the form's one slot, once no question is left


def screening_of(tracker: Tracker) -> Screening:
    return Screening.from_json(tracker.get_slot("screening"))


class ActionAskAnswer(Action):
    """Ask the planner's next question (the form's `action_ask_<slot>`)."""

    def name(self) -> Text:
        return "action_ask_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        screening = screening_of(tracker)
        message = CONVERSATION.ask(screening)
        if message is not None:
            send(dispatcher, [message])
        return [SlotSet("screening", screening.to_json())]


class ValidatePrescreenForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_prescreen_form"

    async def validate_answer(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if tracker.get_slot("requested_slot") is None:
            # The form is only just starting: the message that opened it (a greeting,
            # "go back") was handled already and is not an answer.
            return {"answer": None}
        screening = screening_of(tracker)
        replies = CONVERSATION.receive(screening, patient_text(tracker.latest_message),
                                       intent_of(tracker.latest_message), date.today())
        send(dispatcher, replies)
        finished = CONVERSATION.is_finished(screening)
        return {"answer": DONE if finished else None, "screening": screening.to_json()}


class ActionShowResults(Action):
    """Show the per-trial results, keep them (no contact details yet), and prepare the offers."""

    def name(self) -> Text:
        return "action_show_results"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        screening = screening_of(tracker)
        send(dispatcher, CONVERSATION.results(screening))
        screening_id = save_screening(database(), CATALOG, tracker.sender_id, screening)
        referral = start_referral(CATALOG, screening, screening_id)
        return [SlotSet("referral", referral.to_json()), SlotSet("may_fit", not referral.finished),
                SlotSet("handoff_answer", None)]


class ActionStop(Action):
    """Stop at once; nothing is kept for later steps and nothing is sent anywhere."""

    def name(self) -> Text:
        return "action_stop"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        dispatcher.utter_message(text=wording.STOPPED)
        return [SlotSet("screening", None), SlotSet("answer", None)]


class ActionResumeScreening(Action):
    """After the results: "go back" or "start over" reopens the screening."""

    def name(self) -> Text:
        return "action_resume_screening"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        screening = screening_of(tracker)
        send(dispatcher, CONVERSATION.receive(screening, patient_text(tracker.latest_message),
                                              intent_of(tracker.latest_message), date.today()))
        return [SlotSet("screening", screening.to_json()), SlotSet("answer", None)]


class ActionSideReply(Action):
    """Outside the screening: crisis support, "ask your doctor", "why", or a pointer back."""

    def name(self) -> Text:
        return "action_side_reply"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        intent = intent_of(tracker.latest_message)
        text = tracker.latest_message.get("text") or ""
        if intent == "crisis" or wording.mentions_crisis(text):
            send(dispatcher, [Message(wording.CRISIS_SUPPORT)])
        elif intent == "medical_question":
            send(dispatcher, [Message(wording.ASK_YOUR_DOCTOR)])
        elif intent == "ask_why":
            send(dispatcher, [Message(wording.WHY_IN_GENERAL)])
        else:
            send(dispatcher, [Message(wording.SMALL_TALK.get(intent, wording.NOT_SCREENING_NOW))])
        return []
