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
- Sessions. Rasa trusts the `session_id` a client sends: any client that knows a
  conversation id could join its room, get its replies and continue it. Here the
  server issues every session: a signed, unguessable token (session_tokens.py) sent in
  `session_confirm`, which the widget keeps and sends again after a reload. A session
  id the server did not issue gets a new session instead; one that another live
  connection owns is refused the same way (after a short grace for the page being
  reloaded to disconnect). Messages go to the conversation this connection owns,
  whatever `session_id` they name.
- Limits. Messages are rate-limited per client address and per conversation
  (ratelimit.py: the patient reads "please slow down"); `metadata` over
  MAX_METADATA_CHARS is dropped (Rasa stores it with every message); engine.io
  refuses packets over MAX_HTTP_BUFFER bytes.
Each message is handled by `safe_reply.handle_message`, like the REST channel's.
"""
import asyncio
import inspect
import json
import logging
import os
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from socketio import AsyncServer

from rasa_addons.ratelimit import SLOW_DOWN, RateLimiter
from rasa_addons.safe_reply import conversation_digest, handle_message
from rasa_addons.session_tokens import SessionTokens

logger = logging.getLogger(__name__)
DEFAULT_ORIGINS = "http://127.0.0.1:8080,http://localhost:8080"
MAX_METADATA_CHARS = 2_000
MAX_HTTP_BUFFER = 16_000  # bytes per engine.io packet: a 500-character message fits many times over
OWNER_GRACE_SECONDS = 3.0  # how long a reloaded page's old connection may take to close


def allowed_origins(configured: Optional[List[Text]] = None) -> List[Text]:
    if configured:
        return [origin.rstrip("/") for origin in configured]
    value = os.environ.get("PATIENT_PAGE_ORIGINS") or DEFAULT_ORIGINS
    return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]


def capped_metadata(metadata: Any) -> Dict[Text, Any]:
    """The message's metadata as a dict, or {} when it is not one or is too big to keep."""
    if isinstance(metadata, str):
        if len(metadata) > MAX_METADATA_CHARS:
            return {}
        try:
            metadata = json.loads(metadata)
        except ValueError:
            return {}
    if not isinstance(metadata, dict):
        return {}
    try:
        size = len(json.dumps(metadata))
    except (TypeError, ValueError):
        return {}
    return metadata if size <= MAX_METADATA_CHARS else {}


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
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=origins, max_http_buffer_size=MAX_HTTP_BUFFER)
        self.sio = sio
        tokens, limiter = SessionTokens(), RateLimiter.from_env()
        owner_of: Dict[Text, Text] = {}  # conversation id -> the connection (sid) that owns it
        conversation_of: Dict[Text, Text] = {}  # sid -> its conversation id
        address_of: Dict[Text, Text] = {}  # sid -> client address
        socketio_webhook = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)

        @socketio_webhook.route("/", methods=["GET"])
        async def health(_: Any) -> Any:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: Text, environ: Dict, auth: Any = None) -> None:
            request = environ.get("sanic.request")
            address_of[sid] = getattr(request, "ip", None) or environ.get("REMOTE_ADDR", "?")

        @sio.on("disconnect", namespace=self.namespace)
        async def disconnect(sid: Text) -> None:
            address_of.pop(sid, None)
            conversation = conversation_of.pop(sid, None)
            if conversation is not None and owner_of.get(conversation) == sid:
                del owner_of[conversation]

        async def owned_elsewhere(conversation: Text, sid: Text) -> bool:
            """True while another connection owns the conversation, after a short grace."""
            waited = 0.0
            while owner_of.get(conversation) not in (None, sid):
                if waited >= OWNER_GRACE_SECONDS:
                    return True
                await asyncio.sleep(0.1)
                waited += 0.1
            return False

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Optional[Dict]) -> None:
            data = data if isinstance(data, dict) else {}
            asked = data.get("session_id")
            conversation = tokens.conversation_of(asked)
            if conversation is not None and await owned_elsewhere(conversation, sid):
                logger.warning("A second connection asked for conversation %s; it got a new session.",
                               conversation_digest(conversation))
                conversation = None
            elif conversation is None and asked:
                logger.info("A session id this server did not issue was refused; a new session was issued.")
            if conversation is None:
                token, conversation = tokens.issue()
            else:
                token = asked
            previous = conversation_of.get(sid)
            if previous is not None and previous != conversation:
                if owner_of.get(previous) == sid:
                    del owner_of[previous]
                left = sio.leave_room(sid, previous, namespace=self.namespace)
                if inspect.isawaitable(left):
                    await left
            owner_of[conversation], conversation_of[sid] = sid, conversation
            entered = sio.enter_room(sid, conversation, namespace=self.namespace)
            if inspect.isawaitable(entered):
                await entered
            await sio.emit("session_confirm", token, room=sid, namespace=self.namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def user_message(sid: Text, data: Dict) -> None:
            if not isinstance(data, dict):
                return
            sender_id = conversation_of.get(sid)
            if sender_id is None or owner_of.get(sender_id) != sid:
                logger.warning("A socketio message from a connection without a session was ignored.")
                return
            output = JsonSocketIOOutput(sio, self.bot_message_evt)
            if not limiter.allow(address_of.get(sid), sender_id):
                await output.send_text_message(sender_id, SLOW_DOWN)
                return
            text = data.get("message")
            await handle_message(on_new_message, UserMessage(
                text if isinstance(text, str) else "", output, sender_id,
                input_channel=self.name(), metadata=capped_metadata(data.get(self.metadata_key))),
                lambda: output.sent)

        return socketio_webhook
