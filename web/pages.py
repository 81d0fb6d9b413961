"""Rendering pages: Jinja2 with autoescape on, so nothing stored can become markup."""
from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sanic import response

from prescreen.staff.review import STATUSES
from prescreen.referral.summary import STATUS_LABELS

TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                        autoescape=select_autoescape(["html", "j2"]), undefined=StrictUndefined)
TEMPLATES.globals.update(statuses=STATUSES, criterion_labels=STATUS_LABELS)


def render(request, template: str, status: int = 200, **context):
    settings = request.app.ctx.settings
    context.setdefault("user", None)
    context.setdefault("error", None)
    html = TEMPLATES.get_template(template).render(
        local=lambda moment: moment.astimezone(settings.timezone).strftime("%Y-%m-%d %H:%M") if moment else "",
        **context)
    return response.html(html, status=status)
