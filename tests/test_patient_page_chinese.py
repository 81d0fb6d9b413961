"""The patient page in Chinese, with the real widget, Rasa and action servers, in headless Chromium
with a Chinese locale: the page follows the browser's language, the 中文 / English switch changes the
page and the conversation (keeping the answers) and is remembered on reload, every message the widget
sends carries the page's language, a Chinese screening (typed and tapped answers) reaches the result
cards, and axe-core finds no violation in Chinese. The assistant's own Chinese texts are checked for
what must hold (Chinese characters, the fact bank's and trial files' own Chinese), not word for word."""
from __future__ import annotations

import json
import re
from contextlib import contextmanager
from html import unescape

import pytest
import requests
from babel.messages.pofile import read_po

from actions.language import asked_for_language
from browser import FLAGS, axe_violations, chromium_path, screenshot
from prescreen import i18n
from servers import ROOT
from test_patient_page import contrast, small_controls
from web.patient import LANGUAGE_COOKIE, browser_language

CHINESE = re.compile(r"[\u4e00-\u9fff]")
MESSAGES = ".rw-from-response .rw-message-text"
FORBIDDEN = ("您符合条件", "您有资格", "you are eligible")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from servers import Assistant

    servers = Assistant(tmp_path_factory.mktemp("patient-page-zh"))
    try:
        servers.start_actions()
        servers.start_rasa()
        servers.start_patient_page()
        yield servers
    finally:
        servers.stop()


def chinese(text: str) -> bool:
    return bool(CHINESE.search(text or ""))


def in_chinese(value) -> str:
    with i18n.using("zh"):
        return str(value)


class Wire:
    """The socket.io events the page sends and receives, over both transports (polling, then websocket)."""

    def __init__(self, page):
        self.sent: list[tuple[str, object]] = []
        self.received: list[tuple[str, object]] = []
        page.on("websocket", self._websocket)
        page.on("request", self._request)
        page.on("response", self._response)

    def _websocket(self, socket) -> None:
        socket.on("framesent", lambda frame: self._read(frame, self.sent))
        socket.on("framereceived", lambda frame: self._read(frame, self.received))

    def _request(self, request) -> None:
        if "/socket.io/" in request.url and request.method == "POST":
            self._read(request.post_data or "", self.sent)

    def _response(self, response) -> None:
        if "/socket.io/" in response.url and response.request.method == "GET":
            try:
                self._read(response.text(), self.received)
            except Exception:  # noqa: BLE001 - a long poll cut short by a reload or the upgrade
                pass

    @staticmethod
    def _read(data, into) -> None:
        if not isinstance(data, str):
            return
        for packet in data.split("\x1e"):  # engine.io 4 joins polled packets with a record separator
            if packet.startswith("42"):
                event = json.loads(packet[2:])
                into.append((event[0], event[1] if len(event) > 1 else None))

    def user_messages(self) -> list[dict]:
        return [data for event, data in self.sent if event == "user_uttered"]

    def bot_messages(self) -> list[dict]:
        return [data for event, data in self.received if event == "bot_uttered" and isinstance(data, dict)]


