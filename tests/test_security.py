"""Issue 16: each finding of the security review, reproduced against the real servers and
shown closed, and finding 1's attack end to end (a site coordinator who holds a summary
cannot read, continue or erase the patient's conversation).

The servers: action server (with its shared secret), Rasa server (REST with its token,
socketio with signed sessions), relay, and the staff web process; a real webhook
receiver stands for the sites. Rate limits and the https headers are in
test_security_limits.py (they need servers with other settings).
"""
from __future__ import annotations

import json
import os
import re
import smtplib
import sqlite3
import stat
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from prescreen.referral.delivery import DeliveryError, send_email, sign
from prescreen.referral.handoff import NotYourScreening, create_handoff, save_screening
from prescreen.referral.summary import Contact
from prescreen.screening.trials import load_catalog
from prescreen.storage import Database, TrackerEvents, utcnow
from receivers import WebhookReceiver
from servers import ROOT, Assistant, SocketChat, free_port, patient_reply, query, wait_for

PASSWORD = "a long test password"
SECRET = "webhook-test-secret"
GREETING = "who is answering"


def details(name: str, phone: str = "138 0013 8000") -> list[str]:
    """The first study listed, its consent, then the contact details (no medicines)."""
    return ["1", "yes", name, phone, "skip", "morning", "Mandarin", "skip"]


def texts(messages) -> str:
    return " ".join(m.get("text") or "" for m in messages)






@pytest.fixture(scope="module")
def webhook():
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def site(tmp_path_factory, webhook):
    catalog = load_catalog(ROOT / "trials")
    env = {"RELAY_LEASE_SECONDS": "3", "RELAY_BACKOFF_SECONDS": "0.5"}
    for trial in catalog.trials:  # every study's summaries go to the receiver, signed
        key = re.sub(r"[^A-Z0-9]", "_", trial.id.upper())
        env[f"DELIVERY_{key}_WEBHOOK_URL"] = webhook.url
        env[f"DELIVERY_{key}_WEBHOOK_SECRET"] = SECRET
    previous = os.umask(0o022)  # a careless shell: the servers must still keep their files private
    servers = Assistant(tmp_path_factory.mktemp("security"), env=env)
    try:
        servers.start_actions()
        servers.start_rasa()
        servers.start_relay()
        servers.start_web()
        os.umask(previous)
        servers.catalog = catalog
        servers.db = Database(servers.env["PRESCREEN_DB_URL"])
        sites = sorted({s.id for t in catalog.trials for s in t.sites})
        servers.site_ids = sites
        from prescreen.staff.accounts import create_account, create_api_token

        servers.db.create_schema()
        for i, site_id in enumerate(sites):  # as `accounts add-user` and `add-token` do, without a process each
            create_account(servers.db, f"coord{i}", f"Coordinator {i}", PASSWORD, [site_id], set(sites))
        servers.tokens = {s: create_api_token(servers.db, s, "HIS", set(sites)) for s in sites}
        yield servers
    finally:
        os.umask(previous)
        servers.stop()


def screen_and_consent(say, name: str, phone: str = "138 0013 8000") -> list[dict]:
    """A patient who may fit every study screens, and asks to be contacted for the first one."""
    messages = say("/greet")
    for _ in range(40):
        if any("results" in m or "custom" in m for m in messages):
            break
        messages = say(patient_reply(messages))
    else:
        raise AssertionError(f"no results: {texts(messages)}")
    said = []
    for reply in details(name, phone):
        said = say(reply)
    assert "will be sent to the study team" in texts(said), texts(said)
    return said


def handoff_of(site, name: str) -> dict:
    with sqlite3.connect(site.workdir / "prescreen.db") as db:
        row = db.execute("select id, screening_id, site_id, status from handoffs where contact_name = ?",
                         (name,)).fetchone()
    assert row, f"no handoff for {name}"
    return dict(zip(("id", "screening_id", "site_id", "status"), row))


def delivered_payload(webhook, handoff_id: str) -> dict:
    return wait_for(lambda: webhook.accepted.get(f"{handoff_id}-webhook"))


