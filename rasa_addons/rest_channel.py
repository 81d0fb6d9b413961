"""Rasa's REST channel (POST /webhooks/rest/webhook), strict about what it accepts.

A body that is not `{"sender": "<1-64 characters>", "message": "<text>"}` gets a 400
with the reason, where Rasa's own channel answers 500 or files every sender-less
message under one shared "default" conversation. Each message is handled by
`safe_reply.handle_message`: too long is refused, and a failure is answered.
"""
from typing import Any, Awaitable, Callable, Text

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.exceptions import SanicException

from rasa_addons.safe_reply import handle_message

MAX_SENDER_CHARS = 64


class CheckedRestInput(RestInput):
    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("checked_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Any) -> Any:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Any) -> Any:
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
            collector = CollectingOutputChannel()
            await handle_message(on_new_message, UserMessage(text, collector, sender, input_channel=self.name()),
                                 lambda: len(collector.messages))
            return response.json(collector.messages)

        return webhook
