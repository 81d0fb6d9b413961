"""The patient page with the real chat widget, Rasa and action servers, in headless Chromium."""
import re

import pytest
import requests

from browser import browser_page, screenshot

# (words in the question, how to answer): a button title to click, or text to type.
ANSWERS = [
    ("who is answering", ("click", "I am the patient")),
    ("which illness", ("click", "Lupus (SLE)")),
    ("still active", ("keyboard", "Yes")),
    ("how old", ("type", "thirty-four")),
    ("what sex", ("click", "Female")),
    ("first tell you", ("type", "more than 3 years ago")),
]


@pytest.fixture(scope="module")
def site(assistant):
    """The assistant's servers and the patient page (stopped with them)."""
    assistant.start_patient_page()
    return assistant


def last_question(page) -> str:
    texts = page.locator(".rw-from-response .rw-message-text").all_inner_texts()
    return texts[-1] if texts else ""


def wait_for_new_question(page, before: int) -> None:
    page.wait_for_function(
        "n => document.querySelectorAll('.rw-from-response .rw-message-text').length > n", arg=before)
    page.wait_for_timeout(400)  # the widget shows a reply's messages one after another


def answer(page, question: str) -> str:
    """Answer one question like a patient would; return what was answered."""
    replies = page.locator(".rw-replies").last
    for words, (how, value) in ANSWERS:
        if words in question.lower():
            break
    else:
        titles = replies.get_by_role("button").all_inner_texts() if replies.count() else []
        how, value = ("click", "None of these") if "None of these" in titles else ("click", "No") \
            if "No" in titles else ("type", "no")
    if how == "click":
        replies.get_by_role("button", name=value, exact=True).click()
    elif how == "keyboard":
        replies.get_by_role("button", name=value, exact=True).focus()
        page.keyboard.press("Enter")
    else:
        page.get_by_label("Your answer").fill(value)
        page.keyboard.press("Enter")
    return value


def test_page_lists_the_studies_from_the_trial_files(site, catalog):
    reply = requests.get(site.patient_url + "/")
    page = reply.text
    for trial in catalog.trials:
        assert trial.short_title.replace("'", "&#39;") in page
    assert "Your privacy" in page and "delete my data" in page
    assert re.search(r"<script(?![^>]*\bsrc=)", page) is None  # no inline scripts: the page's policy forbids them
    assert "script-src 'self'" in reply.headers["Content-Security-Policy"]


def test_the_chat_accepts_only_the_pages_own_origin(site):
    handshake = f"http://127.0.0.1:{site.rasa_port}/socket.io/?EIO=4&transport=polling"
    assert requests.get(handshake, headers={"Origin": site.patient_url}).status_code == 200
    assert requests.get(handshake, headers={"Origin": "http://evil.example"}).status_code == 400


def test_a_full_screening_in_the_browser_with_a_reload_half_way(site, catalog):
    with browser_page() as page:
        page.goto(site.patient_url + "/")
        page.get_by_text("who is answering").wait_for(timeout=60_000)
        answered, reloaded = [], False
        for _ in range(25):
            if page.locator("#results").is_visible() or "contact you?" in last_question(page):
                break
            question = last_question(page)
            count = page.locator(".rw-from-response .rw-message-text").count()
            answered.append(answer(page, question))
            wait_for_new_question(page, count)
            if not reloaded and "thirty-four" in answered:
                reloaded = True
                before = last_question(page)
                page.reload()
                page.get_by_text(before[:40]).last.wait_for()
                assert "thirty-four" in page.locator("#rw-messages").inner_text()  # the conversation is back
                screenshot(page, "patient-after-reload")
        assert reloaded, answered
        cards = page.locator("#result-cards > li")
        cards.first.wait_for()
        assert cards.count() == len(catalog.trials)
        verdicts = cards.locator(".verdict").all_inner_texts()
        assert verdicts == ["May be a match"] * len(catalog.trials)
        assert all(text.strip() for text in cards.locator("p:not(.verdict)").all_inner_texts())
        page.get_by_text("to contact you?").wait_for()  # after the results, the offer to be contacted
        screenshot(page, "patient-results")
        assert "you are eligible" not in page.content().lower()


def test_phone_width_with_labelled_controls(site):
    with browser_page(width=390, height=844) as page:
        page.goto(site.patient_url + "/")
        page.get_by_role("button", name="I am the patient").wait_for(timeout=60_000)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert page.get_by_label("Your answer").is_visible()
        page.get_by_role("button", name="I am the patient").focus()
        page.keyboard.press("Enter")
        page.get_by_text("Which illness").wait_for()
        screenshot(page, "patient-phone")