def login(site, site_id: str) -> requests.Session:
    username = f"coord{site.site_ids.index(site_id)}"
    client = requests.Session()
    reply = client.post(site.web_url + "/staff/login", data={"username": username, "password": PASSWORD},
                        allow_redirects=False)
    assert reply.status_code == 302, reply.text
    return client


def audit_rows(site, action: str) -> list[tuple]:
    return query(site.workdir / "prescreen.db", "select actor, record, detail, success from audit_log where action = ?",
                 action)


def erase_by_chat(say) -> str:
    reply = texts(say("please delete my data"))
    if "Do you want me to erase" in reply:
        reply = texts(say("yes"))
    return reply


# ---- finding 1: the conversation id was a password, and every site received it --------

@pytest.fixture(scope="module")
def patient(site, webhook):
    """A patient on the patient page's channel (socketio), handed to a site and delivered."""
    chat = SocketChat(site)
    screen_and_consent(chat.ask, "Mei Attackcase")
    handoff = handoff_of(site, "Mei Attackcase")
    assert delivered_payload(webhook, handoff["id"])
    yield chat, handoff
    chat.close()


def test_the_socketio_channel_issues_signed_sessions_and_refuses_others(site):
    first = SocketChat(site)
    conversation, signature = first.session.split(".")
    assert re.fullmatch(r"[0-9a-f]{32}", conversation) and len(signature) >= 40
    for made_up in ["my-own-id", conversation, f"{conversation}.{'A' * 43}", "x" * 500, "é.é"]:
        other = SocketChat(site, session_id=made_up)
        assert other.session != made_up and other.conversation_id != conversation, made_up
        other.close()
    first.close()
    again = SocketChat(site, session_id=first.session)  # the same browser after a reload: resumes
    assert again.session == first.session
    again.close()


def test_a_second_connection_cannot_take_over_a_live_session(site):
    owner = SocketChat(site)
    assert GREETING in texts(owner.ask("/greet")).lower()
    thief = SocketChat(site, session_id=owner.session)  # somehow got the whole token, while the owner is there
    assert thief.session != owner.session
    before = len(owner.replies)
    assert GREETING in texts(thief.ask("/greet")).lower()  # a conversation of its own, from the start
    time.sleep(1)
    assert len(owner.replies) == before  # the owner's room got nothing of the thief's
    owner.close()
    thief.close()


def test_the_rest_channel_needs_its_token(site):
    url = site.url + "/webhooks/rest/webhook"
    body = {"sender": "rest-token-check", "message": "hello"}
    assert requests.post(url, json=body, timeout=30).status_code == 401
    assert requests.post(url, json=body, headers={"Authorization": "Bearer wrong"}, timeout=30).status_code == 401
    assert requests.post(url, json=body, headers={"Authorization": "Bearer é"}, timeout=30).status_code == 401
    reply = requests.post(url, json=body, headers=site.rest_headers, timeout=30)
    assert reply.status_code == 200 and GREETING in texts(reply.json()).lower()


def test_sites_see_a_screening_reference_never_the_conversation_id(site, webhook, patient):
    chat, handoff = patient
    payload = delivered_payload(webhook, handoff["id"])
    client = login(site, handoff["site_id"])
    pages = [json.dumps(payload), webhook.requests[-1]["body"].decode(),
             client.get(f"{site.web_url}/staff/handoffs/{handoff['id']}").text,
             client.get(f"{site.web_url}/staff/handoffs/{handoff['id']}/summary").text,
             client.get(f"{site.web_url}/staff/export.csv").text,
             requests.get(f"{site.web_url}/api/screenings/{handoff['screening_id']}",
                          headers={"Authorization": f"Bearer {site.tokens[handoff['site_id']]}"}).text]
    for page in pages:
        assert chat.conversation_id not in page and chat.session.split(".")[1] not in page
    assert payload["screening_reference"] == handoff["screening_id"]
    assert handoff["screening_id"] in payload["summary"]["text"]


