"""Staff pages and the JSON API, with a real HTTP client against the running web process.

Two sites with one coordinator each, made with the documented accounts command; their
handoffs are made by the core package, as a screening with consent makes them.
"""
import csv
import html
import io
import re
import time

import pytest
import requests

from prescreen.referral.handoff import create_handoff, erase_conversation, save_screening
from prescreen.screening.conversation import Screening
from prescreen.storage import Database
from prescreen.referral.summary import Contact
from servers import Assistant
from test_handoff import adult_screening

PASSWORD = "a long test password"
IDLE_SECONDS = 4
ANNA_SITE, WANG_SITE = "hangzhou-zju-second", "wuhan-union"
ANNA_TRIAL, WANG_TRIAL = "NCT06421701", "cd19-bcma-car-t-sle-wuhan"
HOSTILE_NAMES = ["=HYPERLINK(\"http://evil\",\"x\")", "+1 555", "-2+3", "@SUM(A1)", "\tTabbed", "\rReturn"]


def handoff(db, catalog, trial, name, conversation, screening=None, contact=None):
    s = screening or adult_screening()
    screening_id = save_screening(db, catalog, conversation, s)
    handoff_id = create_handoff(db, catalog, conversation, screening_id, s, trial,
                                contact or Contact(name=name, phone="13800138000"),
                                "1", "consent text", env={"PRESCREEN_OUTBOX_DIR": "unused"})
    return handoff_id, screening_id


# A patient with more answers: a not-sure answer, a "how long ago", a non-ASCII name, medicines.
RICH_NAME = "Zhāng Wěi 张伟"
RICH_MEDICINES = "prednisone 10 mg; hydroxychloroquine"
CHILD_SITE, CHILD_TRIAL = "hangzhou-zju-childrens", "cd19-car-t-sle-children-hangzhou"


def rich_screening():
    from prescreen.screening.durations import DaysAgo

    s = Screening(respondent="self")
    s.record({"condition": "sle"}, "lupus")
    s.record({"diagnosis_when": DaysAgo.exactly(730)}, "two years ago")
    s.record({"age": 34}, "I'm 34")
    s.record({"sex": "female"}, "woman")
    s.record({"refractory": True}, "yes")
    s.record({"hiv": "not_sure"}, "I don't know")
    return s


def child_screening():
    s = Screening(respondent="guardian")
    s.record({"condition": "sle"}, "lupus")
    s.record({"age": 9}, "she is 9")
    s.record({"sex": "female"}, "girl")
    return s


def waiting_screening():
    from prescreen.screening.durations import DaysAgo

    s = adult_screening()
    s.record({"live_vaccine": True}, "yes")
    s.record({"live_vaccine_when": DaysAgo.exactly(14)}, "two weeks ago")
    return s


@pytest.fixture(scope="module")
def web(tmp_path_factory, catalog):
    servers = Assistant(tmp_path_factory.mktemp("web"), env={"STAFF_IDLE_SECONDS": str(IDLE_SECONDS)})
    db = Database(servers.env["PRESCREEN_DB_URL"])
    db.create_schema()
    servers.ids = {
        "anna": handoff(db, catalog, ANNA_TRIAL, "Chen <b>Mei</b>", "conv-anna"),
        "wang": handoff(db, catalog, WANG_TRIAL, "Wang Fang", "conv-wang"),
        "csv": [handoff(db, catalog, ANNA_TRIAL, name, f"conv-csv-{i}")[0] for i, name in enumerate(HOSTILE_NAMES)],
        "rich": handoff(db, catalog, ANNA_TRIAL, RICH_NAME, "conv-rich", rich_screening(),
                        Contact(name=RICH_NAME, phone="13900139000", preferred_time="weekday mornings",
                                language="Mandarin", medicines=RICH_MEDICINES)),
        "later": handoff(db, catalog, ANNA_TRIAL, "Later Wait", "conv-later", waiting_screening()),
        "child": handoff(db, catalog, CHILD_TRIAL, "Zhou Parent", "conv-child", child_screening(),
                         Contact(name="Zhou Parent", phone="13700137000", language="English")),
        "gone": handoff(db, catalog, ANNA_TRIAL, "Gone Away", "conv-gone"),
    }
    erase_conversation(db, "conv-gone")  # withdrawn: the row stays, with nothing personal
    servers.db = db
    servers.accounts("add-user", "anna", "--name", "Anna Li", "--site", ANNA_SITE, "--password-stdin", password=PASSWORD)
    servers.accounts("add-user", "wang", "--name", "Wang Lei", "--site", WANG_SITE, "--password-stdin", password=PASSWORD)
    servers.accounts("add-user", "locked", "--name", "Lock Test", "--site", WANG_SITE, "--password-stdin",
                     password=PASSWORD)
    servers.accounts("add-user", "zhou", "--name", "Zhou Min", "--site", CHILD_SITE, "--password-stdin",
                     password=PASSWORD)
    servers.tokens = {site: servers.accounts("add-token", site, "--label", "HIS") for site in (ANNA_SITE, WANG_SITE)}
    try:
        servers.start_web()
        yield servers
    finally:
        servers.stop()
        db.engine.dispose()


