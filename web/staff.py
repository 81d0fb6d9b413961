"""Staff review pages under /staff: sign in, the list of handoffs, one handoff, its audit
log, status changes and notes, and the CSV export."""
from __future__ import annotations

import asyncio
import hmac
from functools import wraps
from urllib.parse import urlencode, urlparse

from sanic import Blueprint, response

from prescreen import i18n
from prescreen.i18n import _
from prescreen.referral import summary
from prescreen.staff import accounts
from prescreen.staff import review
from web.pages import LANGUAGE_COOKIE, page_language, render

COOKIE = "prescreen_staff"
COOKIE_PATH = "/staff"
LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600
staff = Blueprint("staff", url_prefix="/staff")

NO_SUCH_HANDOFF = _("There is no such handoff for your site.")


def same_token(given, expected: str) -> bool:
    """A constant-time comparison that never raises (compare_digest refuses non-ASCII str)."""
    if not isinstance(given, str) or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


def clear_cookie(reply) -> None:
    """Expire the session cookie on the path it was set for (a bare delete would name "/")."""
    reply.cookies[COOKIE] = ""
    cookie = reply.cookies[COOKIE]
    cookie["path"], cookie["max-age"], cookie["httponly"], cookie["samesite"] = COOKIE_PATH, 0, True, "Strict"


def _ctx(request):
    return request.app.ctx


def in_language(handler):
    """A page for anyone (sign-in): in the chosen, the browser's or the deployment's language."""

    @wraps(handler)
    async def wrapper(request, *args, **kwargs):
        with i18n.using(page_language(request)):
            return await handler(request, *args, **kwargs)

    return wrapper


def signed_in(handler):
    """Pages for signed-in staff only, in their language (web.pages.page_language); a POST must
    also carry the session's CSRF token."""

    @wraps(handler)
    async def wrapper(request, *args, **kwargs):
        ctx = _ctx(request)
        user = await asyncio.to_thread(accounts.session_user, ctx.db, request.cookies.get(COOKIE), ctx.settings.idle,
                                       None, ctx.settings.max_age)
        if user is None:
            target = request.path + (f"?{request.query_string}" if request.query_string else "")
            reply = response.redirect("/staff/login?" + urlencode({"next": target}))
            if request.cookies.get(COOKIE):
                clear_cookie(reply)
            return reply
        with i18n.using(page_language(request, user)):
            if request.method == "POST" and not same_token(request.form.get("csrf", ""), user.csrf_token):
                await asyncio.to_thread(ctx.db.audit_alone, user.actor, "access_denied", request.path[:200],
                                        "form without this session's CSRF token")
                return render(request, "error.html.j2", status=403, user=user,
                              message=_("This form has expired. Please go back and try again."))
            return await handler(request, user, *args, **kwargs)

    return wrapper


@staff.get("/login")
@in_language
async def login_page(request):
    return render(request, "login.html.j2", next=_safe_next(request.args.get("next")))


@staff.post("/login")
@in_language
async def login(request):
    ctx = _ctx(request)
    if not _same_origin(request):
        return render(request, "login.html.j2", status=403, error=_("Please sign in from this page."), next="")
    address = request.ip or "?"
    wait = ctx.throttle.wait_for(address)
    if wait > 0:
        await asyncio.to_thread(ctx.db.audit_alone, "unknown", "login_throttled", f"address:{address[:64]}",
                                f"{int(wait) + 1} s to wait")
        return render(request, "login.html.j2", status=429, next=_safe_next(request.form.get("next")),
                      error=_("Too many tries from here. Please wait {seconds} seconds and try again.").format(
                          seconds=int(wait) + 1))
    username, password = request.form.get("username", ""), request.form.get("password", "")
    user = await asyncio.to_thread(accounts.authenticate, ctx.db, username, password, None, address)
    if user is None:
        ctx.throttle.failed(address)
        return render(request, "login.html.j2", status=401, next=_safe_next(request.form.get("next")),
                      error=_("Wrong username or password."))
    ctx.throttle.succeeded(address)
    token, _expires = await asyncio.to_thread(accounts.start_session, ctx.db, user)
    reply = response.redirect(_safe_next(request.form.get("next")) or "/staff/")
    reply.cookies[COOKIE] = token
    cookie = reply.cookies[COOKIE]
    cookie["httponly"], cookie["samesite"], cookie["path"] = True, "Strict", COOKIE_PATH
    if ctx.settings.secure_cookies:
        cookie["secure"] = True
    return reply


@staff.post("/logout")
@signed_in
async def logout(request, user):
    await asyncio.to_thread(accounts.end_session, _ctx(request).db, request.cookies.get(COOKIE))
    reply = response.redirect("/staff/login")
    clear_cookie(reply)
    return reply


@staff.get("/")
@signed_in
async def handoff_list(request, user):
    ctx = _ctx(request)
    filters, refused = _filters(request, user)
    if refused:
        return refused
    rows, counts = await asyncio.to_thread(review.list_handoffs, ctx.db, user.actor, user.sites, filters,
                                           ctx.settings.timezone)
    views = await asyncio.to_thread(lambda: {h.id: review.describe(h, ctx.catalog, ctx.settings.timezone)
                                             for h in rows})
    return render(request, "list.html.j2", user=user, rows=rows, views=views, counts=counts, filters=filters,
                  zone=summary.zone_name(ctx.settings.timezone),
                  trials=_trials_of(ctx.catalog, user.sites), query=urlencode(filters.query_args()))