def test_a_coordinator_with_a_summary_cannot_read_continue_or_erase_the_conversation(site, webhook, patient):
    """Finding 1's attack, end to end."""
    chat, handoff = patient
    payload = delivered_payload(webhook, handoff["id"])
    reference = payload["screening_reference"]
    patient_seen = len(chat.replies)
    # Replay over REST, with the reference or even the real conversation id: no token, no conversation.
    for sender in (reference, chat.conversation_id):
        for text in ("go back", "please delete my data", "yes"):
            reply = requests.post(site.url + "/webhooks/rest/webhook", json={"sender": sender, "message": text},
                                  timeout=30)
            assert reply.status_code == 401 and "Mei" not in reply.text
    # Join over socketio with what the summary shows, or the raw id: a new, empty conversation.
    for asked in (reference, chat.conversation_id, f"{chat.conversation_id}.forged"):
        attacker = SocketChat(site, session_id=asked)
        assert attacker.conversation_id != chat.conversation_id
        said = texts(attacker.ask("/greet")).lower()
        assert GREETING in said and "mei" not in said
        erase_by_chat(attacker.ask)  # erases only the attacker's own, empty conversation
        attacker.close()
    # Call the action server directly, as Rasa would: refused without the shared secret.
    forged = {"next_action": "action_withdraw", "sender_id": chat.conversation_id, "version": "3.6.21",
              "tracker": {"sender_id": chat.conversation_id, "slots": {}, "latest_message": {}, "events": []},
              "domain": {}}
    reply = requests.post(f"http://127.0.0.1:{site.actions_port}/webhook", json=forged, timeout=30)
    assert reply.status_code == 401
    # Another site's API token does not open the screening.
    other = next(s for s in site.site_ids if s != handoff["site_id"])
    reply = requests.get(f"{site.web_url}/api/screenings/{reference}",
                         headers={"Authorization": f"Bearer {site.tokens[other]}"})
    assert reply.status_code == 404
    # Nothing happened to the patient: the handoff stands, and the patient's chat goes on.
    time.sleep(1)
    assert len(chat.replies) == patient_seen
    assert handoff_of(site, "Mei Attackcase")["status"] == "new"
    assert query(site.workdir / "tracker.db", "select count(*) from events where sender_id = ?",
                 chat.conversation_id)[0][0] > 0
    said = texts(chat.ask("no"))
    assert said and "technical problem" not in said


# ---- finding 2: email fell back to clear text -----------------------------------------

def _certificate(folder: Path) -> tuple[Path, Path]:
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class _Mail:
    """An aiosmtpd server that keeps messages and AUTH attempts; STARTTLS, SMTPS or neither."""

    def __init__(self, tls=None, implicit=False):
        import ssl

        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.messages, self.logins = [], []
        mail = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
                mail.messages.append(envelope.content)
                return "250 OK"

        def authenticator(server, session, envelope, mechanism, auth_data):
            mail.logins.append(getattr(auth_data, "password", auth_data))
            return AuthResult(success=True)

        context = None
        if tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*tls)
        self.port = free_port()
        kwargs = {"authenticator": authenticator, "auth_require_tls": False}
        if implicit:
            kwargs["ssl_context"] = context
        elif context:
            kwargs["tls_context"] = context
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, **kwargs)

    def __enter__(self):
        if "ssl_context" in self.controller.SMTP_kwargs:
            # aiosmtpd's readiness check speaks plain SMTP; with SMTPS, skip it.
            self.controller._trigger_server = lambda: None
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


def _email(env):
    send_email(env, "crc@hospital.test", "Pre-screening", "summary text", "<p>summary</p>", "key-1")


