"""A coordinator in a real browser: sign in, open a handoff, change its status."""

from browser import ARTIFACTS, axe_violations, browser_page, screenshot
from test_staff_web import PASSWORD
from test_staff_web import web  # noqa: F401 - the running web process with its data


def english(page, web):  # noqa: F811 - the fixture's name
    """Every site reads Chinese; these tests read the English pages, as the switch chooses them
    (tests/test_staff_chinese.py has the Chinese ones and the switch itself)."""
    page.context.add_cookies([{"name": "prescreen_staff_language", "value": "en", "url": web.web_url + "/staff/"}])


def test_a_coordinator_signs_in_opens_a_handoff_and_changes_its_status(web):  # noqa: F811
    handoff_id = web.ids["wang"][0]
    with browser_page() as page:
        english(page, web)
        page.goto(web.web_url + "/staff/")
        assert page.url.startswith(web.web_url + "/staff/login")
        page.get_by_label("Username").fill("wang")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="Patients who asked to be contacted").wait_for()
        page.get_by_role("link", name="Wang Fang").click()
        page.get_by_role("heading", name="Wang Fang").wait_for()
        assert handoff_id in page.url
        page.get_by_label("Change to").select_option(label="Contacted")
        page.get_by_label("Note (what happened)").fill("Called at 10:00; visit next week.")
        page.get_by_role("button", name="Save").click()
        page.wait_for_url(f"**/staff/handoffs/{handoff_id}")
        assert page.locator("#status").inner_text() == "Contacted"
        assert "Called at 10:00" in page.content()
        frame = page.frame_locator("iframe.summary")
        frame.get_by_role("heading", name="预筛查摘要").wait_for()  # as the site received it: in its language
        assert "Wang Fang" in frame.locator("body").inner_text()
        page.locator("iframe.summary").scroll_into_view_if_needed()
        path = screenshot(page, "staff-handoff-after-status-change")
    assert path.stat().st_size > 10_000
    with web.db.transaction() as session:
        from sqlalchemy import select

        from prescreen.storage import AuditRecord
        actions = [a.action for a in session.scalars(select(AuditRecord).where(
            AuditRecord.record == f"handoff:{handoff_id}", AuditRecord.actor == "staff:wang"))]
    assert "status_changed" in actions and "handoff_viewed" in actions


def sign_in(page, web, username):  # noqa: F811 - the fixture's name
    english(page, web)
    page.goto(web.web_url + "/staff/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Patients who asked to be contacted").wait_for()


def test_the_profile_line_is_what_a_coordinator_sees_first(web):  # noqa: F811
    from test_staff_web import RICH_NAME

    rich_id = web.ids["rich"][0]
    with browser_page() as page:
        sign_in(page, web, "anna")
        row = page.locator("tr", has=page.get_by_role("link", name=RICH_NAME))
        line = row.locator("p.profile")
        assert line.is_visible()
        text = line.inner_text()
        for part in ("34 years", "Female", "Lupus (SLE)", "answered by the patient", "Mandarin",
                     "best time: weekday mornings", "CAR-NK cells for lupus (Hangzhou)", "may be a match"):
            assert part in text, (part, text)
        box = line.bounding_box()
        assert box["height"] < 60  # one line (or two at most) at desktop width, not a paragraph
        later = page.locator("tr.later p.profile").first.inner_text()
        assert "may fit after a waiting period (from about 20" in later
        screenshot(page, "staff-list-profiles")
        page.get_by_role("link", name=RICH_NAME).click()
        page.get_by_role("heading", name=RICH_NAME).wait_for()
        assert rich_id in page.url
        profile = page.locator("#profile")
        assert profile.inner_text().startswith("34 years · Female · Lupus (SLE)")
        # The profile is on the first screen, above the contact details.
        assert profile.bounding_box()["y"] < page.get_by_role("heading", name="Contact").bounding_box()["y"] < 900
        routine = page.locator("details.routine")
        assert not routine.get_attribute("open") and not routine.locator("li").first.is_visible()
        routine.locator("summary").click()
        assert routine.locator("li").first.is_visible()  # collapsed, one click away
        first = page.locator("#to-verify ul.verify").nth(1).locator("li").first
        assert first.locator(".tag").inner_text() == "patient not sure" and "HIV" in first.inner_text()
        screenshot(page, "staff-detail-profile")


def test_staff_pages_have_no_serious_accessibility_violations(web):  # noqa: F811
    rich_id = web.ids["rich"][0]
    found = {}
    with browser_page() as page:
        page.goto(web.web_url + "/staff/login")
        found["staff-login"] = axe_violations(page, "staff-login")
        sign_in(page, web, "anna")
        found["staff-list"] = axe_violations(page, "staff-list")
        page.goto(f"{web.web_url}/staff/handoffs/{rich_id}")
        page.locator("#profile").wait_for()
        found["staff-detail"] = axe_violations(page, "staff-detail")
        page.goto(f"{web.web_url}/staff/handoffs/{web.ids['gone'][0]}")
        found["staff-detail-withdrawn"] = axe_violations(page, "staff-detail-withdrawn")
        page.goto(f"{web.web_url}/staff/handoffs/{rich_id}/audit")
        page.get_by_role("heading", name="Audit log").wait_for()
        found["staff-audit"] = axe_violations(page, "staff-audit")
        page.goto(f"{web.web_url}/staff/handoffs/no-such-handoff")
        found["staff-error"] = axe_violations(page, "staff-error")
        # The site's summary as sent: its page is sandboxed (no script runs there, axe neither), so
        # axe checks the same document opened on its own.
        sent = page.request.get(f"{web.web_url}/staff/handoffs/{rich_id}/summary")
        assert sent.ok and "预筛查摘要" in sent.text()  # as the site received it: in its language
        page.set_content(sent.text())
        found["site-summary"] = axe_violations(page, "site-summary")
    assert found == {name: [] for name in found}, found
    assert (ARTIFACTS / "axe-staff-detail.json").exists()


def test_the_staff_pages_fit_a_phone(web):  # noqa: F811
    from test_staff_web import RICH_PROFILE

    with browser_page(390, 844) as page:
        sign_in(page, web, "anna")
        wide = "() => document.documentElement.scrollWidth - window.innerWidth"
        assert page.evaluate(wide) <= 0
        assert RICH_PROFILE in page.locator("table.patients").inner_text()
        screenshot(page, "staff-list-phone")
        page.goto(f"{web.web_url}/staff/handoffs/{web.ids['rich'][0]}")
        page.locator("#profile").wait_for()
        assert page.evaluate(wide) <= 0
        small = page.evaluate("""() => [...document.querySelectorAll('main button, main select, main input:not([type=hidden])')]
            .filter(e => e.getBoundingClientRect().height < 44).map(e => e.outerHTML.slice(0, 60))""")
        assert small == []
        screenshot(page, "staff-detail-phone")
