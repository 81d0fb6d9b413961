"""Rendering pages: Jinja2 with autoescape on, so nothing stored can become markup.

The staff pages are in the language of the staff member's sites (`language` of each site in
the trial files), or the one they chose with the switch at the top of every page (a cookie);
before sign-in, the chosen one, else the browser's, else the one every site reads."""
from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sanic import response

from prescreen import i18n
from prescreen.referral.summary import HTML_LANG, STATUS_LABELS, date_time_text
from prescreen.staff.review import DELIVERY_LABELS, STATUSES

TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                        autoescape=select_autoescape(["html", "j2"]), undefined=StrictUndefined)
TEMPLATES.globals.update(statuses=STATUSES, criterion_labels=STATUS_LABELS, delivery_labels=DELIVERY_LABELS,
                        said=i18n.said)
i18n.jinja_i18n(TEMPLATES)

LANGUAGE_COOKIE = "prescreen_staff_language"
# The switch offers the other language, named in itself.
SWITCH = {"zh": ("en", "English"), "en": ("zh", "中文")}


def browser_language(request) -> str | None:
    """The first language of Accept-Language that the pages have ("zh-CN,zh;q=0.9,en;q=0.8" -> zh)."""
    ranked = []
    for i, part in enumerate((request.headers.get("accept-language") or "").split(",")):
        tag, _, params = part.strip().partition(";")
        try:
            weight = float(params.strip()[2:]) if params.strip().startswith("q=") else 1.0
        except ValueError:
            continue
        ranked.append((-weight, i, tag))
    return next((found for _, _, tag in sorted(ranked) if (found := i18n.normal_language(tag))), None)


def site_languages(catalog, site_ids=None) -> set[str]:
    """The languages these sites' teams read (every site's when `site_ids` is None)."""
    return {s.language for t in catalog.trials for s in t.sites if site_ids is None or s.id in site_ids}


def page_language(request, user=None) -> str:
    """The language of a staff page: the one chosen with the switch; for a signed-in staff member,
    their sites' language; else the browser's; else the one every site of the deployment reads."""
    chosen = i18n.normal_language(request.cookies.get(LANGUAGE_COOKIE))
    if chosen:
        return chosen
    catalog = request.app.ctx.catalog
    if user is not None:
        own = site_languages(catalog, user.sites)
        if len(own) == 1:
            return own.pop()
    every = site_languages(catalog)
    return browser_language(request) or (every.pop() if len(every) == 1 else i18n.DEFAULT)


def render(request, template: str, status: int = 200, **context):
    """A page in the current language (`i18n.using`, set per request by web.staff)."""
    settings = request.app.ctx.settings
    context.setdefault("user", None)
    context.setdefault("error", None)
    language = i18n.current()
    other, other_name = SWITCH.get(language, SWITCH[i18n.DEFAULT])
    here = request.path + (f"?{request.query_string}" if request.query_string else "")
    html = TEMPLATES.get_template(template).render(
        local=lambda moment: date_time_text(moment, settings.timezone),
        language=language, html_lang=HTML_LANG.get(language, language),
        switch={"language": other, "name": other_name, "lang": HTML_LANG[other], "next": here},
        **context)
    return response.html(html, status=status)
