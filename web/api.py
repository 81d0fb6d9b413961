"""The JSON API for hospital systems: one token per site, read-only.

GET /api/handoffs?trial=&status=&from=&to=   that site's handoffs
GET /api/screenings/<id>                      a screening handed to that site
Authorization: Bearer <token from `python -m prescreen.staff.accounts add-token`>

For machines: its labels (the profile's words) are in English whatever the site's language,
and what the patient typed is as typed.
"""
from __future__ import annotations

import asyncio

from sanic import Blueprint, response

from prescreen import i18n
from prescreen.staff import accounts
from prescreen.staff import review

api = Blueprint("api", url_prefix="/api")


async def _site(request):
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else None
    return await asyncio.to_thread(accounts.api_site, request.app.ctx.db, token)


def _error(status: int, message: str):
    return response.json({"error": message}, status=status,
                         headers={"WWW-Authenticate": "Bearer"} if status == 401 else None)


@api.get("/handoffs")
async def handoffs(request):
    found = await _site(request)
    if found is None:
        return _error(401, "a valid API token is needed")
    site_id, label = found
    try:
        filters = review.Filters.parse(request.args)
    except review.ReviewError as error:
        with i18n.using("en"):
            return _error(400, str(error))
    with i18n.using("en"):
        rows = await asyncio.to_thread(review.handoffs_json, request.app.ctx.db, f"api:{site_id}:{label}", site_id,
                                       filters, request.app.ctx.catalog, request.app.ctx.settings.timezone)
        return response.json(i18n.plain({"site_id": site_id, "handoffs": rows}))


@api.get("/screenings/<screening_id:str>")
async def screening(request, screening_id):
    found = await _site(request)
    if found is None:
        return _error(401, "a valid API token is needed")
    site_id, label = found
    try:
        with i18n.using("en"):
            body = i18n.plain(await asyncio.to_thread(
                review.screening_json, request.app.ctx.db, f"api:{site_id}:{label}", site_id, screening_id,
                request.app.ctx.catalog, request.app.ctx.settings.timezone))
    except review.NotFound:
        return _error(404, "no such screening for this site")
    return response.json(body)