# Every site reads Chinese (trials/*.yml), so its staff get Chinese pages; these tests read the
# English ones, chosen as the switch does (tests/test_staff_chinese.py has the Chinese pages).
ENGLISH = {"prescreen_staff_language": "en"}


def login(web, username="anna", password=PASSWORD, language="en") -> requests.Session:
    client = requests.Session()
    if language:
        client.cookies.set("prescreen_staff_language", language)
    reply = client.post(web.web_url + "/staff/login", data={"username": username, "password": password},
                        allow_redirects=False)
    assert reply.status_code == 302, reply.text
    return client


def csrf(client, web, path="/staff/") -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get(web.web_url + path).text).group(1)


def audit(web, action, record=None):
    from sqlalchemy import select

    from prescreen.storage import AuditRecord

    with web.db.transaction() as session:
        query = select(AuditRecord).where(AuditRecord.action == action)
        if record:
            query = query.where(AuditRecord.record == record)
        return list(session.scalars(query))


def test_sign_in_is_needed_everywhere(web):
    anna_id = web.ids["anna"][0]
    for path in ["/staff/", "/staff/export.csv", f"/staff/handoffs/{anna_id}", f"/staff/handoffs/{anna_id}/summary",
                 f"/staff/handoffs/{anna_id}/audit"]:
        for cookies in ({}, {"prescreen_staff": "made-up"}):
            reply = requests.get(web.web_url + path, cookies=cookies, allow_redirects=False)
            assert reply.status_code == 302 and reply.headers["Location"].startswith("/staff/login"), path
    reply = requests.post(f"{web.web_url}/staff/handoffs/{anna_id}/status", data={"status": "contacted"},
                          allow_redirects=False)
    assert reply.status_code == 302
    for path in ["/api/handoffs", f"/api/screenings/{web.ids['anna'][1]}"]:
        for headers in ({}, {"Authorization": "Bearer made-up"}, {"Authorization": web.tokens[ANNA_SITE]}):
            assert requests.get(web.web_url + path, headers=headers).status_code == 401, path


def test_wrong_password_is_refused_and_audited(web):
    reply = requests.post(web.web_url + "/staff/login", data={"username": "anna", "password": "wrong password!"},
                          allow_redirects=False, cookies=ENGLISH)
    assert reply.status_code == 401 and "prescreen_staff" not in reply.cookies
    assert "Wrong username or password" in reply.text
    assert audit(web, "login_failed", "account:anna")


