"""The patient page: `python -m web.patient` (started by `make run`), on 127.0.0.1:8080.

One page: the studies in plain words (from trials/), a short privacy notice, and the
chat widget connected to Rasa's socketio channel. This process serves nothing else,
so it is the one to expose to patients; the staff pages live in another process.

The page is in English or Simplified Chinese (its texts are in the "page" catalog; the
trial data's own texts have their Chinese fields). The language is the one the patient
chose with the 中文 / English switch (`/?lang=zh`, remembered in a session cookie), else
the browser's (Accept-Language). The page tells the chat its language: with every
message (the widget's customData) and, when the patient switches mid-conversation, by
asking for it in words ("请用中文" / "English please", web/static/patient.js).
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from urllib.parse import urlparse

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from sanic import Sanic, response

from prescreen import i18n
from prescreen.i18n import _
from prescreen.screening import wording
from prescreen.screening.trials import load_catalog

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATIC = os.path.join(os.path.dirname(__file__), "static")
WIDGET = "vendor/rasa-webchat-1.0.1.js"
LANGUAGE_COOKIE = "prescreen_language"
HTML_LANG = {"en": "en", "zh": "zh-CN"}  # the page's <html lang>
# The first message of a new conversation (not shown): in English the greeting intent; in
# Chinese a greeting in Chinese, so the assistant answers in Chinese from its first message.
START = {"en": "/greet", "zh": "你好"}

# The patient page's own environment: autoescape on (nothing from the data becomes
# markup) and the one i18n mechanism (prescreen.i18n); rendered inside i18n.using().
TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                        autoescape=select_autoescape(["html", "j2"]), undefined=StrictUndefined)
i18n.jinja_i18n(TEMPLATES)


def browser_language(accept_language: str | None) -> str:
    """The language of the page for a browser's Accept-Language: the first it prefers of those
    the page has ("zh-CN,zh;q=0.9,en;q=0.8" -> "zh"), else English."""
    preferred = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, *params = part.strip().split(";")
        weight = 1.0
        for param in params:
            name, _sep, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        language = i18n.normal_language(tag) if tag.strip() != "*" else None
        if language and weight > 0:
            preferred.append((-weight, position, language))
    return min(preferred)[2] if preferred else i18n.DEFAULT


def page_language(request) -> str:
    """The language the patient chose on this page (the cookie), else the browser's."""
    return i18n.normal_language(request.cookies.get(LANGUAGE_COOKIE)) or browser_language(
        request.headers.get("accept-language"))


def space() -> str:
    """What stands between two sentences, or after a label: a space in English, nothing in Chinese."""
    return "" if i18n.current() == "zh" else " "


def sentences(*parts) -> Markup:
    """Sentences of the page side by side ("One. Two." / "一。二。"); markup from the catalog is kept,
    anything else is escaped."""
    return Markup(space()).join(parts)


def script_texts(language: str) -> dict:
    """What web/static/patient.js says or sends, in the page's language (read from the page:
    no second table of texts in the script)."""
    return i18n.plain({
        "language": language,
        "html_lang": HTML_LANG,
        "start": START[language],
        # Sent when the patient switches the page to this language mid-conversation:
        # the assistant says so and asks the current question again in it, keeping the answers.
        "ask_for_language": _("English please"),
        "title": _("Study check"),
        "subtitle": _("Short questions, one at a time"),
        "hint": _("Type your answer, or tap a button"),
        "connecting": _("Connecting…"),
        "answer": _("Your answer"),
        "send": _("Send"),
        "conversation": _("Conversation"),
        "phone": _("Phone:"),
        "labels": {"more": _("More about this study"), "checks": _("What the study team still checks"),
                   "other_reasons": _("Other reasons"), "announce_where": _("The cards are below the chat.")},
    })


def render_page(catalog, socket_url: str, language: str) -> str:
    """The whole page in one language (rendered once per language at start-up)."""
    with i18n.using(language):
        places = sorted({site.city for trial in catalog.trials for site in trial.sites})
        return TEMPLATES.get_template("patient.html.j2").render(
            trials=catalog.trials, places=wording.and_list(places), socket_url=socket_url, widget=WIDGET,
            language=language, html_lang=HTML_LANG[language], listed=wording.plain_list, sentences=sentences,
            space=space(), texts=script_texts(language))


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
    pages = {language: render_page(catalog, socket_url, language) for language in i18n.LANGUAGES}
    policy = page_policy(socket_url)

    @app.get("/")
    async def page(request):
        chosen = i18n.normal_language(request.args.get("lang"))
        if chosen:
            # The switch: remember the choice for this browser session, then show the page.
            reply = response.redirect("/", status=303)
            reply.cookies[LANGUAGE_COOKIE] = chosen
            cookie = reply.cookies[LANGUAGE_COOKIE]
            cookie["path"], cookie["samesite"], cookie["httponly"] = "/", "Lax", True
            if https or request.scheme == "https":
                cookie["secure"] = True
            return reply
        reply = response.html(pages[page_language(request)])
        reply.headers["Vary"] = "Accept-Language, Cookie"
        reply.headers["Cache-Control"] = "no-cache"
        return reply

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
