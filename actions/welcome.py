from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.catalog import CATALOG
from prescreen.wording import welcome_message


class ActionWelcome(Action):
    """Say what the assistant does, that it is not medical advice, and how to stop.

    A greeting begins a new screening, so earlier answers are cleared.
    """

    def name(self) -> Text:
        return "action_welcome"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(text=welcome_message(CATALOG))
        return [SlotSet("screening", None), SlotSet("answer", None)]
