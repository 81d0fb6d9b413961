"""Consent, handoff and withdrawal through the REST channel, delivered by the real relay
to a local webhook receiver, a local SMTP server and the local outbox folder."""
import email
import json
import time

import pytest

from receivers import MailReceiver, WebhookReceiver
from servers import Assistant, patient_reply, query, wait_for
from test_rest_channel import screen

WEBHOOK_TRIAL = "NCT06421701"
EMAIL_TRIAL = "cd19-bcma-car-t-sle-wuhan"
# The first study listed (Wuhan's), its consent, the contact details, and no medicines given.
DETAILS = ["1", "yes", "Li Wei", "138 0013 8000", "li@example.org", "morning", "Mandarin", "skip"]


@pytest.fixture(scope="module")
def receivers():
    webhook, mail = WebhookReceiver().start(), MailReceiver().start()
    yield webhook, mail
    webhook.stop()
    mail.stop()


@pytest.fixture(scope="module")
def assistant(tmp_path_factory, receivers):
    webhook, mail = receivers
    servers = Assistant(tmp_path_factory.mktemp("handoff"), env={
        f"DELIVERY_{WEBHOOK_TRIAL}_WEBHOOK_URL": webhook.url,
        f"DELIVERY_{WEBHOOK_TRIAL}_WEBHOOK_SECRET": "test-secret",
        "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(mail.port), "SMTP_SECURITY": "plain-local-test",
        "SITE_WUHAN_UNION_EMAIL": "coordinator@wuhan.example.org",
    })
    try:
        servers.start_actions()
        servers.start_rasa()
        servers.start_relay()
        yield servers
    finally:
        servers.stop()


def texts(messages):
    return " ".join(m.get("text") or "" for m in messages)






def test_consent_for_every_study_delivers_each_summary_once(assistant, receivers):
    webhook, mail = receivers
    sender = "rest-consent-1"
    messages, _ = screen(assistant, sender)
    assert "Which study teams may contact you?" in messages[-1]["text"]  # one offer comes with the results
    said = [texts(assistant.say(sender, "all of them"))]
    for reply in DETAILS[1:]:  # the first study: consent and every detail
        said.append(texts(assistant.say(sender, reply)))
    assert "Do you agree?" in said[0] and "delete my data" in said[0] and "version" not in said[0].lower()
    assert "What name" in said[1] and "which medicines" in said[-2].lower()
    assert "will be sent to the study team" in said[-1]
    for _ in range(4):  # the other four studies: each its own consent; the details are reused
        said.append(texts(assistant.say(sender, "yes, I agree")))
    assert "I used the contact details you gave before" in said[-1] and "That's everything" in said[-1]

    outbox = assistant.workdir / "outbox"
    assert wait_for(lambda: webhook.accepted and mail.messages and len(list(outbox.glob("*.json"))) == 3)
    time.sleep(1)  # anything sent twice would have arrived by now
    [payload] = webhook.accepted.values()
    assert payload["trial_id"] == WEBHOOK_TRIAL and payload["contact"]["name"] == "Li Wei"
    assert payload["consent"]["version"] == "2" and sender not in json.dumps(payload)  # a reference, not the session
    assert len(webhook.requests) == 1
    [raw] = mail.messages
    message = email.message_from_bytes(raw)
    assert message["To"] == "coordinator@wuhan.example.org"
    assert {part.get_content_type() for part in message.walk()} >= {"text/plain", "text/html"}
    local = {json.loads(p.read_text())["trial_id"] for p in outbox.glob("*.json")}
    assert local == {"cd19-car-t-sle-children-hangzhou", "NCT06420154", "ultra-fast-cd19-car-t-sle-nanjing"}
    for summary in outbox.glob("*.txt"):
        assert "Li Wei" in summary.read_text() and "138" in summary.read_text()
    statuses = query(assistant.workdir / "prescreen.db", "select status from outbox")
    assert statuses == [("delivered",)] * 5


def test_declined_consent_sends_and_stores_nothing_identifying(assistant, receivers):
    webhook, mail = receivers
    sender = "rest-decline-1"
    screen(assistant, sender)
    before = len(webhook.requests), len(mail.messages)
    assistant.say(sender, "1 and 2")  # wants contact from two study teams...
    reply = texts(assistant.say(sender, "no"))  # ...but does not agree to the first consent text
    assert "nothing is sent" in reply and "What name" not in reply
    reply = texts(assistant.say(sender, "no"))
    assert "Nothing has been sent to anyone" in reply
    time.sleep(1)
    assert (len(webhook.requests), len(mail.messages)) == before
    db = assistant.workdir / "prescreen.db"
    [(screening_id,)] = query(db, "select id from screenings where conversation_id = ?", sender)
    assert query(db, "select count(*) from handoffs where screening_id = ?", screening_id) == [(0,)]
    assert query(db, "select count(*) from consents where screening_id = ?", screening_id) == [(0,)]


def test_bad_phone_and_email_are_asked_again(assistant):
    sender = "rest-bad-contact"
    screen(assistant, sender)
    for reply in ["1", "yes", "Li Wei"]:
        assistant.say(sender, reply)
    assert "doesn't look like a phone number" in texts(assistant.say(sender, "call me maybe"))
    assert "doesn't look like an email" in texts(assistant.say(sender, "skip") + assistant.say(sender, "li at home"))
    assert "best time" in texts(assistant.say(sender, "li@example.org"))


