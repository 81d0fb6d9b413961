"""The patient page with the real chat widget, Rasa and action servers, in headless Chromium:
the result cards, focus after every answer, a new screening clearing the cards, phone and
desktop widths (no sideways scrolling, 44 px controls, a focus ring of at least 3:1), and
axe-core with no serious or critical violation (results saved in test-artifacts/axe-*.json)."""
import re

import pytest
import requests

from browser import axe_violations, browser_page, screenshot

CARD_WORDS = 50
# Every control a patient can reach, for the touch-target and focus checks.
CONTROLS = "button, a[href], input, textarea, select, summary, [role=button], [tabindex]:not([tabindex='-1'])"

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
def site(tmp_path_factory):
    """The servers and the patient page, with one site's callback and phone settings set."""
    from servers import Assistant

    servers = Assistant(tmp_path_factory.mktemp("patient-page"), env={
        "SITE_WUHAN_UNION_CALLBACK_DAYS": "3", "SITE_WUHAN_UNION_PHONE": "027-8572 6114"})
    try:
        servers.start_actions()
        servers.start_rasa()
        servers.start_patient_page()
        yield servers
    finally:
        servers.stop()


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


def screen_to_the_results(page, reload_after=None):
    """Answer like the patient in ANSWERS until the result cards appear; return the answers."""
    page.get_by_text("who is answering").wait_for(timeout=60_000)
    answered, reloaded = [], False
    for _ in range(25):
        if page.locator("#result-cards > li").count():
            break
        question = last_question(page)
        count = page.locator(".rw-from-response .rw-message-text").count()
        answered.append(answer(page, question))
        wait_for_new_question(page, count)
        if reload_after and not reloaded and reload_after in answered:
            reloaded = True
            before = last_question(page)
            page.reload()
            page.get_by_text(before[:40]).last.wait_for()
            assert reload_after in page.locator("#rw-messages").inner_text()  # the conversation is back
            screenshot(page, "patient-after-reload")
    page.locator("#result-cards > li").first.wait_for()
    assert not reload_after or reloaded, answered
    return answered


def visible_card_text(card) -> str:
    """What a card says before "More about this study" is opened."""
    return " ".join(card.locator("h3, .verdict, .card-body p").all_inner_texts())


def contrast(page, selector_or_handle) -> float:
    """The contrast of the focused element's outline against the background behind it."""
    return page.evaluate("""el => {
        const rgb = c => (c.match(/[\\d.]+/g) || []).slice(0, 3).map(Number);
        const lum = ([r, g, b]) => { const f = v => { v /= 255; return v <= .03928 ? v / 12.92 : ((v + .055) / 1.055) ** 2.4; };
                                     return .2126 * f(r) + .7152 * f(g) + .0722 * f(b); };
        let bg = el.parentElement, color = 'rgba(0, 0, 0, 0)';
        while (bg && (color = getComputedStyle(bg).backgroundColor).endsWith(', 0)')) { bg = bg.parentElement; }
        if (!bg) { color = 'rgb(255, 255, 255)'; }
        const style = getComputedStyle(el);
        if (style.outlineStyle === 'none' || parseFloat(style.outlineWidth) < 2) { return 0; }
        const [a, b] = [lum(rgb(style.outlineColor)), lum(rgb(color))].sort((x, y) => y - x);
        return (a + .05) / (b + .05);
    }""", selector_or_handle)


def small_controls(page) -> list:
    """Visible controls under 44 px tall, as (text, height)."""
    return page.evaluate("""sel => [...document.querySelectorAll(sel)].filter(e => {
        const r = e.getBoundingClientRect(), s = getComputedStyle(e);
        return r.width > 0 && r.height > 0 && r.right > 0 && s.visibility !== 'hidden' && !e.closest('[hidden]')
               && !e.closest('details:not([open]) > :not(summary)');
    }).filter(e => e.getBoundingClientRect().height < 44)
      .map(e => [(e.innerText || e.getAttribute('aria-label') || e.tagName).slice(0, 40), e.getBoundingClientRect().height])""",
        CONTROLS)


def no_serious_axe_violations(page, name):
    violations = axe_violations(page, name)
    assert violations == [], violations