def test_email_never_goes_in_clear_unless_set_for_a_local_test_relay(tmp_path):
    cert = _certificate(tmp_path)
    with _Mail() as plain:  # a server that offers no STARTTLS
        env = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(plain.port), "SMTP_USER": "prescreen",
               "SMTP_PASSWORD": "the-smtp-password"}
        with pytest.raises(DeliveryError, match="STARTTLS"):
            _email(env)
        assert plain.messages == [] and plain.logins == []  # neither the password nor the summary was sent
        _email({**env, "SMTP_SECURITY": "plain-local-test"})  # explicitly, for a local test relay
        assert len(plain.messages) == 1
    with _Mail(tls=cert) as starttls:
        env = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(starttls.port), "SMTP_USER": "prescreen",
               "SMTP_PASSWORD": "the-smtp-password"}
        with pytest.raises(DeliveryError):  # a certificate nobody vouches for is refused
            _email(env)
        assert starttls.messages == [] and starttls.logins == []
        _email({**env, "SMTP_CA_FILE": str(cert[0])})
        assert len(starttls.messages) == 1 and starttls.logins
    with _Mail(tls=cert, implicit=True) as smtps:
        _email({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtps.port), "SMTP_SECURITY": "ssl",
                "SMTP_CA_FILE": str(cert[0])})
        assert len(smtps.messages) == 1
    with pytest.raises(DeliveryError, match="SMTP_SECURITY"):
        _email({"SMTP_HOST": "127.0.0.1", "SMTP_SECURITY": "maybe"})
    assert smtplib  # the client is the standard library's


# ---- finding 3: the action server had no authentication --------------------------------

def test_the_action_server_refuses_calls_without_the_shared_secret(site):
    base = f"http://127.0.0.1:{site.actions_port}"
    victim = "sec-action-victim"
    site.say(victim, "/greet")
    call = {"next_action": "action_withdraw", "sender_id": victim, "version": "3.6.21", "domain": {},
            "tracker": {"sender_id": victim, "slots": {}, "latest_message": {}, "events": []}}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Bearer {site.action_token}x"},
                    {"Authorization": "Bearer é"}):
        assert requests.post(base + "/webhook", json=call, headers=headers, timeout=30).status_code == 401
        assert requests.get(base + "/actions", headers=headers, timeout=30).status_code == 401
    assert requests.get(base + "/health", timeout=30).status_code == 200
    assert requests.get(base + "/actions", headers={"Authorization": f"Bearer {site.action_token}"},
                        timeout=30).status_code == 200
    assert query(site.workdir / "tracker.db", "select count(*) from events where sender_id = ?", victim)[0][0] > 0


def test_a_handoff_needs_a_screening_of_the_same_conversation(site):
    from test_handoff import adult_screening

    db, screening = site.db, adult_screening()
    trial = site.catalog.trials[0].id
    victims = save_screening(db, site.catalog, "sec-owner", screening)
    with pytest.raises(NotYourScreening):
        create_handoff(db, site.catalog, "sec-forger", victims, screening, trial, Contact(name="Forged Name"), "1",
                       "consent", env={"PRESCREEN_OUTBOX_DIR": str(site.workdir / "unused")})
    path = site.workdir / "prescreen.db"
    assert query(path, "select count(*) from consents where screening_id = ?", victims) == [(0,)]
    assert query(path, "select count(*) from handoffs where contact_name = 'Forged Name'") == [(0,)]
    assert any(record == f"screening:{victims}" and not ok for _, record, _, ok in audit_rows(site, "access_denied"))


# ---- finding 4: denied API requests were not audited ------------------------------------

def test_every_denied_access_is_audited(site, patient):
    _, handoff = patient
    other = next(s for s in site.site_ids if s != handoff["site_id"])
    url = f"{site.web_url}/api/screenings/{handoff['screening_id']}"
    assert requests.get(url, headers={"Authorization": f"Bearer {site.tokens[other]}"}).status_code == 404
    assert any(record == f"screening:{handoff['screening_id']}" and actor.startswith(f"api:{other}")
               for actor, record, _, _ in audit_rows(site, "access_denied"))
    before = len(audit_rows(site, "api_token_refused"))
    for headers in ({}, {"Authorization": "Bearer pst_made-up"}):
        assert requests.get(site.web_url + "/api/handoffs", headers=headers).status_code == 401
    revoked = site.accounts("add-token", other, "--label", "old system")
    site.accounts("revoke-token", other, "--label", "old system")
    assert requests.get(site.web_url + "/api/handoffs",
                        headers={"Authorization": f"Bearer {revoked}"}).status_code == 401
    refused = audit_rows(site, "api_token_refused")[before:]
    assert [detail for _, _, detail, _ in refused] == ["no token", "unknown token", "revoked token (old system)"]
    assert all(revoked not in str(row) for row in refused)  # the token itself is never written down
    # A staff page of another site's handoff, and a made-up session cookie.
    client = login(site, other)
    assert client.get(f"{site.web_url}/staff/handoffs/{handoff['id']}").status_code == 404
    assert any(record == f"handoff:{handoff['id']}" for _, record, _, _ in audit_rows(site, "access_denied"))
    requests.get(site.web_url + "/staff/", cookies={"prescreen_staff": "made-up"}, allow_redirects=False)
    assert audit_rows(site, "session_refused")


