"""Translate between Rasa messages and the core's plain texts and buttons.

Buttons carry intents with entities (`/inform{"choice": "sle"}`) so a tap never goes
through NLU guessing; the core sees the same text it would if the patient typed it.
"""
import json
from typing import Any, Dict, List, Text

from rasa_sdk.executor import CollectingDispatcher

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
    for message in messages:
        if message.custom is not None:
            dispatcher.utter_message(json_message=message.custom)
        else:
            buttons = [{"title": b["title"], "payload": rasa_payload(b["payload"])} for b in message.buttons]
            dispatcher.utter_message(text=message.text, buttons=buttons)