def test_a_full_screening_in_the_browser_with_a_reload_half_way(site, catalog):
    with browser_page() as page:
        page.goto(site.patient_url + "/")
        screen_to_the_results(page, reload_after="thirty-four")
        cards = page.locator("#result-cards > li")
        assert cards.count() == len(catalog.trials)
        verdicts = cards.locator(".verdict").all_inner_texts()
        assert verdicts == ["May be a match"] * len(catalog.trials)
        for i in range(cards.count()):
            text = visible_card_text(cards.nth(i))
            assert len(text.split()) <= CARD_WORDS + 12, text  # the card's words plus its title
            assert len(" ".join(cards.nth(i).locator(".card-body p").all_inner_texts()).split()) <= CARD_WORDS
            assert "Where: " in text and "things" not in text
        wuhan = page.locator("#result-cards > li[data-trial-id='cd19-bcma-car-t-sle-wuhan']")
        assert "Where: Union Hospital, Wuhan." in wuhan.inner_text()
        assert "usually calls within 3 working days" in wuhan.inner_text()
        assert wuhan.get_by_role("link", name="027-8572 6114").get_attribute("href") == "tel:02785726114"
        assert "No phone number is listed." in page.locator("#result-cards").inner_text()  # the others have none
        # Announced, scrolled into view, focused.
        status = page.locator("#results-status")
        assert "Your results are ready. 5 studies may be a match." in status.inner_text()
        assert page.evaluate("document.activeElement.id") == "results-h"
        assert page.evaluate("(() => { const r = document.getElementById('results-h').getBoundingClientRect();"
                             " return r.top >= 0 && r.bottom <= window.innerHeight; })()")
        # The chat says once where the cards are, and does not repeat them.
        chat = page.locator("#rw-messages").inner_text()
        assert chat.count('"Your results"') == 1 and "Union Hospital" not in chat
        # Details on demand.
        more = wuhan.locator("details.more")
        assert not more.evaluate("d => d.open")
        more.locator("summary").click()
        assert "What the study team still checks" in more.inner_text()
        assert "some of your own white blood cells" in more.inner_text()
        page.get_by_text("contact you?").last.wait_for()  # after the results, the offer to be contacted
        page.wait_for_timeout(1000)
        # The offer does not pull the focus away from the cards the patient is reading.
        assert page.evaluate("!!document.activeElement.closest('#results')")
        screenshot(page, "patient-results-desktop")
        assert "you are eligible" not in page.content().lower()
        no_serious_axe_violations(page, "patient-results-desktop")
        # "Back to the chat" takes focus to the newest question.
        page.get_by_role("button", name="Back to the chat").click()
        assert "contact you?" in page.evaluate("document.activeElement.innerText")


def focused_question(page, words: str) -> None:
    """Until the focus is on the question with these words (the newest message of the chat)."""
    page.wait_for_function("w => document.activeElement && document.activeElement.matches('.rw-message-text')"
                           " && document.activeElement.innerText.includes(w)", arg=words, timeout=10_000)
    assert page.evaluate("[...document.querySelectorAll('.rw-from-response .rw-message-text')].pop()"
                         " === document.activeElement")


def test_focus_moves_to_each_new_question(site):
    with browser_page() as page:
        page.goto(site.patient_url + "/")
        page.get_by_role("button", name="I am the patient").wait_for(timeout=60_000)
        count = page.locator(".rw-from-response .rw-message-text").count()
        page.get_by_role("button", name="I am the patient").click()
        wait_for_new_question(page, count)
        focused_question(page, "Which illness")
        assert contrast(page, page.evaluate_handle("document.activeElement")) >= 3
        # The next Tab reaches the new question's first button.
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.getAttribute('role')") == "button"
        assert contrast(page, page.evaluate_handle("document.activeElement")) >= 3
        count = page.locator(".rw-from-response .rw-message-text").count()
        page.locator(".rw-replies").last.get_by_role("button", name="Lupus (SLE)").focus()
        page.keyboard.press("Enter")
        wait_for_new_question(page, count)
        focused_question(page, "still active")
        # Typing keeps the focus in the text box (the conversation log announces the question).
        box = page.get_by_label("Your answer")
        box.click()
        assert contrast(page, box.element_handle()) >= 3  # the text box has a focus ring
        count = page.locator(".rw-from-response .rw-message-text").count()
        box.fill("yes")
        page.keyboard.press("Enter")
        wait_for_new_question(page, count)
        page.wait_for_timeout(800)
        assert page.evaluate("document.activeElement.matches('textarea')")