def test_wrong_passwords_slow_down_the_address_but_never_lock_the_account(web):
    from prescreen.staff.accounts import LoginThrottle

    for _ in range(LoginThrottle.FREE_FAILURES + 1):
        requests.post(web.web_url + "/staff/login", data={"username": "locked", "password": "nope nope nope"})
    reply = requests.post(web.web_url + "/staff/login", data={"username": "locked", "password": PASSWORD},
                          allow_redirects=False, cookies=ENGLISH)
    assert reply.status_code == 429 and "Please wait" in reply.text  # even the right password waits
    assert audit(web, "login_throttled")
    time.sleep(LoginThrottle.BASE_SECONDS + 0.5)
    reply = requests.post(web.web_url + "/staff/login", data={"username": "locked", "password": PASSWORD},
                          allow_redirects=False)
    assert reply.status_code == 302  # the account was never locked


def test_passwords_are_stored_only_as_hashes(web):
    from sqlalchemy import select

    from prescreen.storage import AccountRecord

    with web.db.transaction() as session:
        hashes = list(session.scalars(select(AccountRecord.password_hash)))
    assert hashes and all(h.startswith("scrypt$") and PASSWORD not in h for h in hashes)


def test_an_idle_session_expires(web):
    client = login(web)
    assert client.get(web.web_url + "/staff/", allow_redirects=False).status_code == 200
    time.sleep(IDLE_SECONDS + 1.5)
    reply = client.get(web.web_url + "/staff/", allow_redirects=False)
    assert reply.status_code == 302 and reply.headers["Location"].startswith("/staff/login")


def test_sign_out_ends_the_session(web):
    client = login(web)
    token = client.cookies["prescreen_staff"]
    client.post(web.web_url + "/staff/logout", data={"csrf": csrf(client, web)})
    reply = requests.get(web.web_url + "/staff/", cookies={"prescreen_staff": token}, allow_redirects=False)
    assert reply.status_code == 302


def test_each_site_sees_only_its_own_handoffs(web):
    anna, wang = login(web, "anna"), login(web, "wang")
    anna_id, wang_id = web.ids["anna"][0], web.ids["wang"][0]
    page = anna.get(web.web_url + "/staff/").text
    assert anna_id in page and wang_id not in page and "Wang Fang" not in page
    assert "Chen &lt;b&gt;Mei&lt;/b&gt;" in page and "<b>Mei" not in page  # patient text never becomes markup
    for path in [f"/staff/handoffs/{wang_id}", f"/staff/handoffs/{wang_id}/summary", f"/staff/handoffs/{wang_id}/audit"]:
        reply = anna.get(web.web_url + path)
        assert reply.status_code == 404 and "Wang Fang" not in reply.text, path
    reply = anna.post(f"{web.web_url}/staff/handoffs/{wang_id}/status",
                      data={"status": "contacted", "csrf": csrf(anna, web)})
    assert reply.status_code == 404
    denied = audit(web, "access_denied", f"handoff:{wang_id}")
    assert {d.actor for d in denied} == {"staff:anna"} and len(denied) == 4
    assert wang_id not in anna.get(web.web_url + "/staff/export.csv").text
    assert wang.get(f"{web.web_url}/staff/handoffs/{wang_id}").status_code == 200


def test_api_tokens_see_only_their_site(web):
    headers = {"Authorization": f"Bearer {web.tokens[ANNA_SITE]}"}
    listing = requests.get(web.web_url + "/api/handoffs", headers=headers).json()
    assert listing["site_id"] == ANNA_SITE
    assert {h["trial_id"] for h in listing["handoffs"]} == {ANNA_TRIAL}
    assert web.ids["wang"][0] not in {h["handoff_id"] for h in listing["handoffs"]}
    own = requests.get(f"{web.web_url}/api/screenings/{web.ids['anna'][1]}", headers=headers).json()
    [result] = own["results"]
    assert result["trial_id"] == ANNA_TRIAL and result["verdict"] == "possibly_eligible"
    assert all({"id", "status", "text"} <= set(c) for c in result["criteria"])
    assert {a["fact"]: a["said"] for a in own["answers"]}["age"] == "I'm 34"
    assert own["handoffs"][0]["delivery"]["status"] == "pending"
    other = requests.get(f"{web.web_url}/api/screenings/{web.ids['wang'][1]}", headers=headers)
    assert other.status_code == 404 and "Wang" not in other.text
    filtered = requests.get(web.web_url + "/api/handoffs?status=enrolled", headers=headers).json()
    assert filtered["handoffs"] == []
    assert requests.get(web.web_url + "/api/handoffs?from=yesterday", headers=headers).status_code == 400


