"""Translate between Rasa messages and the core's plain texts and buttons.

Buttons carry intents with entities (`/inform{"choice": "sle"}`) so a tap never goes
through NLU guessing; the core sees the same text it would if the patient typed it.
"""
import json
from typing import Any, Dict, List, Text

from rasa_sdk.executor import CollectingDispatcher

from prescreen.i18n import plain
from prescreen.screening.conversation import Message

_INTENT_TEXT = {"affirm": "yes", "deny": "no", "not_sure": "not sure"}
_TEXT_PAYLOAD = {text: f"/{intent}" for intent, text in _INTENT_TEXT.items()}


def patient_text(latest_message: Dict[Text, Any]) -> Text:
    """What the patient said, with a button payload turned back into the core's text."""
    text = latest_message.get("text") or ""
    if not text.startswith("/"):
        return text
    for entity in latest_message.get("entities") or []:
        if entity.get("entity") == "choice":
            return f"choice:{entity.get('value')}"
    return _INTENT_TEXT.get(intent_of(latest_message) or "", text)


def was_tapped(latest_message: Dict[Text, Any]) -> bool:
    """A button press (its payload starts with "/"): taken as it is, with no read-back."""
    return (latest_message.get("text") or "").startswith("/")


def intent_of(latest_message: Dict[Text, Any]) -> Text:
    return ((latest_message.get("intent") or {}).get("name")) or ""


def rasa_payload(payload: Text) -> Text:
    if payload.startswith("choice:"):
        return "/inform" + json.dumps({"choice": payload[len("choice:"):]})
    return _TEXT_PAYLOAD.get(payload, payload)


def send(dispatcher: CollectingDispatcher, messages: List[Message]) -> None:
    """Each message in the conversation's language: texts are translated here, while it is set."""
    for message in messages:
        if message.custom is not None:
            dispatcher.utter_message(json_message=plain(message.custom))
        else:
            buttons = [{"title": str(b["title"]), "payload": rasa_payload(b["payload"])} for b in message.buttons]
            dispatcher.utter_message(text=str(message.text) if message.text is not None else None, buttons=buttons)
