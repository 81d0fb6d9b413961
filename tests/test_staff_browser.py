"""A coordinator in a real browser: sign in, open a handoff, change its status."""

from browser import browser_page, screenshot
from test_staff_web import PASSWORD
from test_staff_web import web  # noqa: F401 - the running web process with its data


def test_a_coordinator_signs_in_opens_a_handoff_and_changes_its_status(web):  # noqa: F811
    handoff_id = web.ids["wang"][0]
    with browser_page() as page:
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
        frame.get_by_role("heading", name="Pre-screening summary").wait_for()
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