@contextmanager
def browser(locale: str = "zh-CN", width: int = 1280, height: int = 900):
    """Debian's Chromium, as tests/browser.py starts it, in a browser whose language is `locale`."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), headless=True,
                                              args=[*FLAGS, f"--lang={locale}"])
        try:
            context = chromium.new_context(viewport={"width": width, "height": height}, locale=locale)
            page = context.new_page()
            page.set_default_timeout(20_000)
            yield page, Wire(page)
        finally:
            chromium.close()


def page_texts(html: str) -> dict:
    return json.loads(unescape(re.search(r"data-texts='([^']*)'", html).group(1)))


def catalog_entries() -> list:
    with (ROOT / "prescreen/locale/zh/LC_MESSAGES/page.po").open("rb") as handle:
        return [m for m in read_po(handle, locale="zh") if m.id]


# ---- the page over HTTP: its language, the switch's cookie, the headers -------------------------

def test_the_browsers_language_decides_the_page_until_the_switch_is_used(site, catalog):
    zh = requests.get(site.patient_url + "/", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
    en = requests.get(site.patient_url + "/", headers={"Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"})
    plain = requests.get(site.patient_url + "/")
    assert '<html lang="zh-CN">' in zh.text and '<html lang="en">' in en.text and '<html lang="en">' in plain.text
    assert en.text == plain.text
    assert all("Accept-Language" in r.headers["Vary"] for r in (zh, en))
    # Every text of the page's catalog is on the Chinese page (or in the script's texts), none of the English.
    texts = page_texts(zh.text)
    script = json.dumps(texts, ensure_ascii=False)
    for entry in catalog_entries():
        if not re.search(r"%\(|\{", entry.id):
            assert entry.string in zh.text or entry.string in script, entry.id
        if len(entry.id) > 12 and not re.search(r"%\(|\{", entry.id):
            assert entry.id not in zh.text and entry.id.replace('"', "&#34;") not in zh.text, entry.id
    # The studies as the trial files say them in Chinese: titles, summaries, sites, cities.
    for trial in catalog.trials:
        for text in (trial.short_title, trial.plain_summary, *(s.name for s in trial.sites), *(s.city for s in trial.sites)):
            assert chinese(in_chinese(text)) and in_chinese(text).replace("'", "&#39;") in zh.text, text
            assert str(text).replace("'", "&#39;") in en.text
    assert chinese(texts["title"]) and texts["language"] == "zh" and en.text.count("中文") == 1
    # What the page says to the chat when the patient switches: a request the assistant understands.
    assert asked_for_language(texts["ask_for_language"]) == "zh"
    assert asked_for_language(page_texts(en.text)["ask_for_language"]) == "en"
    for reply in (zh, en):
        assert re.search(r"<script(?![^>]*\bsrc=)", reply.text) is None  # still no inline script
        assert "script-src 'self'" in reply.headers["Content-Security-Policy"]
        assert reply.headers["X-Frame-Options"] == "DENY" and reply.headers["X-Content-Type-Options"] == "nosniff"


def test_the_switch_is_remembered_for_the_browser_session(site):
    session = requests.Session()
    session.headers["Accept-Language"] = "en-US,en"
    switched = session.get(site.patient_url + "/?lang=zh", allow_redirects=False)
    assert switched.status_code == 303 and switched.headers["Location"] == "/"
    cookie = switched.headers["Set-Cookie"]
    assert cookie.startswith(f"{LANGUAGE_COOKIE}=zh;") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Path=/" in cookie and "expires" not in cookie.lower() and "max-age" not in cookie.lower()  # this session only
    assert "Secure" not in cookie  # plain http on loopback here (https sends Secure, as for HSTS)
    assert "script-src 'self'" in switched.headers["Content-Security-Policy"]
    assert '<html lang="zh-CN">' in session.get(site.patient_url + "/").text  # the choice beats the browser's
    session.get(site.patient_url + "/?lang=en")
    assert '<html lang="en">' in session.get(site.patient_url + "/", headers={"Accept-Language": "zh-CN"}).text
    # Anything else is no choice: no cookie, the page in the browser's language.
    other = requests.get(site.patient_url + "/?lang=fr", headers={"Accept-Language": "zh-TW,zh"}, allow_redirects=False)
    assert other.status_code == 200 and "Set-Cookie" not in other.headers and '<html lang="zh-CN">' in other.text
    forged = requests.get(site.patient_url + "/", cookies={LANGUAGE_COOKIE: "<script>"},
                          headers={"Accept-Language": "en"})
    assert '<html lang="en">' in forged.text and "<script>" not in forged.text


@pytest.mark.parametrize("header, language", [
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh"), ("zh-TW", "zh"), ("zh-Hans-CN", "zh"), ("en-US,en;q=0.9,zh;q=0.8", "en"),
    ("en;q=0.1,zh", "zh"), ("fr-FR,zh;q=0.5", "zh"), ("fr-FR,de", "en"), ("*", "en"), ("", "en"), (None, "en"),
    ("zh;q=0,en", "en"), ("zh;q=abc,en", "en"),
])
def test_the_browsers_first_language_the_page_has(header, language):
    assert browser_language(header) == language


# ---- in the browser ----------------------------------------------------------------------------

def last_question(page) -> str:
    texts = page.locator(MESSAGES).all_inner_texts()
    return texts[-1] if texts else ""


def wait_for_new_question(page, before: int) -> None:
    page.wait_for_function("([sel, n]) => document.querySelectorAll(sel).length > n", arg=[MESSAGES, before])
    page.wait_for_timeout(500)  # the widget shows a reply's messages one after another


def languages_told(wire) -> list:
    return [(m.get("customData") or {}).get("language") for m in wire.user_messages()]


def fact_asked(catalog, text: str) -> str | None:
    """The fact whose question (in either language, from the fact bank) the message asks."""
    for fact in catalog.facts.values():
        if any(version and version in text for version in fact.question.versions.values()):
            return fact.id
    return None


def answer_in_chinese(page, wire, catalog) -> str:
    """Answer the newest question as a Chinese-reading patient who may fit every study: tap the
    buttons (found by their payloads, whatever their Chinese titles) or type Chinese."""
    message = [m for m in wire.bot_messages() if m.get("text")][-1]
    replies = message.get("quick_replies") or message.get("buttons") or []
    assert " ".join(message["text"].split()) in " ".join(last_question(page).split())  # the one on screen
    title = lambda part: next((r["title"] for r in replies if part in r.get("payload", "")), None)  # noqa: E731
    fact = fact_asked(catalog, message["text"])
    if title('"choice": "self"'):
        how, value = "tap", title('"choice": "self"')
    elif title('"choice": "sle"'):
        how, value = "type", "红斑狼疮"
    elif fact == "age":
        how, value = "type", "三十四岁"
    elif fact == "diagnosis_when":
        how, value = "type", "三年多以前"
    elif title('"choice": "female"'):
        how, value = "tap", title('"choice": "female"')
    elif title('"choice": "none"'):
        how, value = "type", "都没有"
    elif fact == "refractory":
        how, value = "tap", title("/affirm")
    elif title("/deny"):
        how, value = "tap", title("/deny")
    else:
        how, value = "type", "没有"
    if how == "tap":
        assert chinese(value), (message["text"], value)  # the button says it in Chinese
        page.locator(".rw-replies").last.get_by_role("button", name=value, exact=True).click()
    else:
        page.get_by_label("您的回答").fill(value)
        page.keyboard.press("Enter")
    return value


def screen_in_chinese(page, wire, catalog) -> list[str]:
    answered = []
    page.wait_for_function("sel => document.querySelectorAll(sel).length > 0", arg=MESSAGES, timeout=60_000)
    page.wait_for_timeout(800)
    for _ in range(30):
        if page.locator("#result-cards > li").count():
            break
        question = last_question(page)
        assert chinese(question), question  # every question in Chinese
        count = page.locator(MESSAGES).count()
        answered.append(answer_in_chinese(page, wire, catalog))
        wait_for_new_question(page, count)
    page.locator("#result-cards > li").first.wait_for()
    return answered


def no_axe_violations(page, name) -> None:
    violations = axe_violations(page, name, impacts=("minor", "moderate", "serious", "critical"))
    assert violations == [], violations


def test_a_chinese_browser_gets_the_page_and_the_chat_in_chinese(site):
    with browser("zh-CN") as (page, wire):
        page.goto(site.patient_url + "/")
        assert page.evaluate("document.documentElement.lang") == "zh-CN"
        assert chinese(page.title()) and chinese(page.locator("h1").inner_text())
        switch = page.get_by_role("navigation", name="语言")
        assert switch.get_by_role("link", name="中文").get_attribute("aria-current") == "true"
        assert switch.get_by_role("link", name="English").get_attribute("lang") == "en"
        assert switch.get_by_role("link", name="中文").get_attribute("lang") == "zh-CN"
        page.locator(MESSAGES).first.wait_for(timeout=60_000)
        page.locator(".rw-replies").last.wait_for()
        page.wait_for_timeout(800)
        assert all(chinese(t) for t in page.locator(MESSAGES).all_inner_texts())  # the greeting and first question
        assert all(chinese(t) for t in page.locator(".rw-replies").last.get_by_role("button").all_inner_texts())
        box = page.get_by_label("您的回答")
        assert chinese(box.get_attribute("placeholder"))
        assert page.get_by_role("log", name="对话记录").count() == 1
        assert languages_told(wire) == ["zh"]  # the first (hidden) message, with the page's language
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert small_controls(page) == []
        # The switch is reachable by keyboard, with a focus ring that shows on the dark header.
        page.locator("a.skip").focus()  # the first control of the page
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "中文"
        assert contrast(page, page.evaluate_handle("document.activeElement")) >= 3
        screenshot(page, "patient-zh-start")
        no_axe_violations(page, "patient-zh-start")


def test_the_switch_changes_page_and_chat_keeping_the_answers_and_is_remembered(site, catalog):
    refractory = catalog.facts["refractory"].question
    with browser("zh-CN") as (page, wire):
        page.goto(site.patient_url + "/")
        page.locator(".rw-replies").last.wait_for(timeout=60_000)
        page.wait_for_timeout(800)
        for _ in range(2):  # who is answering (tapped), which illness (typed)
            count = page.locator(MESSAGES).count()
            answer_in_chinese(page, wire, catalog)
            wait_for_new_question(page, count)
        assert refractory.versions["zh"] in last_question(page)
        # To English: the page, and the chat, which says the same question again in English.
        count = page.locator(MESSAGES).count()
        page.get_by_role("link", name="English").click()
        page.wait_for_function("() => document.documentElement.lang === 'en'")
        page.get_by_text("English please", exact=True).wait_for()  # what the page asked, shown in the chat
        page.wait_for_function("([sel, words]) => [...document.querySelectorAll(sel)].some(m => m.innerText.includes(words))",
                               arg=[MESSAGES, refractory.original], timeout=30_000)
        page.wait_for_timeout(800)
        assert refractory.original in last_question(page) and page.locator(MESSAGES).count() > count
        assert page.locator("h1").inner_text() == "New cell treatments for lupus and other autoimmune diseases"
        assert page.get_by_role("link", name="English").get_attribute("aria-current") == "true"
        assert not chinese(page.get_by_label("Your answer").get_attribute("placeholder"))
        assert "红斑狼疮" in page.locator("#rw-messages").inner_text()  # the conversation so far is kept
        # Remembered on reload, and the chat is not asked again.
        page.reload()
        page.get_by_text("English please", exact=True).wait_for()
        page.wait_for_timeout(1500)
        assert page.evaluate("document.documentElement.lang") == "en"
        assert [m["message"] for m in wire.user_messages()].count("English please") == 1
        # The answers were kept: answering goes on from the question asked again.
        count = page.locator(MESSAGES).count()
        page.locator(".rw-replies").last.get_by_role("button", name="Yes", exact=True).click()
        wait_for_new_question(page, count)
        after_yes = last_question(page)
        assert not chinese(after_yes) and refractory.original not in after_yes
        assert "who is answering" not in after_yes.lower()
        # And back to Chinese: the same question again, in Chinese.
        page.get_by_role("link", name="中文").click()
        page.wait_for_function("() => document.documentElement.lang === 'zh-CN'")
        page.get_by_text("请用中文", exact=True).wait_for()
        asked_again = fact_asked(catalog, after_yes)
        page.wait_for_timeout(3000)
        assert chinese(last_question(page))
        if asked_again:
            assert catalog.facts[asked_again].question.versions["zh"] in last_question(page)
        page.reload()
        page.get_by_text("请用中文", exact=True).wait_for()
        page.wait_for_timeout(1000)
        assert page.evaluate("document.documentElement.lang") == "zh-CN"
        # Every message carried the language of the page it was sent from.
        told = [(m["message"], (m.get("customData") or {}).get("language")) for m in wire.user_messages()]
        assert told[0] == ("你好", "zh") and ("English please", "en") in told and ("请用中文", "zh") in told
        assert ("/affirm", "en") in told and all(language in ("zh", "en") for _, language in told), told
        assert len(told) == 6, told  # 你好, two answers, English please, yes, 请用中文: nothing sent twice
        screenshot(page, "patient-zh-after-switching")


def test_a_chinese_screening_on_the_page_reaches_the_result_cards(site, catalog):
    with browser("zh-CN") as (page, wire):
        page.goto(site.patient_url + "/")
        answered = screen_in_chinese(page, wire, catalog)
        assert {"红斑狼疮", "三十四岁", "三年多以前"} <= set(answered), answered  # typed Chinese
        assert any(chinese(a) and a not in ("红斑狼疮", "三十四岁", "三年多以前", "都没有", "没有") for a in answered)  # tapped
        cards = page.locator("#result-cards > li")
        assert cards.count() == len(catalog.trials)
        verdicts = cards.locator(".verdict").all_inner_texts()
        assert len(set(verdicts)) == 1 and chinese(verdicts[0]), verdicts  # all "may be a match", in Chinese
        results = [m for m in wire.bot_messages() if m.get("results")][-1]["results"]
        assert {r["verdict"] for r in results} == {"possibly_eligible"}
        for trial in catalog.trials:
            card = page.locator(f"#result-cards > li[data-trial-id='{trial.id}']")
            assert card.locator("h3").inner_text() == in_chinese(trial.short_title)
            body = " ".join(card.locator(".card-body p").all_inner_texts())
            assert chinese(body) and in_chinese(trial.sites[0].city) in body, body
        status = page.locator("#results-status").inner_text()
        assert chinese(status) and page.evaluate("document.activeElement.id") == "results-h"
        assert page.locator("#results-h").inner_text() == "您的结果"
        more = cards.first.locator("details.more")
        more.locator("summary").click()
        assert chinese(more.locator("summary").inner_text()) and chinese(more.inner_text())
        content = page.content()
        assert not any(words in content for words in FORBIDDEN)
        assert all(languages_told(wire)[i] == "zh" for i in range(len(wire.user_messages())))
        page.wait_for_timeout(1500)  # the offer to be contacted comes after the cards
        assert chinese(last_question(page))
        screenshot(page, "patient-zh-results")
        no_axe_violations(page, "patient-zh-results")
        # Switched to English at the offer: the offer is asked again in English, and the assistant sends
        # the cards again, so they are redrawn in English (no longer marked as Chinese).
        offer = last_question(page)
        count = page.locator(MESSAGES).count()
        page.get_by_role("link", name="English").click()
        page.wait_for_function("() => document.documentElement.lang === 'en'")
        page.get_by_text("English please", exact=True).wait_for()
        page.wait_for_function("([sel, n]) => document.querySelectorAll(sel).length > n", arg=[MESSAGES, count])
        page.wait_for_timeout(1500)
        assert last_question(page) != offer and "contact you?" in last_question(page)
        assert page.locator("#result-cards > li").count() == len(catalog.trials)
        page.wait_for_function("() => !document.querySelector('#result-cards').hasAttribute('lang')")
        assert not chinese(page.locator("#result-cards > li").first.inner_text())
        assert page.locator("#results-h").inner_text() == "Your results"
        no_axe_violations(page, "patient-zh-results-then-english")


def test_the_chinese_page_at_phone_width(site):
    with browser("zh-CN", width=390, height=844) as (page, wire):
        page.goto(site.patient_url + "/")
        page.locator(".rw-replies").last.wait_for(timeout=60_000)
        page.wait_for_timeout(800)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert small_controls(page) == []
        nav = page.get_by_role("navigation", name="语言").bounding_box()
        assert nav["x"] >= 0 and nav["x"] + nav["width"] <= 390
        screenshot(page, "patient-zh-phone")
        no_axe_violations(page, "patient-zh-phone")


def test_over_https_the_switchs_cookie_is_secure(tmp_path, catalog):
    from servers import Assistant

    servers = Assistant(tmp_path, env={"PATIENT_HTTPS": "1"})
    try:
        servers.start_patient_page()  # the page alone: it needs no Rasa server to be served
        switched = requests.get(servers.patient_url + "/?lang=zh", allow_redirects=False)
        assert switched.status_code == 303 and "Secure" in switched.headers["Set-Cookie"]
        assert switched.headers["Strict-Transport-Security"].startswith("max-age=")
        page = requests.get(servers.patient_url + "/", cookies={LANGUAGE_COOKIE: "zh"})
        assert '<html lang="zh-CN">' in page.text and in_chinese(catalog.trials[0].short_title) in page.text
    finally:
        servers.stop()