def test_withdrawal_erases_the_screening_the_handoff_and_the_conversation(assistant):
    sender = "rest-withdraw-1"
    screen(assistant, sender)
    for reply in DETAILS:
        assistant.say(sender, reply)
    db, tracker = assistant.workdir / "prescreen.db", assistant.workdir / "tracker.db"
    [(screening_id,)] = query(db, "select id from screenings where conversation_id = ?", sender)
    assert query(db, "select count(*) from handoffs where screening_id = ?", screening_id) == [(1,)]
    assert query(tracker, "select count(*) from events where sender_id = ?", sender)[0][0] > 0

    reply = texts(assistant.say(sender, "I changed my mind, please delete my data"))
    if "Do you want me to erase" in reply:  # erasure asks for a yes first
        reply = texts(assistant.say(sender, "yes"))
    assert "erased" in reply
    for table, column in [("answers", "screening_id"), ("trial_results", "screening_id")]:
        assert query(db, f"select count(*) from {table} where {column} = ?", screening_id) == [(0,)], table
    assert query(db, "select count(*) from screenings where conversation_id = ?", sender) == [(0,)]
    # The site's list keeps a "withdrawn" row with nothing personal in it.
    assert query(db, "select status, contact_name, contact_phone, contact_email from handoffs where screening_id = ?",
                 screening_id) == [("withdrawn", "withdrawn", None, None)]
    assert query(tracker, "select count(*) from events where sender_id = ?", sender) == [(0,)]
    # The next message starts afresh: nothing of the old answers is left.
    assert "Hello" in texts(assistant.say(sender, "hi"))


def test_postgresql_for_conversations_and_handoffs(tmp_path, postgres):
    """The same assistant on a real PostgreSQL server, chosen by URL only."""
    import psycopg2

    tracker_url, prescreen_url = postgres.create_database("tracker"), postgres.create_database("prescreen")
    servers = Assistant(tmp_path, env={"TRACKER_DB_URL": tracker_url, "PRESCREEN_DB_URL": prescreen_url})
    sender = "rest-postgres-1"
    try:
        servers.start_actions()
        servers.start_rasa()
        servers.start_relay()
        screen(servers, sender)
        for reply in DETAILS:
            servers.say(sender, reply)
        assert wait_for(lambda: list((tmp_path / "outbox").glob("*.json")))
        with psycopg2.connect(prescreen_url) as db, db.cursor() as cursor:
            cursor.execute("select h.contact_name, o.status from handoffs h join outbox o on o.handoff_id = h.id")
            assert cursor.fetchall() == [("Li Wei", "delivered")]
        asked = servers.say(sender, "delete my data")
        assert "erase everything" in asked[-1]["text"]  # asked first; only the yes erases
        servers.say(sender, "yes")
        for url, sql in [(tracker_url, "select count(*) from events where sender_id = %s"),
                         (prescreen_url, "select count(*) from screenings where conversation_id = %s")]:
            with psycopg2.connect(url) as db, db.cursor() as cursor:
                cursor.execute(sql, (sender,))
                assert cursor.fetchone() == (0,)
    finally:
        servers.stop()


def test_a_coordinator_works_a_handoff_from_a_real_screening(assistant):
    """The documented account command, then the staff pages on the same database."""
    import re

    import requests

    sender = "rest-staff-1"
    screen(assistant, sender)
    for reply in DETAILS:  # consent for the first study offered: Wuhan's
        assistant.say(sender, reply)
    assistant.accounts("add-user", "zhou", "--name", "Zhou Min", "--site", "wuhan-union", "--password-stdin",
                       password="coordinator password 1")
    assistant.start_web()
    client = requests.Session()
    client.post(assistant.web_url + "/staff/login", data={"username": "zhou", "password": "coordinator password 1"})
    client.cookies.set("prescreen_staff_language", "en")  # the site reads Chinese; this test reads English
    page = client.get(assistant.web_url + "/staff/?trial=" + EMAIL_TRIAL).text
    path = re.findall(r'href="(/staff/handoffs/[0-9a-f]{32})"', page)[0]  # the newest
    detail = client.get(assistant.web_url + path).text
    assert "Li Wei" in detail and "13800138000" in detail
    token = re.search(r'name="csrf" value="([^"]+)"', detail).group(1)
    client.post(assistant.web_url + path + "/status", data={"status": "contacted", "note": "Called.", "csrf": token})
    assert 'id="status">Contacted<' in client.get(assistant.web_url + path).text


def test_the_consent_text_names_the_sensitive_topics_of_these_answers(assistant):
    """A woman is asked about pregnancy, so her consent names it; a man is not, so his does not."""
    consents = {}
    for sender, sex in (("rest-consent-topics-f", "female"), ("rest-consent-topics-m", "male")):
        messages = assistant.say(sender, "hello")
        for _ in range(30):
            if any("custom" in m for m in messages):
                break
            last = [m for m in messages if m.get("text")][-1]["text"].lower()
            reply = sex if "what sex" in last else patient_reply(messages)
            messages = assistant.say(sender, reply)
        consents[sex] = texts(assistant.say(sender, "1"))
    assert "Do you agree?" in consents["female"] and "Do you agree?" in consents["male"]
    assert "pregnancy" in consents["female"] and "pregnancy" not in consents["male"]
    for text in consents.values():
        assert "thoughts of suicide" in text and "HIV" in text  # both were asked these
        assert "days" in text and "This chat is run by" in text and "unless you ask them to delete it" in text