def test_status_changes_and_notes_are_kept_and_audited(web):
    client = login(web, "anna")
    handoff_id = web.ids["anna"][0]
    url = f"{web.web_url}/staff/handoffs/{handoff_id}"
    token = csrf(client, web, f"/staff/handoffs/{handoff_id}")
    assert client.post(url + "/status", data={"status": "enrolled", "csrf": token}).status_code == 400  # not from new
    assert client.post(url + "/status", data={"status": "contacted"}).status_code == 403  # no CSRF token
    reply = client.post(url + "/status", data={"status": "contacted", "note": "Called, <i>keen</i>", "csrf": token},
                        allow_redirects=False)
    assert reply.status_code == 303
    page = client.get(url).text
    assert 'id="status">Contacted<' in page and "Called, &lt;i&gt;keen&lt;/i&gt;" in page
    [change] = audit(web, "status_changed", f"handoff:{handoff_id}")
    assert change.actor == "staff:anna" and change.detail == "new -> contacted"
    audit_page = client.get(url + "/audit").text
    assert "status_changed" in audit_page and "handoff_viewed" in audit_page and "staff:anna" in audit_page
    assert client.get(web.web_url + "/staff/?status=contacted").text.count("/staff/handoffs/") == 1


def test_csv_export_neutralises_formulas_and_is_audited(web):
    client = login(web, "anna")
    reply = client.get(web.web_url + "/staff/export.csv")
    assert reply.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(reply.text)))
    names = {row["name"] for row in rows}
    for hostile in HOSTILE_NAMES:  # a tab or CR is a control character: shown as U+FFFD
        assert "'" + hostile.replace("\t", "\ufffd").replace("\r", "\ufffd") in names
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row.values())
    assert any(a.actor == "staff:anna" for a in audit(web, "exported"))


def test_list_filters_by_study_and_date(web):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    client = login(web, "anna")
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()  # the sites' own days
    assert "No patients match" in client.get(web.web_url + "/staff/?from=2001-01-01&to=2001-01-02").text
    assert web.ids["anna"][0] in client.get(f"{web.web_url}/staff/?trial={ANNA_TRIAL}&from={today}&to={today}").text
    assert "No patients match" in client.get(f"{web.web_url}/staff/?trial={WANG_TRIAL}").text
    assert client.get(web.web_url + "/staff/?status=bogus").status_code == 400


def test_sign_in_never_redirects_to_another_site(web):
    client = requests.Session()
    reply = client.post(web.web_url + "/staff/login", allow_redirects=False,
                        data={"username": "wang", "password": PASSWORD, "next": "//evil.example/staff/"})
    assert reply.headers["Location"] == "/staff/"


def test_pages_send_protective_headers(web):
    client = login(web, "anna")
    reply = client.get(web.web_url + "/staff/")
    assert reply.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in reply.headers["Content-Security-Policy"]
    summary = client.get(f"{web.web_url}/staff/handoffs/{web.ids['anna'][0]}/summary")
    assert summary.headers["Content-Security-Policy"].startswith("sandbox")


def test_the_web_process_runs_the_relay_as_make_run_starts_it(tmp_path, catalog):
    servers = Assistant(tmp_path, env={"RELAY_IN_WEB": "1"})
    db = Database(servers.env["PRESCREEN_DB_URL"])
    db.create_schema()
    s = adult_screening()
    handoff_id = create_handoff(db, catalog, "conv-web-relay", save_screening(db, catalog, "conv-web-relay", s), s,
                                ANNA_TRIAL, Contact(name="Relay Test", phone="13800138000"), "1", "consent text",
                                env={"PRESCREEN_OUTBOX_DIR": servers.env["PRESCREEN_OUTBOX_DIR"]})
    summary = tmp_path / "outbox" / f"{handoff_id}.txt"
    try:
        servers.start_web()
        deadline = time.monotonic() + 30
        while not summary.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert summary.exists() and "Relay Test" in summary.read_text()
    finally:
        servers.stop()
        db.engine.dispose()


