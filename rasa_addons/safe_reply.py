"""Every patient message gets an answer, and no patient text goes to the logs.

When the action server is down, Rasa logs the failure and carries on without a word
to the patient; when the tracker store is unreachable, Rasa's REST channel logs the
patient's message with the error and answers nothing. Both channels here hand each
message to Rasa through `handle_message`, which tells the patient there is a technical
problem whenever a turn failed or produced no reply (each turn of this assistant says
something), and logs only a digest of the conversation id. A conversation database
that fails is reported, never replaced by a new empty conversation (tracker_store.py).
"""
import hashlib
import logging
import traceback
from typing import Any, Awaitable, Callable, Optional, Text

from rasa.core.channels.channel import OutputChannel, UserMessage

from prescreen.screening.answers import MAX_MESSAGE_CHARS
from prescreen.screening.wording import TECHNICAL_PROBLEM, TOO_LONG
from rasa_addons.speedups import freeze_long_lived_objects
from rasa_addons.tracker_store import TrackerStoreUnavailable

logger = logging.getLogger(__name__)


def conversation_digest(sender_id: Optional[Text]) -> Text:
    return hashlib.sha256((sender_id or "").encode()).hexdigest()[:12]


async def handle_message(on_new_message: Callable[[UserMessage], Awaitable[Any]], message: UserMessage,
                         replies_sent: Callable[[], int]) -> None:
    freeze_long_lived_objects()
    output: OutputChannel = message.output_channel
    if len(message.text or "") > MAX_MESSAGE_CHARS:
        # Refused before NLU: a huge message costs time and memory and is no answer.
        await output.send_text_message(message.sender_id, TOO_LONG)
        return
    before = replies_sent()
    try:
        await on_new_message(message)
    except (Exception, TrackerStoreUnavailable) as error:  # noqa: BLE001 - the patient must hear of any failure
        where = traceback.extract_tb(error.__traceback__)[-1]
        # Type and place only: an exception's message can quote what the patient typed.
        logger.error("A message of conversation %s could not be handled: %s at %s:%s",
                     conversation_digest(message.sender_id), type(error).__name__, where.filename, where.lineno)
        logger.debug("The failure in full", exc_info=True)
        await output.send_text_message(message.sender_id, TECHNICAL_PROBLEM)
        return
    if replies_sent() == before:
        logger.error("No reply to a message of conversation %s (is the action server up?)",
                     conversation_digest(message.sender_id))
        await output.send_text_message(message.sender_id, TECHNICAL_PROBLEM)
