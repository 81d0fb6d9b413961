"""The web process: `python -m web.app` (started by `make run`), on 127.0.0.1:8000 by default.

It serves the staff pages and the JSON API, and runs the delivery relay as a task
(RELAY_IN_WEB=0 turns that off, for a relay run on its own: `python -m prescreen.referral.relay`).
"""
from __future__ import annotations

import logging
import os

from sanic import Sanic, response

from prescreen.referral.relay import from_env
from prescreen.staff.accounts import LoginThrottle
from prescreen.staff.retention import retention_loop
from prescreen.storage import Database, TrackerEvents, private_files
from prescreen.screening.trials import load_catalog
from web.api import api
from web.settings import WebSettings
from web.staff import staff

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# No page of ours is framed by another site, runs another site's script, or posts elsewhere.
PAGE_POLICY = "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"


def create_app(db: Database, catalog, settings: WebSettings, name: str = "prescreen_web") -> Sanic:
    app = Sanic(name)
    app.config.REQUEST_MAX_SIZE = 1_000_000
    app.config.FORWARDED_SECRET = None
    app.ctx.db, app.ctx.catalog, app.ctx.settings = db, catalog, settings
    app.ctx.trial_ids = {t.id for t in catalog.trials}
    app.ctx.throttle = LoginThrottle()  # failed sign-ins slow down their address (prescreen.staff.accounts)
    app.blueprint(staff)
    app.blueprint(api)
    app.static("/static", os.path.join(os.path.dirname(__file__), "static"), name="static")

    @app.get("/")
    async def home(request):
        return response.redirect("/staff/")

    @app.on_response
    async def security_headers(request, reply):
        reply.headers.setdefault("Content-Security-Policy", PAGE_POLICY)
        reply.headers.setdefault("X-Content-Type-Options", "nosniff")
        reply.headers.setdefault("Referrer-Policy", "same-origin")  # never to others; ours keep Origin
        reply.headers.setdefault("X-Frame-Options", "DENY")  # for browsers that ignore frame-ancestors
        if settings.https or request.scheme == "https":
            reply.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.path.startswith(("/staff", "/api")):
            reply.headers["Cache-Control"] = "no-store"  # patient data stays out of caches

    return app


def main() -> None:
    private_files()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = WebSettings.from_env()
    db = Database()
    db.create_schema()
    catalog = load_catalog(os.environ.get("PRESCREEN_TRIALS_DIR") or os.path.join(ROOT, "trials"))
    app = create_app(db, catalog, settings)
    if os.environ.get("RELAY_IN_WEB", "1") == "1":
        relay, poll = from_env(db)
        app.add_task(relay.run_in_loop(poll))
        logging.getLogger("prescreen.referral.relay").info("relay started in the web process")
    # Retention: screenings without consent and old conversations go after RETENTION_DAYS (README, Security).
    app.add_task(retention_loop(db, TrackerEvents(), float(os.environ.get("RETENTION_INTERVAL_SECONDS", 3600))))
    # access_log off: URLs can carry filters, and request lines are no place for patient data.
    app.run(host=settings.host, port=settings.port, access_log=False, motd=False, workers=1)


if __name__ == "__main__":
    main()