# ---- summaries coordinators can act on at a glance (issue 14) ----

RICH_PROFILE = ("34 years · Female · Lupus (SLE) · answered by the patient · Mandarin · best time: weekday mornings"
                " · CAR-NK cells for lupus (Hangzhou) · may be a match · New")


def shanghai_today():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def waiting_date(catalog):
    from datetime import timedelta

    from prescreen.screening.eligibility import evaluate_trial

    result = evaluate_trial(catalog.trial(ANNA_TRIAL), waiting_screening().values(), list(catalog.facts))
    assert result.verdict == "possibly_eligible_later" and result.wait_days
    return (shanghai_today() + timedelta(days=result.wait_days)).isoformat()


def text_of(markup: str) -> str:
    """What a reader sees of some HTML: the text without its tags."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def profile_of(markup: str) -> str:
    """The text of the first profile line in this HTML."""
    return text_of(re.search(r'<p class="profile[^"]*"[^>]*>(.*?)</p>', markup, re.S).group(1))


def row_of(page: str, handoff_id: str) -> str:
    """The list's table row that links to this handoff."""
    start = page.index(f'href="/staff/handoffs/{handoff_id}"')
    return page[page.rindex("<tr", 0, start):page.index("</tr>", start)]


def test_the_list_starts_each_patient_with_a_one_line_profile(web, catalog):
    page = login(web, "anna").get(web.web_url + "/staff/").text
    rich = row_of(page, web.ids["rich"][0])
    assert profile_of(rich) == RICH_PROFILE and 'class="missing' not in rich
    later = row_of(page, web.ids["later"][0])
    assert f"may fit after a waiting period (from about {waiting_date(catalog)})" in profile_of(later)
    assert 'class="status-new later"' in later and '<span class="p-sex missing">sex not given</span>' in later
    assert profile_of(row_of(page, web.ids["gone"][0])) == "Withdrawn by the patient · CAR-NK cells for lupus (Hangzhou)"
    assert f">{ANNA_TRIAL}<" not in page  # the study by its short title, never its id
    assert "Received <span class=\"zone\">(Asia/Shanghai)</span>" in page  # times in the sites' zone, and said so
    child = login(web, "zhou").get(web.web_url + "/staff/").text
    assert profile_of(row_of(child, web.ids["child"][0])) == (
        "9 years · Female · Lupus (SLE) · parent of a 9-year-old · English · best time: not given · "
        "CAR-T cells for lupus at a children's hospital, age 5 and over (Hangzhou) · may be a match · New")


def test_the_detail_page_groups_what_is_still_to_verify(web, catalog):
    page = login(web, "anna").get(f"{web.web_url}/staff/handoffs/{web.ids['rich'][0]}").text
    assert profile_of(page) == RICH_PROFILE and page.index('id="profile"') < page.index('id="contact-h"')
    inclusion, exclusion = page.index('id="verify-inclusion"'), page.index('id="verify-exclusion"')
    routine = page.index('<details class="routine">')
    assert inclusion < exclusion < routine
    items = re.findall(r'<li class="(\w+)"><span class="tag">([^<]+)</span> ([^<]+)', page[exclusion:routine])
    # The patient's not-sure answer first, labelled; then the listing's own order.
    assert items[0][:2] == ("not_sure", "patient not sure") and "HIV" in items[0][2]
    assert {status for status, _, _ in items} == {"not_sure", "unknown", "verify_site"}
    assert {label for _, label, _ in items} == {"patient not sure", "not asked", "verify at site"}
    listing = [c.text for c in catalog.trial(ANNA_TRIAL).criteria if c.kind == "exclusion"]
    places = [(status != "not_sure", next(i for i, c in enumerate(listing) if c.startswith(html.unescape(text).strip())))
              for status, _, text in items]
    assert len(places) >= 5 and places == sorted(places)  # not sure first, each block in the listing's order
    # Boilerplate only under the collapsed routine items.
    consent_text = "sign an informed consent form"
    assert consent_text not in page[inclusion:routine] and consent_text in page[routine:]
    assert "investigators consider it inappropriate" in page[routine:]
    assert "Open: HIV (ever tested positive)" in page