# ---- finding 5: patient data files were world-readable ----------------------------------

def test_patient_data_files_are_private(site, patient):
    found = [p for p in site.workdir.iterdir() if p.name.startswith(("tracker.db", "prescreen.db"))]
    assert {p.name for p in found} >= {"tracker.db", "prescreen.db"}
    for path in found:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_local_outbox_files_are_private(tmp_path):
    from prescreen.referral.delivery import write_local

    previous = os.umask(0o022)
    try:
        write_local(str(tmp_path / "outbox"), "h1", "text", "<p>html</p>", {"a": 1})
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "outbox").stat().st_mode) == 0o700
    for path in (tmp_path / "outbox").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


# ---- findings 8 and 9: withdrawal after delivery, and erased data left on disk -----------

def test_withdrawal_after_delivery_tells_the_site_and_leaves_nothing_on_disk(site, webhook):
    name = "Zebulon Quxwellsec"
    sender = "sec-withdraw-after"
    phone = "139 2468 1357"  # typed by this patient only
    screen_and_consent(lambda text: site.say(sender, text), name, phone)
    handoff = handoff_of(site, name)
    delivered = delivered_payload(webhook, handoff["id"])
    assert delivered["contact"]["name"] == name and delivered["contact"]["phone"].replace(" ", "") == "13924681357"
    files = [p for p in site.workdir.iterdir() if p.name.startswith(("tracker.db", "prescreen.db"))]
    assert any(name.encode() in p.read_bytes() for p in files)  # it was there before
    assert "erased" in erase_by_chat(lambda text: site.say(sender, text))
    notice = wait_for(lambda: webhook.accepted.get(f"{handoff['id']}-webhook-withdrawn"))
    assert notice["type"] == "withdrawal" and notice["screening_reference"] == handoff["screening_id"]
    raw = next(r for r in webhook.requests if r["key"] == f"{handoff['id']}-webhook-withdrawn")
    assert raw["signature"] == sign(SECRET, raw["body"]) and name.encode() not in raw["body"]
    # The site's list keeps a "withdrawn" row with nothing personal in it.
    listed = requests.get(site.web_url + "/api/handoffs",
                          headers={"Authorization": f"Bearer {site.tokens[handoff['site_id']]}"}).json()["handoffs"]
    [row] = [h for h in listed if h["handoff_id"] == handoff["id"]]
    assert row["status"] == "withdrawn" and row["contact"]["phone"] is None and name not in json.dumps(listed)
    client = login(site, handoff["site_id"])
    # The sites read Chinese; this check reads the English page (the switch's cookie).
    assert "Withdrawn by the patient" in client.get(site.web_url + "/staff/",
                                                    cookies={"prescreen_staff_language": "en"}).text
    # Finding 9: the name is in no database file, -wal included (secure_delete, checkpoint).
    time.sleep(1)
    for path in site.workdir.iterdir():
        if path.name.startswith(("tracker.db", "prescreen.db")):
            content = path.read_bytes()
            for gone in (name, phone, phone.replace(" ", "")):
                assert gone.encode() not in content, (gone, path.name)
    wal = site.workdir / "tracker.db-wal"
    assert not wal.exists() or sender.encode() not in wal.read_bytes()