def test_a_parent_sees_cards_for_the_child_and_hi_clears_them(site):
    with browser_page() as page:
        page.goto(site.patient_url + "/")
        page.get_by_role("button", name="I'm a parent or guardian").wait_for(timeout=60_000)
        count = page.locator(".rw-from-response .rw-message-text").count()
        page.get_by_role("button", name="I'm a parent or guardian").click()
        wait_for_new_question(page, count)
        count = page.locator(".rw-from-response .rw-message-text").count()
        page.get_by_label("Your answer").fill("rheumatoid arthritis")
        page.keyboard.press("Enter")
        wait_for_new_question(page, count)
        assert "Is that right?" in last_question(page)
        page.locator(".rw-replies").last.get_by_role("button", name="Yes, that's right").click()
        cards = page.locator("#result-cards > li")
        cards.first.wait_for()
        assert cards.locator(".verdict").all_inner_texts() == ["Does not seem to fit"] * 5
        wuhan = page.locator("#result-cards > li[data-trial-id='cd19-bcma-car-t-sle-wuhan']")
        assert "Phone" not in wuhan.inner_text()  # nothing to call about
        assert "This study is for lupus (SLE)." in wuhan.inner_text() and "24 weeks" not in wuhan.inner_text()
        wuhan.locator("summary").click()
        assert "your child's own white blood cells" in wuhan.inner_text()
        assert "Your results are ready. 5 studies do not seem to fit." in page.locator("#results-status").inner_text()
        page.wait_for_timeout(800)
        no_serious_axe_violations(page, "patient-no-fit")
        # A reload keeps the cards (not announced again, and the focus is not taken).
        page.reload()
        cards.first.wait_for()
        assert cards.count() == 5 and page.locator("#results-status").inner_text() == ""
        # A new screening clears the cards, and a reload does not bring them back.
        count = page.locator(".rw-from-response .rw-message-text").count()
        page.get_by_label("Your answer").fill("hi")
        page.keyboard.press("Enter")
        wait_for_new_question(page, count)
        page.get_by_text("who is answering").last.wait_for()
        page.wait_for_function("() => document.getElementById('results').hidden")
        assert cards.count() == 0 and page.locator("#results-status").inner_text() == ""
        page.reload()
        page.get_by_text("who is answering").last.wait_for()
        page.wait_for_timeout(1000)
        assert cards.count() == 0 and not page.locator("#results").is_visible()


def test_phone_width_with_labelled_controls(site):
    with browser_page(width=390, height=844) as page:
        page.goto(site.patient_url + "/")
        page.get_by_role("button", name="I am the patient").wait_for(timeout=60_000)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert page.get_by_label("Your answer").is_visible()
        assert small_controls(page) == []
        page.get_by_role("button", name="I am the patient").focus()
        page.keyboard.press("Enter")
        page.get_by_text("Which illness").wait_for()
        page.wait_for_timeout(800)
        assert small_controls(page) == []  # the reply buttons too
        screenshot(page, "patient-phone")
        no_serious_axe_violations(page, "patient-phone-question")


def test_phone_width_results_fit_the_screen(site, catalog):
    with browser_page(width=390, height=844) as page:
        page.goto(site.patient_url + "/")
        screen_to_the_results(page)
        page.get_by_text("contact you?").last.wait_for()
        page.wait_for_timeout(800)
        assert page.locator("#result-cards > li").count() == len(catalog.trials)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert small_controls(page) == []
        screenshot(page, "patient-results-phone")
        for summary in page.locator("#result-cards summary").all():
            summary.click()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert small_controls(page) == []  # the details' contents too
        screenshot(page, "patient-results-phone-details")
        no_serious_axe_violations(page, "patient-results-phone")


def test_desktop_width_has_no_sideways_scrolling(site):
    with browser_page(width=1280, height=900) as page:
        page.goto(site.patient_url + "/")
        page.get_by_role("button", name="I am the patient").wait_for(timeout=60_000)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        screenshot(page, "patient-desktop")
        no_serious_axe_violations(page, "patient-desktop-start")


def test_the_multi_select_offer_then_one_consent_per_chosen_site(site, catalog):
    """After the results: one question lists every study; taps toggle them, "Done" goes on, and each
    chosen site gets its own consent text naming it; nothing identifying is asked before a yes."""
    with browser_page() as page:
        page.goto(site.patient_url + "/")
        screen_to_the_results(page)
        page.get_by_text("Which study teams may contact you?").last.wait_for()
        replies = page.locator(".rw-replies").last
        titles = replies.get_by_role("button").all_inner_texts()
        assert "None of them" in titles and len(titles) == len(catalog.trials) + 1
        wuhan, nanjing = catalog.trial("cd19-bcma-car-t-sle-wuhan"), catalog.trial("ultra-fast-cd19-car-t-sle-nanjing")
        for trial in (wuhan, nanjing):
            count = page.locator(".rw-from-response .rw-message-text").count()
            page.locator(".rw-replies").last.get_by_role("button", name=str(trial.short_title)).first.click()
            wait_for_new_question(page, count)
        replies = page.locator(".rw-replies").last
        ticked = [t for t in replies.get_by_role("button").all_inner_texts() if t.startswith("✓")]
        assert len(ticked) == 2 and "Done" in replies.get_by_role("button").all_inner_texts()
        count = page.locator(".rw-from-response .rw-message-text").count()
        replies.get_by_role("button", name="Done", exact=True).click()
        wait_for_new_question(page, count)
        consent = last_question(page)
        assert "Do you agree?" in consent and wuhan.sites[0].name in consent and "What name" not in consent
        count = page.locator(".rw-from-response .rw-message-text").count()
        page.locator(".rw-replies").last.get_by_role("button", name="No", exact=True).click()
        wait_for_new_question(page, count)
        second = last_question(page)  # the next chosen site has its own consent, naming it
        assert "Do you agree?" in second and nanjing.sites[0].name in second
        screenshot(page, "patient-consent-second-site")
        no_serious_axe_violations(page, "patient-consent")
