"""The patient page: `python -m web.patient` (started by `make run`), on 127.0.0.1:8080.

One page: the studies in plain words (from trials/), a short privacy notice, and the
chat widget connected to Rasa's socketio channel. This process serves nothing else,
so it is the one to expose to patients; the staff pages live in another process.
"""
from __future__ import annotations

import logging
import os
from urllib.parse import urlparse

from sanic import Sanic, response

from prescreen.screening.trials import load_catalog
from web.pages import TEMPLATES

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATIC = os.path.join(os.path.dirname(__file__), "static")
WIDGET = "vendor/rasa-webchat-1.0.1.js"


def page_policy(socket_url: str) -> str:
    """Scripts only from here; connections only to the Rasa server. The widget sets
    inline styles and uses data: images, which is all it is allowed beyond that."""
    rasa = urlparse(socket_url)
    ws = rasa._replace(scheme="wss" if rasa.scheme == "https" else "ws").geturl().rstrip("/")
    return (f"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "font-src 'self' data:; "
            f"connect-src 'self' {socket_url.rstrip('/')} {ws}; frame-ancestors 'none'; form-action 'none'; "
            "base-uri 'none'; object-src 'none'")


def create_app(catalog, socket_url: str, name: str = "prescreen_patient", https: bool | None = None) -> Sanic:
    https = os.environ.get("PATIENT_HTTPS", "0") == "1" if https is None else https
    app = Sanic(name)
    app.config.REQUEST_MAX_SIZE = 10_000  # the page takes no uploads
    if not os.path.exists(os.path.join(STATIC, WIDGET)):
        raise SystemExit(f"web/static/{WIDGET} is missing: run scripts/fetch-webchat (make run does)")
    places = sorted({site.city for trial in catalog.trials for site in trial.sites})
    html = TEMPLATES.get_template("patient.html.j2").render(trials=catalog.trials, places=places,
                                                           socket_url=socket_url, widget=WIDGET)
    policy = page_policy(socket_url)

    @app.get("/")
    async def page(request):
        return response.html(html)

    for asset in ("patient.css", "patient.js", WIDGET):
        app.static(f"/static/{asset}", os.path.join(STATIC, asset), name=asset.replace("/", "_").replace(".", "_"))

    @app.on_response
    async def headers(request, reply):
        reply.headers["Content-Security-Policy"] = policy
        reply.headers["X-Content-Type-Options"] = "nosniff"
        reply.headers["Referrer-Policy"] = "no-referrer"
        reply.headers["X-Frame-Options"] = "DENY"
        if https or request.scheme == "https":
            reply.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"

    return app


def main() -> None:
    os.umask(0o077)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    host, port = os.environ.get("PATIENT_HOST", "127.0.0.1"), int(os.environ.get("PATIENT_PORT", "8080"))
    socket_url = os.environ.get("PATIENT_SOCKET_URL") or f"http://127.0.0.1:{os.environ.get('RASA_PORT', '5005')}"
    catalog = load_catalog(os.environ.get("PRESCREEN_TRIALS_DIR") or os.path.join(ROOT, "trials"))
    create_app(catalog, socket_url).run(host=host, port=port, access_log=False, motd=False, workers=1)


if __name__ == "__main__":
    main()
