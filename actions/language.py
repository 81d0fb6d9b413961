"""The conversation's language, decided once per message, and the base of every turn action.

English or Simplified Chinese, in one deployment: the language travels with the
conversation in the `language` slot. A message can set it: channel metadata
(`{"language": "zh"}`), or asking for it ("请用中文", "English please"), and the first
message decides when nothing else has (a conversation that opens with "你好" is in
Chinese). Every turn action runs inside `i18n.using(language)`, so the core's texts and
the trial data read in that language.
"""
import re
from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from prescreen.i18n import normal_language, using
from prescreen.screening.chinese import has_chinese

_ASKS_FOR = {
    "zh": re.compile(r"^\s*(请|请你|可以|能不能|麻烦)?\s*(用|说|讲|改用|换成|换)?\s*(中文|汉语|普通话|简体中文)\s*(吧|好吗|可以吗|说)?\s*[。！!?？]*\s*$"
                     r"|^\s*(in )?chinese( please)?\s*[.!]*\s*$|(speak|use|switch to|write in) chinese", re.I),
    "en": re.compile(r"^\s*(in )?english( please)?\s*[.!]*\s*$|(speak|use|switch to|write in) english"
                     r"|^\s*(请|请你|可以)?\s*(用|说|讲|改用|换成|换)\s*(英文|英语)", re.I),
}


def asked_for_language(text: Optional[Text]) -> Optional[Text]:
    """"请用中文" -> "zh", "English please" -> "en"; None when the message asks for no language."""
    return next((language for language, pattern in _ASKS_FOR.items() if pattern.search(text or "")), None)


def conversation_language(tracker: Tracker) -> Tuple[Text, bool]:
    """(the language of this turn, whether this message asked to change it)."""
    message = tracker.latest_message or {}
    text = message.get("text") or ""
    referral = tracker.get_slot("referral") or {}
    # At "Which language would you like them to use?", "English please" answers the question.
    asked = None if referral.get("step") in ("language", "language_other") else asked_for_language(text)
    if asked:
        return asked, asked != tracker.get_slot("language")
    metadata = message.get("metadata") or {}
    given = normal_language(metadata.get("language")) if isinstance(metadata, dict) else None
    if given:
        return given, False
    if tracker.get_slot("language"):
        return tracker.get_slot("language"), False
    return ("zh" if has_chinese(text) else "en"), False


class TurnAction(Action, ABC):
    """An action that answers in the conversation's language. Subclasses write `turn`."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        language, switched = conversation_language(tracker)
        with using(language):
            if switched:
                from actions.screening import repeat_question  # the stages' questions live there

                events = repeat_question(dispatcher, tracker)
            else:
                events = await self.turn(dispatcher, tracker, domain)
        if tracker.get_slot("language") != language and not any(
                e.get("name") == "erase_conversation" for e in events):
            events = [*events, SlotSet("language", language)]
        return events

    @abstractmethod
    async def turn(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        """One message, answered in the conversation's language."""
