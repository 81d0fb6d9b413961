"""An NLU step after the intent classifier: a command needs its words.

"stop" ends a screening and "delete my data" asks to erase it, so a guess by the
classifier is not enough: when the top intent is a command (prescreen.screening.commands) and
the message has none of its words, or is a "not sure" ("I forget"), the next intent in the
ranking that fits takes its place; a message that is plainly a command phrase ("go back
please") gets that command. Button payloads ("/stop") never reach this step's judgement.
"""
from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from prescreen.screening.commands import COMMANDS, command_of, plain_command


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class CommandWordsGuard(GraphComponent):
    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "CommandWordsGuard":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            intent = message.get(INTENT) or {}
            if text.startswith("/"):
                continue
            plain = plain_command(text)
            if plain and intent.get(INTENT_NAME_KEY) != plain:
                top = {INTENT_NAME_KEY: plain, "confidence": 1.0}
                ranking = [top] + [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != plain]
                message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
                message.set(INTENT, dict(top), add_to_output=True)
                continue
            if _counts(intent.get(INTENT_NAME_KEY), text):
                continue
            ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if _counts(r.get(INTENT_NAME_KEY), text)]
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
            message.set(INTENT, dict(ranking[0]) if ranking else {INTENT_NAME_KEY: None, "confidence": 0.0},
                        add_to_output=True)
        return messages


def _counts(intent: Any, text: Text) -> bool:
    return intent not in COMMANDS or command_of(intent, text) == intent