def test_a_withdrawal_during_a_send_is_audited_and_followed_by_the_notice(site, webhook):
    name = "Quentin Midsendsec"
    sender = "sec-withdraw-during"
    webhook.delay = 4.0  # the site answers slowly: the patient withdraws while the summary is on its way
    try:
        screen_and_consent(lambda text: site.say(sender, text), name)
        handoff = handoff_of(site, name)
        assert wait_for(lambda: any(r["key"] == f"{handoff['id']}-webhook" for r in webhook.requests))
        assert "erased" in erase_by_chat(lambda text: site.say(sender, text))
    finally:
        webhook.delay = 0.0
    record = f"handoff:{handoff['id']}"
    assert wait_for(lambda: any(r == record for _, r, _, _ in audit_rows(site, "sent_during_withdrawal")))
    assert any(r == record for _, r, _, _ in audit_rows(site, "withdrawn_during_send"))
    notice = wait_for(lambda: webhook.accepted.get(f"{handoff['id']}-webhook-withdrawn"), timeout=40)
    assert notice and notice["type"] == "withdrawal"


# ---- finding 10: control and bidirectional characters in names ---------------------------

def test_names_with_control_or_format_characters_are_refused_and_never_reach_a_site(site):
    sender = "sec-bidi"
    messages = site.say(sender, "/greet")
    for _ in range(40):
        if any("custom" in m for m in messages):
            break
        messages = site.say(sender, patient_reply(messages))
    site.say(sender, "yes")
    site.say(sender, "yes")
    for spoof in ["Li\u202eieW", "Li\x1b[2JWei", "Li\u200bWei"]:
        reply = texts(site.say(sender, spoof))
        assert "phone" not in reply.lower(), reply  # not taken: the name is asked again, with a hint
    assert query(site.workdir / "prescreen.db",
                 "select count(*) from handoffs where contact_name like 'Li%'") == [(0,)]


def test_csv_exports_show_control_characters_as_replacement_marks(site):
    from test_handoff import adult_screening

    screening, trial = adult_screening(), site.catalog.trials[0]
    screening_id = save_screening(site.db, site.catalog, "sec-csv", screening)
    create_handoff(site.db, site.catalog, "sec-csv", screening_id, screening, trial.id,
                   Contact(name="Ann\u202eEvil\x1b[31m"), "1", "consent",
                   env={"PRESCREEN_OUTBOX_DIR": str(site.workdir / "csv-outbox")})
    client = login(site, trial.sites[0].id)
    body = client.get(site.web_url + "/staff/export.csv").text
    assert "Ann\ufffdEvil\ufffd[31m" in body and "\u202e" not in body and "\x1b" not in body


# ---- finding 11: staff sign-in and sessions ----------------------------------------------

def test_csrf_values_that_are_not_ascii_are_refused_not_a_crash(site):
    client = login(site, site.site_ids[0])
    reply = client.post(site.web_url + "/staff/logout", data={"csrf": "é" * 43}, allow_redirects=False)
    assert reply.status_code == 403
    assert any("CSRF" in (detail or "") for _, _, detail, _ in audit_rows(site, "access_denied"))


def test_sign_out_clears_the_cookie_on_its_own_path_and_pages_refuse_framing(site):
    client = login(site, site.site_ids[0])
    page = client.get(site.web_url + "/staff/")
    assert page.headers["X-Frame-Options"] == "DENY" and "Strict-Transport-Security" not in page.headers  # http
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    reply = client.post(site.web_url + "/staff/logout", data={"csrf": token}, allow_redirects=False)
    cookie = reply.headers["Set-Cookie"]
    assert "prescreen_staff=" in cookie and "Path=/staff" in cookie and "Max-Age=0" in cookie
    assert "prescreen_staff" not in client.cookies  # the browser (here: requests) dropped it


def test_one_address_cannot_lock_another_persons_account(site):
    from prescreen.staff.accounts import LoginThrottle

    username = f"coord{len(site.site_ids) - 1}"
    for _ in range(LoginThrottle.FREE_FAILURES + 2):
        requests.post(site.web_url + "/staff/login", data={"username": username, "password": "guess guess guess"})
    assert not any("login_refused" == a for a, in query(site.workdir / "prescreen.db",
                                                        "select action from audit_log where action = 'login_refused'"))
    time.sleep(LoginThrottle.BASE_SECONDS * 2 + 0.5)  # this address waits; the account itself was never locked
    reply = requests.post(site.web_url + "/staff/login", data={"username": username, "password": PASSWORD},
                          allow_redirects=False)
    assert reply.status_code == 302


