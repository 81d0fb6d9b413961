"""Hot spots of the Rasa 3.6 server, found with py-spy under bench/load.py.

- Rasa checks every reply of the action server with `jsonschema.validate(reply,
  schema)`, which first checks the (large) events schema itself, every time: two
  thirds of the server's time under load. Here the schema is checked once and one
  validator is kept; the checks and errors are Rasa's.
- Reading a conversation turns each stored event into an object by looking for its
  class among all subclasses of Event, walked anew for every event: a seventh of the
  server's time. Here the walk is done once per event type name.
- Every call to the action server carries the whole conversation, every event since
  the first message, encoded as JSON twice a turn: a fifth of the server's time by the
  end of a screening. This assistant's actions read the slots, the latest message and
  the events of the current turn (rasa_sdk's form validation reads the slots just set),
  so only the events since the latest user message are sent. An action that needs
  older events must not be added without removing this.
- The loaded model and everything else the server keeps for its lifetime are hundreds
  of MB of objects, which Python's garbage collector walked on every full collection:
  pauses that doubled the p99 latency under load. They are frozen (gc.freeze) when the
  first message arrives, by which time all of it is loaded.
"""
import gc
from functools import lru_cache
from typing import Any, Dict, Optional, Text, Type

import rasa
from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import Event, UserUttered
from rasa.shared.core.trackers import EventVerbosity

_schema = RemoteAction.action_response_format_spec()
_validator_class = validator_for(_schema)
_validator_class.check_schema(_schema)
_validator = _validator_class(_schema)


def validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
    try:
        _validator.validate(result)
        return True
    except ValidationError as error:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response from the Action "
            f"endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions")
        raise error


_resolve_by_type = Event.resolve_by_type


@lru_cache(maxsize=None)
def _event_class(type_name: Text) -> Optional[Type[Event]]:
    try:
        return _resolve_by_type(type_name)
    except ValueError:
        return None


def resolve_by_type(type_name: Text, default: Optional[Type[Event]] = None) -> Optional[Type[Event]]:
    found = _event_class(type_name)
    if found is not None or type_name == "topic":
        return found
    return _resolve_by_type(type_name, default)  # the unknown: Rasa's own answer or error


def events_of_this_turn(tracker) -> list:
    """The events since (and with) the latest user message."""
    events = []
    for event in reversed(tracker.events):
        events.append(event)
        if isinstance(event, UserUttered):
            break
    return events[::-1]


def action_call_format(self: RemoteAction, tracker, domain) -> Dict[Text, Any]:
    state = tracker.current_state(EventVerbosity.NONE)
    state["events"] = [event.as_dict() for event in events_of_this_turn(tracker)]
    result = {"next_action": self._name, "sender_id": tracker.sender_id, "tracker": state,
              "version": rasa.__version__}
    if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(self.name()):
        result["domain"] = domain.as_dict()
    return result


RemoteAction._validate_action_result = validate_action_result
RemoteAction._action_call_format = action_call_format
Event.resolve_by_type = staticmethod(resolve_by_type)


_frozen = False


def freeze_long_lived_objects() -> None:
    """Called by the channels for every message; acts on the first."""
    global _frozen
    if not _frozen:
        gc.freeze()
        _frozen = True