@staff.get("/export.csv")
@signed_in
async def export(request, user):
    ctx = _ctx(request)
    filters, refused = _filters(request, user)
    if refused:
        return refused
    body = await asyncio.to_thread(review.export_csv, ctx.db, user.actor, user.sites, filters, ctx.settings.timezone,
                                   ctx.catalog)
    return response.text(body, content_type="text/csv; charset=utf-8",
                         headers={"Content-Disposition": 'attachment; filename="handoffs.csv"'})


@staff.get("/handoffs/<handoff_id:str>")
@signed_in
async def handoff_page(request, user, handoff_id):
    return await _detail(request, user, handoff_id)


async def _detail(request, user, handoff_id, error: str | None = None, status: int = 200):
    ctx = _ctx(request)
    try:
        handoff = await asyncio.to_thread(review.open_handoff, ctx.db, user.actor, user.sites, handoff_id)
    except review.NotFound:
        return render(request, "error.html.j2", status=404, user=user, message=NO_SUCH_HANDOFF)
    return render(request, "detail.html.j2", status=status, user=user, h=handoff, error=error,
                  v=review.describe(handoff, ctx.catalog, ctx.settings.timezone),
                  trial=ctx.catalog.trial(handoff.trial_id) if handoff.trial_id in ctx.trial_ids else None,
                  next_statuses=review.NEXT_STATUSES[handoff.status])


@staff.post("/handoffs/<handoff_id:str>/status")
@signed_in
async def handoff_status(request, user, handoff_id):
    ctx = _ctx(request)
    try:
        await asyncio.to_thread(review.change_status, ctx.db, user.actor, user.sites, handoff_id,
                                request.form.get("status") or None, request.form.get("note", ""), user.username)
    except review.NotFound:
        return render(request, "error.html.j2", status=404, user=user, message=NO_SUCH_HANDOFF)
    except review.ReviewError as error:
        return await _detail(request, user, handoff_id, error=str(error), status=400)
    return response.redirect(f"/staff/handoffs/{handoff_id}", status=303)


@staff.post("/language")
@in_language
async def choose_language(request):
    """The switch at the top of every page: the staff pages in this language from now on (a cookie),
    back on the page it was chosen on. Like sign-in, only from our own pages."""
    language = i18n.normal_language(request.form.get("language"))
    if not _same_origin(request) or language is None:
        return render(request, "error.html.j2", status=403 if language else 400,
                      message=_("Please choose the language from this site's pages."))
    reply = response.redirect(_safe_next(request.form.get("next")) or "/staff/", status=303)
    reply.cookies[LANGUAGE_COOKIE] = language
    cookie = reply.cookies[LANGUAGE_COOKIE]
    cookie["path"], cookie["max-age"], cookie["httponly"], cookie["samesite"] = (COOKIE_PATH, LANGUAGE_COOKIE_SECONDS,
                                                                                True, "Lax")
    if _ctx(request).settings.secure_cookies:
        cookie["secure"] = True
    return reply


@staff.get("/handoffs/<handoff_id:str>/summary")
@signed_in
async def handoff_summary(request, user, handoff_id):
    """The summary exactly as the site received it, shown in a sandboxed frame."""
    ctx = _ctx(request)
    try:
        handoff = await asyncio.to_thread(review.open_handoff, ctx.db, user.actor, user.sites, handoff_id,
                                          "summary_viewed")
    except review.NotFound:
        return response.text("not found", status=404)
    return response.html(handoff.summary_html, headers={
        "Content-Security-Policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"})


@staff.get("/handoffs/<handoff_id:str>/audit")
@signed_in
async def handoff_audit(request, user, handoff_id):
    ctx = _ctx(request)
    try:
        entries = await asyncio.to_thread(review.handoff_audit, ctx.db, user.actor, user.sites, handoff_id)
    except review.NotFound:
        return render(request, "error.html.j2", status=404, user=user, message=NO_SUCH_HANDOFF)
    return render(request, "audit.html.j2", user=user, entries=entries, handoff_id=handoff_id)


def _filters(request, user):
    """(the list's filters, None), or (None, a 400 page saying what is wrong with them)."""
    try:
        return review.Filters.parse(request.args), None
    except review.ReviewError as error:
        return None, render(request, "error.html.j2", status=400, user=user, message=str(error))


def _trials_of(catalog, sites):
    return [t for t in catalog.trials if any(s.id in sites for s in t.sites)]


def _safe_next(target: str | None) -> str:
    """Only a path inside the staff pages: never another site (an open redirect)."""
    if not target or not target.startswith("/staff/") or target.startswith("//") or "\\" in target:
        return ""
    return target


def _same_origin(request) -> bool:
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return True  # browsers send one with a form; other clients have no cookie to abuse
    return urlparse(origin).netloc == request.host