# ---- finding 6: health answers kept forever; no erase command ------------------------------

def test_staff_can_erase_by_screening_reference_when_a_patient_asks_the_site(site, webhook):
    name = "Olga Phonedsite"
    sender = "sec-erase-command"
    screen_and_consent(lambda text: site.say(sender, text), name)
    handoff = handoff_of(site, name)
    assert delivered_payload(webhook, handoff["id"])
    out = site.accounts("erase-screening", handoff["screening_id"], "--by", "coord0", "--reason", "patient phoned")
    assert "Erased" in out
    assert handoff_of(site, "withdrawn") and query(site.workdir / "prescreen.db",
                                                   "select status from handoffs where id = ?",
                                                   handoff["id"]) == [("withdrawn",)]
    assert query(site.workdir / "tracker.db", "select count(*) from events where sender_id = ?", sender) == [(0,)]
    assert any(actor == "staff:coord0" and record == f"screening:{handoff['screening_id']}"
               for actor, record, _, _ in audit_rows(site, "erased_on_request"))
    assert wait_for(lambda: webhook.accepted.get(f"{handoff['id']}-webhook-withdrawn"))
    with pytest.raises(RuntimeError):  # an unknown reference is refused (and audited)
        site.accounts("erase-screening", "0" * 32, "--by", "coord0")
    assert audit_rows(site, "erase_refused")


def test_retention_deletes_unconsented_screenings_and_old_conversations(site, patient):
    """Last in this module: it deletes, as of 31 days from now, what the tests above left."""
    from prescreen.staff.retention import run_retention

    unfinished, unconsented = "sec-retention-unfinished", "sec-retention-no-consent"
    site.say(unfinished, "/greet")
    messages = site.say(unconsented, "/greet")
    for _ in range(40):
        if any("custom" in m for m in messages):
            break
        messages = site.say(unconsented, patient_reply(messages))
    site.say(unconsented, "no")  # no contact, no consent
    db_path, tracker_path = site.workdir / "prescreen.db", site.workdir / "tracker.db"
    assert query(db_path, "select count(*) from screenings where conversation_id = ?", unconsented) != [(0,)]
    consented = handoff_of(site, "Mei Attackcase")
    tracker = TrackerEvents(site.env["TRACKER_DB_URL"])
    counts = run_retention(site.db, tracker, env={"RETENTION_DAYS": "30"}, now=utcnow() + timedelta(days=1))
    assert counts["screenings"] == 0 and counts["handoffs"] == 0  # nothing is old yet
    counts = run_retention(site.db, tracker, env={"RETENTION_DAYS": "30"}, now=utcnow() + timedelta(days=31))
    assert counts["screenings"] >= 1 and counts["conversations"] >= 2
    assert query(db_path, "select count(*) from screenings where conversation_id = ?", unconsented) == [(0,)]
    for sender in (unfinished, unconsented):
        assert query(tracker_path, "select count(*) from events where sender_id = ?", sender) == [(0,)]
    assert handoff_of(site, "Mei Attackcase")  # consented: kept for the site's own retention
    site_key = re.sub(r"[^A-Z0-9]", "_", consented["site_id"].upper())
    counts = run_retention(site.db, tracker, env={"RETENTION_DAYS": "30", f"RETENTION_DAYS_{site_key}": "10"},
                           now=utcnow() + timedelta(days=31))
    assert counts["handoffs"] >= 1
    assert query(db_path, "select count(*) from handoffs where id = ?", consented["id"]) == [(0,)]
    assert query(db_path, "select count(*) from answers where screening_id = ?", consented["screening_id"]) == [(0,)]
    tracker.dispose()
    # The web process runs it too, and logs counts only.
    log = (site.workdir / "web.log").read_text(errors="replace")
    lines = [line for line in log.splitlines() if "retention:" in line]
    assert lines and all(re.search(r"retention: deleted \d+ screenings, \d+ handoffs, \d+ conversation", line)
                         for line in lines)


