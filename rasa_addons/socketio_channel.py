"""Rasa's socketio channel for the patient page, with three faults of Rasa 3.6's fixed.

- Origin check. Rasa creates its socketio server with `cors_allowed_origins=[]`, which
  turns the check off: any web site could open a chat in a visitor's browser. Here
  only the patient page may connect: `allowed_origins` in credentials.yml, else
  PATIENT_PAGE_ORIGINS (comma-separated), else http://127.0.0.1:8080 and
  http://localhost:8080.
- Session rooms. With `session_persistence`, Rasa calls `sio.enter_room()` without
  `await`; in the python-socketio Rasa installs (5.18) that is a coroutine, so the
  browser never joins its session's room and never gets a reply (RasaHQ/rasa#13027).
- Custom messages. Rasa sends a custom JSON message as `emit(event, **message)`, which
  raises TypeError for any key but emit's own and drops the rest of the turn. Here it
  is sent as the event's data, like every other message.
Each message is handled by `safe_reply.handle_message`, like the REST channel's.
"""
import inspect
import json
import logging
import os
import uuid
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from socketio import AsyncServer

from rasa_addons.safe_reply import handle_message

logger = logging.getLogger(__name__)
DEFAULT_ORIGINS = "http://127.0.0.1:8080,http://localhost:8080"
MAX_SESSION_ID = 64


def allowed_origins(configured: Optional[List[Text]] = None) -> List[Text]:
    if configured:
        return [origin.rstrip("/") for origin in configured]
    value = os.environ.get("PATIENT_PAGE_ORIGINS") or DEFAULT_ORIGINS
    return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]


class JsonSocketIOOutput(SocketIOOutput):
    def __init__(self, sio: AsyncServer, bot_message_evt: Text) -> None:
        super().__init__(sio, bot_message_evt)
        self.sent = 0  # how many messages this turn has sent, for safe_reply

    async def _send_message(self, socket_id: Text, response: Any) -> None:
        self.sent += 1
        await super()._send_message(socket_id, response)

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        await self._send_message(recipient_id, json_message)


class SameOriginSocketIOInput(SocketIOInput):
    @classmethod
    def name(cls) -> Text:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = dict(credentials or {})
        origins = credentials.pop("allowed_origins", None)
        channel = super().from_credentials(credentials)
        channel.allowed_origins = allowed_origins(origins)
        return channel

    def get_output_channel(self) -> Optional[OutputChannel]:
        return JsonSocketIOOutput(self.sio, self.bot_message_evt) if self.sio else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        origins = getattr(self, "allowed_origins", None) or allowed_origins()
        # engine.io checks the Origin header of every polling request and websocket
        # handshake against this list, and refuses the others.
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=origins)
        self.sio = sio
        socketio_webhook = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)

        @socketio_webhook.route("/", methods=["GET"])
        async def health(_: Any) -> Any:
            return response.json({"status": "ok"})

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Optional[Dict]) -> None:
            data = data if isinstance(data, dict) else {}
            session_id = data.get("session_id")
            if not isinstance(session_id, str) or not session_id or len(session_id) > MAX_SESSION_ID:
                session_id = uuid.uuid4().hex
            if self.session_persistence:
                entered = sio.enter_room(sid, session_id, namespace=self.namespace)
                if inspect.isawaitable(entered):
                    await entered
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def user_message(sid: Text, data: Dict) -> None:
            if not isinstance(data, dict):
                return
            if self.session_persistence:
                sender_id = data.get("session_id")
                if not isinstance(sender_id, str) or not sender_id or len(sender_id) > MAX_SESSION_ID:
                    logger.warning("A socketio message without a valid session id was ignored.")
                    return
            else:
                sender_id = sid
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = {}
            text = data.get("message")
            output = JsonSocketIOOutput(sio, self.bot_message_evt)
            await handle_message(on_new_message, UserMessage(
                text if isinstance(text, str) else "", output, sender_id,
                input_channel=self.name(), metadata=metadata if isinstance(metadata, dict) else {}),
                lambda: output.sent)

        return socketio_webhook
