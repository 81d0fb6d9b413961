"""Rasa's REST channel (POST /webhooks/rest/webhook), strict about what it accepts.

A body that is not `{"sender": "<1-64 characters>", "message": "<text>"}` (and optionally
`"metadata": {...}`, e.g. `{"language": "zh"}`) gets a 400
with the reason, where Rasa's own channel answers 500 or files every sender-less
message under one shared "default" conversation. Each message is handled by
`safe_reply.handle_message`: too long is refused, and a failure is answered.

The channel is for local tests and integrations, never for patients' browsers: it is
off unless REST_CHANNEL_TOKEN is set, and then every request must carry
`Authorization: Bearer <that token>`. Any sender id is a conversation, so whoever holds
the token can read and continue any conversation: keep it with the operators.
Messages are rate-limited per client address and per conversation (ratelimit.py).
"""
import hmac
import logging
import os
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.exceptions import SanicException

from rasa_addons.ratelimit import SLOW_DOWN, RateLimiter
from rasa_addons.safe_reply import handle_message
from rasa_addons.socketio_channel import capped_metadata

logger = logging.getLogger(__name__)
MAX_SENDER_CHARS = 64


def bearer_ok(header: Optional[str], token: str) -> bool:
    """True when the Authorization header carries exactly this token (never raises)."""
    if not token or not header or not header.lower().startswith("bearer "):
        return False
    return hmac.compare_digest(header[7:].strip().encode("utf-8", "replace"), token.encode("utf-8", "replace"))


class CheckedRestInput(RestInput):
    def __init__(self, token: Optional[str] = None) -> None:
        self.token = token if token is not None else os.environ.get("REST_CHANNEL_TOKEN", "")
        self.limiter = RateLimiter.from_env()

    @classmethod
    def name(cls) -> Text:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "CheckedRestInput":
        return cls((credentials or {}).get("token"))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("checked_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Any) -> Any:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Any) -> Any:
            if not self.token:
                return response.json({"error": "the REST channel is off (set REST_CHANNEL_TOKEN to use it)"},
                                     status=403)
            if not bearer_ok(request.headers.get("authorization"), self.token):
                logger.warning("A REST channel request without the right token was refused (from %s).", request.ip)
                return response.json({"error": "send 'Authorization: Bearer <REST_CHANNEL_TOKEN>'"}, status=401,
                                     headers={"WWW-Authenticate": "Bearer"})
            try:
                body = request.json
            except SanicException:
                body = None
            if not isinstance(body, dict):
                return response.json({"error": "send a JSON object with 'sender' and 'message'"}, status=400)
            sender, text = body.get("sender"), body.get("message")
            if not isinstance(sender, str) or not 0 < len(sender) <= MAX_SENDER_CHARS:
                return response.json({"error": f"'sender' must be text of 1 to {MAX_SENDER_CHARS} characters"},
                                     status=400)
            if not isinstance(text, str):
                return response.json({"error": "'message' must be text"}, status=400)
            if not self.limiter.allow(request.ip, sender):
                return response.json([{"recipient_id": sender, "text": SLOW_DOWN}], status=429,
                                     headers={"Retry-After": "10"})
            collector = CollectingOutputChannel()
            # The metadata travels with the message (`{"language": "zh"}` sets the conversation's language),
            # capped as on the socketio channel.
            message = UserMessage(text, collector, sender, input_channel=self.name(),
                                  metadata=capped_metadata(body.get("metadata")))
            await handle_message(on_new_message, message, lambda: len(collector.messages))
            return response.json(collector.messages)

        return webhook