def test_answers_medicines_and_consent_time_are_shown_in_words_and_local_time(web):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    page = login(web, "anna").get(f"{web.web_url}/staff/handoffs/{web.ids['rich'][0]}").text
    answers = page[page.index('id="answers-h"'):page.index('id="delivery-h"')]
    assert "<td>Lupus (SLE)</td>" in answers and "<td>about 2 years ago</td>" in answers
    assert "<td>Illness</td>" in answers and "<td>not sure</td>" in answers and "<td>Female</td>" in answers
    assert ">sle<" not in answers and "730" not in answers and "days ago" not in answers
    assert f'id="medicines">{RICH_MEDICINES}<' in page
    with web.db.transaction() as session:
        from prescreen.storage import HandoffRecord

        accepted = datetime.fromisoformat(session.get(HandoffRecord, web.ids["rich"][0]).payload["consent"]["accepted_at"])
    local = accepted.astimezone(ZoneInfo("Asia/Shanghai"))
    assert f"accepted {local:%Y-%m-%d %H:%M} (Asia/Shanghai), version 1" in page
    later = login(web, "anna").get(f"{web.web_url}/staff/handoffs/{web.ids['later'][0]}").text
    assert "may fit after a waiting period (from about" in profile_of(later)
    assert later.index('class="profile later"') < later.index('id="contact-h"')


def test_csv_has_the_profile_notes_and_withdrawn_flag_and_keeps_non_ascii_names(web):
    client = login(web, "anna")
    url = f"{web.web_url}/staff/handoffs/{web.ids['rich'][0]}"
    reply = client.post(url + "/status", data={"status": "contacted", "note": "Called.\nShe will send =her labs",
                                               "csrf": csrf(client, web, f"/staff/handoffs/{web.ids['rich'][0]}")},
                        allow_redirects=False)
    assert reply.status_code == 303
    raw = client.get(web.web_url + "/staff/export.csv").content
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel keeps the names
    rows = {row["handoff_id"]: row for row in csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))}
    rich = rows[web.ids["rich"][0]]
    assert (rich["name"], rich["age"], rich["sex"], rich["illness"]) == (RICH_NAME, "34", "Female", "Lupus (SLE)")
    assert rich["answered_by"] == "answered by the patient" and rich["study"] == "CAR-NK cells for lupus (Hangzhou)"
    assert rich["medicines"] == RICH_MEDICINES and rich["withdrawn"] == "no" and rich["status"] == "Contacted"
    assert rich["notes"].endswith("anna: Called. / She will send =her labs")
    assert rich["result"] == "may be a match" and rich["may_fit_from"] == ""
    later = rows[web.ids["later"][0]]
    assert later["result"].startswith("may fit after a waiting period") and later["may_fit_from"] in later["result"]
    gone = rows[web.ids["gone"][0]]
    assert gone["withdrawn"] == "yes" and gone["name"] == "withdrawn" and gone["age"] == ""
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows.values() for cell in row.values())


def test_the_api_gives_each_handoff_its_profile(web):
    headers = {"Authorization": f"Bearer {web.tokens[ANNA_SITE]}"}
    listing = {h["handoff_id"]: h for h in requests.get(web.web_url + "/api/handoffs", headers=headers).json()["handoffs"]}
    rich = listing[web.ids["rich"][0]]
    assert rich["profile"]["line"] == RICH_PROFILE.rsplit(" · ", 1)[0] + " · " + rich["profile"]["status"]
    assert (rich["profile"]["age"], rich["profile"]["illness"]) == (34, "Lupus (SLE)")
    assert rich["contact"]["medicines"] == RICH_MEDICINES
    assert listing[web.ids["later"][0]]["may_fit_from"]
