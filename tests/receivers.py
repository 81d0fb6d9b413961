"""Real local receivers for delivery tests: an HTTP webhook server and an SMTP server."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

from servers import free_port


class WebhookReceiver:
    """Records every request; accepts each idempotency key once, like a careful site would.

    `fail_next` makes the next N requests answer 500; `delay` makes each request wait.
    """

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.requests: list[dict] = []
        self.accepted: dict[str, dict] = {}
        self.fail_next = 0
        self.delay = 0.0
        self._server = None
        self._thread = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/handoffs"

    def start(self) -> "WebhookReceiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                key = self.headers.get("Idempotency-Key")
                receiver.requests.append({"key": key, "signature": self.headers.get("X-Prescreen-Signature"),
                                          "body": body})
                if receiver.delay:
                    time.sleep(receiver.delay)
                if receiver.fail_next > 0:
                    receiver.fail_next -= 1
                    self.send_response(500)
                    self.end_headers()
                    return
                receiver.accepted.setdefault(key, json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class MailReceiver:
    """An aiosmtpd server on loopback that keeps every message it gets."""

    def __init__(self):
        self.messages: list[bytes] = []
        receiver = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
                receiver.messages.append(envelope.content)
                return "250 OK"

        self.port = free_port()
        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self) -> "MailReceiver":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()
