"""The action server, with its shared secret: `python -m actions.auth --port 5055`.

rasa_sdk's own server runs any action for anyone who can reach its port, with any
conversation id and any slots: a forged call could erase a conversation or hand
another's screening to a site. This runs the same server (rasa_sdk.endpoint.create_app)
and refuses every call to /webhook and /actions without
`Authorization: Bearer <ACTION_SERVER_TOKEN>`, which the Rasa server sends (the
`headers:` of the action endpoint in endpoints.yml). It will not start without the
setting, and it binds 127.0.0.1 unless SANIC_HOST says otherwise. /health stays open.
"""
from __future__ import annotations

import argparse
import hmac
import logging
import os
import sys

from rasa_sdk.endpoint import create_app
from sanic import response

logger = logging.getLogger("actions.auth")
OPEN_PATHS = {"/health"}


def authorized(header: str | None, token: str) -> bool:
    """True when the header carries exactly `Bearer <token>`; never raises."""
    if not token or not header or not header.lower().startswith("bearer "):
        return False
    return hmac.compare_digest(header[7:].strip().encode("utf-8", "replace"), token.encode("utf-8", "replace"))


def secured_app(token: str, package: str = "actions"):
    if not token:
        raise ValueError("ACTION_SERVER_TOKEN is empty")
    app = create_app(package, cors_origins=None)

    @app.on_request
    async def check_secret(request):
        if request.path in OPEN_PATHS:
            return None
        if not authorized(request.headers.get("authorization"), token):
            logger.warning("An action call without the shared secret was refused (from %s).", request.ip)
            return response.json({"error": "unauthorized"}, status=401)
        return None

    @app.exception(Exception)
    async def failed(request, exception):
        # rasa_sdk's own handler echoes the request body (patient answers) back and into the log.
        logger.error("An action failed: %s", type(exception).__name__)
        return response.json({"error": "the action failed"}, status=500)

    return app


def main(argv: list[str] | None = None) -> int:
    os.umask(0o077)
    parser = argparse.ArgumentParser(prog="python -m actions.auth")
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--actions", default="actions")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    token = os.environ.get("ACTION_SERVER_TOKEN", "")
    if not token:
        print("ACTION_SERVER_TOKEN is not set: the action server needs its shared secret (scripts/run-assistant "
              "makes one).", file=sys.stderr)
        return 2
    app = secured_app(token, args.actions)
    app.run(os.environ.get("SANIC_HOST", "127.0.0.1"), args.port, access_log=False, motd=False, workers=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
