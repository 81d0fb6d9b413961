"""Signed session tokens for the patient page's socketio channel.

A token is `<conversation id>.<signature>`: 32 random hex digits chosen by the server,
and an HMAC-SHA256 of them under PATIENT_SESSION_SECRET. Only the server can make one,
so a client can continue only a conversation whose token it was given; the
conversation id alone (as stored in databases) opens nothing. Without the setting a
random key is made at start-up, and tokens end with the process (`make run` keeps a
key in var/secrets.env, so a restart keeps conversations going).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import re
import secrets
from typing import Optional

logger = logging.getLogger(__name__)
_CONVERSATION = re.compile(r"^[0-9a-f]{32}$")
MAX_TOKEN_CHARS = 128


class SessionTokens:
    def __init__(self, secret: Optional[str] = None):
        secret = secret if secret is not None else os.environ.get("PATIENT_SESSION_SECRET")
        if not secret:
            logger.warning("PATIENT_SESSION_SECRET is not set: patient sessions end when this server stops.")
            secret = secrets.token_urlsafe(32)
        self._key = hashlib.sha256(("prescreen-session:" + secret).encode()).digest()

    def _sign(self, conversation_id: str) -> str:
        digest = hmac.new(self._key, conversation_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def issue(self) -> tuple[str, str]:
        """(token, conversation id) for a new conversation."""
        conversation_id = secrets.token_hex(16)
        return f"{conversation_id}.{self._sign(conversation_id)}", conversation_id

    def conversation_of(self, token: object) -> Optional[str]:
        """The conversation id a token opens, or None for anything this server did not issue."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
            return None
        conversation_id, signature = token.split(".")
        if not _CONVERSATION.match(conversation_id):
            return None
        # Both sides ASCII bytes: compare_digest raises on non-ASCII str.
        if not hmac.compare_digest(signature.encode("utf-8", "replace"), self._sign(conversation_id).encode()):
            return None
        return conversation_id