def test_retention_and_erasure_on_postgresql(postgres, catalog):
    """The same retention and erase command with both databases on a real PostgreSQL server."""
    import psycopg2

    from prescreen.referral.handoff import conversation_of_screening
    from prescreen.staff.retention import erase_screening, run_retention
    from test_handoff import adult_screening

    tracker_url, prescreen_url = postgres.create_database("sec_tracker"), postgres.create_database("sec_prescreen")
    db = Database(prescreen_url)
    db.create_schema()
    with psycopg2.connect(tracker_url) as connection, connection.cursor() as cursor:  # Rasa's events table, in short
        cursor.execute("create table events (id serial primary key, sender_id varchar(255) not null, "
                       "type_name varchar(255) not null, timestamp float, data text)")
        for sender in ("pg-unconsented", "pg-consented", "pg-chat-only"):
            cursor.execute("insert into events (sender_id, type_name, timestamp, data) values (%s, 'user', %s, '{}')",
                           (sender, time.time()))
    screening, trial = adult_screening(), catalog.trials[0]
    save_screening(db, catalog, "pg-unconsented", screening)
    kept = save_screening(db, catalog, "pg-consented", screening)
    create_handoff(db, catalog, "pg-consented", kept, screening, trial.id, Contact(name="Pg Patient"), "1",
                   "consent", env={"PRESCREEN_OUTBOX_DIR": "/nonexistent-unused"})
    tracker = TrackerEvents(tracker_url)
    try:
        counts = run_retention(db, tracker, env={}, now=utcnow() + timedelta(days=31))
        assert counts == {"screenings": 1, "handoffs": 0, "conversations": 2}
        with psycopg2.connect(tracker_url) as connection, connection.cursor() as cursor:
            cursor.execute("select sender_id from events")
            assert cursor.fetchall() == [("pg-consented",)]
        assert conversation_of_screening(db, kept) == "pg-consented"
        assert erase_screening(db, kept, "coord0", tracker, "patient phoned") == 1
        with psycopg2.connect(prescreen_url) as connection, connection.cursor() as cursor:
            cursor.execute("select status, contact_name from handoffs")
            assert cursor.fetchall() == [("withdrawn", "withdrawn")]
            cursor.execute("select count(*) from answers")
            assert cursor.fetchone() == (0,)
        with psycopg2.connect(tracker_url) as connection, connection.cursor() as cursor:
            cursor.execute("select count(*) from events")
            assert cursor.fetchone() == (0,)
    finally:
        tracker.dispose()
        db.engine.dispose()


def test_a_withdrawal_after_an_email_is_sent_as_an_email_too(tmp_path, catalog):
    """Finding 8 on the email channel: the notice goes the same way, signed by nothing personal."""
    import email as email_parser
    import email.policy  # noqa: F401 - email_parser.policy

    from prescreen.referral.handoff import erase_conversation
    from prescreen.referral.relay import Relay
    from receivers import MailReceiver
    from test_handoff import make_handoff

    db = Database(f"sqlite:///{tmp_path / 'prescreen.db'}")
    db.create_schema()
    mail = MailReceiver().start()
    try:
        env = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(mail.port), "SMTP_SECURITY": "plain-local-test",
               "SITE_NCT06421701_EMAIL": "crc@hospital.test"}
        handoff_id = make_handoff(db, catalog, env, conversation="conv-email-withdraw")
        relay = Relay(db, env=env)
        assert relay.run_once() == 1 and len(mail.messages) == 1
        assert erase_conversation(db, "conv-email-withdraw") == 1
        assert relay.run_once() == 1 and len(mail.messages) == 2
        notice = email_parser.message_from_bytes(mail.messages[1], policy=email_parser.policy.default)
        assert "withdrew" in notice["Subject"] and notice["To"] == "crc@hospital.test"
        assert notice["Message-ID"] == f"<{handoff_id}-email-withdrawn@prescreen>"
        body = notice.get_body(("plain",)).get_content() + notice.get_body(("html",)).get_content()
        assert "Li Wei" not in body and "138" not in body and "do not contact the patient" in body
        assert relay.run_once() == 0  # sent once
    finally:
        mail.stop()
        db.engine.dispose()
