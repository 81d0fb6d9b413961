"""Staff pages and the JSON API, with a real HTTP client against the running web process.

Two sites with one coordinator each, made with the documented accounts command; their
handoffs are made by the core package, as a screening with consent makes them.
"""
import csv
import io
import re
import time

import pytest
import requests

from prescreen.referral.handoff import create_handoff, save_screening
from prescreen.storage import Database
from prescreen.referral.summary import Contact
from servers import Assistant
from test_handoff import adult_screening

PASSWORD = "a long test password"
IDLE_SECONDS = 4
ANNA_SITE, WANG_SITE = "hangzhou-zju-second", "wuhan-union"
ANNA_TRIAL, WANG_TRIAL = "NCT06421701", "cd19-bcma-car-t-sle-wuhan"
HOSTILE_NAMES = ["=HYPERLINK(\"http://evil\",\"x\")", "+1 555", "-2+3", "@SUM(A1)", "\tTabbed", "\rReturn"]


def handoff(db, catalog, trial, name, conversation):
    s = adult_screening()
    screening_id = save_screening(db, catalog, conversation, s)
    handoff_id = create_handoff(db, catalog, conversation, screening_id, s, trial, Contact(name=name, phone="13800138000"),
                                "1", "consent text", env={"PRESCREEN_OUTBOX_DIR": "unused"})
    return handoff_id, screening_id


@pytest.fixture(scope="module")
def web(tmp_path_factory, catalog):
    servers = Assistant(tmp_path_factory.mktemp("web"), env={"STAFF_IDLE_SECONDS": str(IDLE_SECONDS)})
    db = Database(servers.env["PRESCREEN_DB_URL"])
    db.create_schema()
    servers.ids = {
        "anna": handoff(db, catalog, ANNA_TRIAL, "Chen <b>Mei</b>", "conv-anna"),
        "wang": handoff(db, catalog, WANG_TRIAL, "Wang Fang", "conv-wang"),
        "csv": [handoff(db, catalog, ANNA_TRIAL, name, f"conv-csv-{i}")[0] for i, name in enumerate(HOSTILE_NAMES)],
    }
    servers.db = db
    servers.accounts("add-user", "anna", "--name", "Anna Li", "--site", ANNA_SITE, "--password-stdin", password=PASSWORD)
    servers.accounts("add-user", "wang", "--name", "Wang Lei", "--site", WANG_SITE, "--password-stdin", password=PASSWORD)
    servers.accounts("add-user", "locked", "--name", "Lock Test", "--site", WANG_SITE, "--password-stdin",
                     password=PASSWORD)
    servers.tokens = {site: servers.accounts("add-token", site, "--label", "HIS") for site in (ANNA_SITE, WANG_SITE)}
    try:
        servers.start_web()
        yield servers
    finally:
        servers.stop()
        db.engine.dispose()


def login(web, username="anna", password=PASSWORD) -> requests.Session:
    client = requests.Session()
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
                          allow_redirects=False)
    assert reply.status_code == 401 and "prescreen_staff" not in reply.cookies
    assert "Wrong username or password" in reply.text
    assert audit(web, "login_failed", "account:anna")


def test_wrong_passwords_slow_down_the_address_but_never_lock_the_account(web):
    from prescreen.staff.accounts import LoginThrottle

    for _ in range(LoginThrottle.FREE_FAILURES + 1):
        requests.post(web.web_url + "/staff/login", data={"username": "locked", "password": "nope nope nope"})
    reply = requests.post(web.web_url + "/staff/login", data={"username": "locked", "password": PASSWORD},
                          allow_redirects=False)
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
