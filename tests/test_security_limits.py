"""Issue 16, findings 7 and 11 (the parts that need servers with other settings): rate
limits on both chat channels, socketio metadata and engine.io packet limits, the REST
channel off without its token, HSTS over https and the 8-hour session limit."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest
import requests

from rasa_addons.ratelimit import SLOW_DOWN
from servers import ROOT, Assistant, SocketChat, free_port, wait_until_up

PER_CONVERSATION, PER_ADDRESS = 5, 12
SESSION_HOURS = 0.002  # 7.2 seconds
PASSWORD = "a long test password"


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    servers = Assistant(tmp_path_factory.mktemp("limits"), env={
        "RATE_LIMIT_PER_CONVERSATION": str(PER_CONVERSATION), "RATE_LIMIT_PER_ADDRESS": str(PER_ADDRESS),
        "STAFF_HTTPS": "1", "STAFF_SESSION_HOURS": str(SESSION_HOURS), "STAFF_IDLE_SECONDS": "3600",
        "PATIENT_HTTPS": "1"})
    try:
        servers.start_actions()
        servers.start_rasa()
        servers.start_web()
        yield servers
    finally:
        servers.stop()


def post(limited, sender, text="hello"):
    return requests.post(limited.url + "/webhooks/rest/webhook", json={"sender": sender, "message": text},
                         headers=limited.rest_headers, timeout=60)


def texts(messages):
    return " ".join(m.get("text") or "" for m in messages)


def stored_user_events(limited, sender):
    import json
    import sqlite3

    with sqlite3.connect(limited.workdir / "tracker.db") as db:
        rows = db.execute("select data from events where sender_id = ? and type_name = 'user'", (sender,)).fetchall()
    return [json.loads(data) for data, in rows]


def test_socketio_metadata_is_capped_and_big_packets_are_refused(limited):
    chat = SocketChat(limited)
    # The page's widget sends its metadata as `customData` (credentials.yml: metadata_key).
    assert texts(chat.ask("/greet", customData={"language": "zh"}))
    assert texts(chat.ask("me", customData={"blob": "m" * 10_000, "marker": "metadata-marker-1"}))
    events = stored_user_events(limited, chat.conversation_id)
    assert events[0]["metadata"]["language"] == "zh"  # small metadata is kept (Rasa adds its model's ids)
    assert "blob" not in events[-1]["metadata"] and "metadata-marker-1" not in str(events)  # a big one is dropped
    # 200 KB in one message: engine.io refuses the packet; nothing is stored, and the server goes on.
    try:
        chat.client.emit("user_uttered", {"message": "x", "session_id": chat.session,
                                          "metadata": {"blob": "b" * 200_000, "marker": "metadata-marker-2"}})
        time.sleep(2)
    except Exception:  # noqa: BLE001 - the server may close this connection: that is the refusal
        pass
    assert "metadata-marker-2" not in str(stored_user_events(limited, chat.conversation_id))
    assert (limited.workdir / "tracker.db").stat().st_size < 2_000_000
    try:
        chat.close()
    except Exception:  # noqa: BLE001
        pass
    fresh = SocketChat(limited)
    assert texts(fresh.ask("/greet"))
    fresh.close()


def test_socketio_messages_are_limited_per_conversation_and_per_address(limited):
    first = SocketChat(limited)
    replies = [texts(first.ask(text, quiet=0.6)) for text in ["/greet", "me", "lupus", "yes", "34", "female"]]
    assert all(SLOW_DOWN not in r for r in replies[:PER_CONVERSATION]) and replies[-1] == SLOW_DOWN
    first.close()
    # New conversations from the same address, each well under its own limit: the address's
    # limit stops them after PER_ADDRESS messages in the minute (some were sent by the test above).
    sent, slowed = len(replies), None
    while sent <= PER_ADDRESS + 3 and slowed is None:
        chat = SocketChat(limited)
        for text in ["/greet", "me"]:
            sent += 1
            if texts(chat.ask(text, quiet=0.6)) == SLOW_DOWN:
                slowed = sent
                break
        chat.close()
    assert slowed is not None and slowed <= PER_ADDRESS + 1


def test_rest_messages_are_limited_per_conversation_and_per_address(limited):
    replies = [post(limited, "limit-a") for _ in range(PER_CONVERSATION + 1)]
    assert [r.status_code for r in replies] == [200] * PER_CONVERSATION + [429]
    assert replies[-1].json() == [{"recipient_id": "limit-a", "text": SLOW_DOWN}]
    for _ in range(PER_CONVERSATION):
        assert post(limited, "limit-b").status_code == 200
    # 6 + 5 messages from this address so far: one more is allowed, then the address must slow down.
    assert post(limited, "limit-c").status_code == 200
    refused = post(limited, "limit-c")
    assert refused.status_code == 429 and refused.json()[0]["text"] == SLOW_DOWN


def test_the_rest_channel_is_off_without_its_token(tmp_path):
    """Rasa loads the channel from credentials.yml; without REST_CHANNEL_TOKEN it answers nothing."""
    port = free_port()
    script = (
        "import sys\n"
        "from sanic import Sanic\n"
        "from rasa_addons.rest_channel import CheckedRestInput\n"
        "app = Sanic('rest_off')\n"
        "async def on_new_message(message):\n"
        "    raise SystemExit('a message got through')\n"
        "app.blueprint(CheckedRestInput.from_credentials(None).blueprint(on_new_message), url_prefix='/webhooks/rest')\n"
        f"app.run(host='127.0.0.1', port={port}, motd=False, access_log=False)\n")
    env = {k: v for k, v in os.environ.items() if k != "REST_CHANNEL_TOKEN"}
    env.update({"PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false"})
    process = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=env,
                               stdout=open(tmp_path / "off.log", "wb"), stderr=subprocess.STDOUT)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/webhooks/rest/", process, "REST channel", timeout=120)
        for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer anything"}):
            reply = requests.post(f"http://127.0.0.1:{port}/webhooks/rest/webhook", headers=headers,
                                  json={"sender": "s", "message": "hello"}, timeout=30)
            assert reply.status_code == 403 and "REST_CHANNEL_TOKEN" in reply.json()["error"]
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_https_pages_send_hsts_and_sessions_end_after_their_absolute_lifetime(limited):
    limited.accounts("add-user", "shortlived", "--name", "Short Lived", "--site", "wuhan-union",
                     "--password-stdin", password=PASSWORD)
    page = requests.get(limited.web_url + "/staff/login")
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    assert page.headers["X-Frame-Options"] == "DENY"
    client = requests.Session()
    reply = client.post(limited.web_url + "/staff/login", data={"username": "shortlived", "password": PASSWORD},
                        allow_redirects=False)
    assert reply.status_code == 302
    start, codes = time.monotonic(), []
    while time.monotonic() - start < SESSION_HOURS * 3600 + 2:  # busy all the time: a request every second
        codes.append(client.get(limited.web_url + "/staff/", allow_redirects=False).status_code)
        time.sleep(1)
    assert codes[0] == 200 and codes[-1] == 302 and re.match(r"^2+3+$", "".join(str(c)[0] for c in codes))


def test_the_patient_page_over_https_sends_hsts_and_refuses_framing(limited):
    limited.start_patient_page()
    page = requests.get(limited.patient_url + "/")
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    assert page.headers["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_the_sliding_window_forgets_old_messages_and_counts_keys_apart():
    from rasa_addons.ratelimit import RateLimiter

    now = [0.0]
    limiter = RateLimiter(per_conversation=2, per_address=3, clock=lambda: now[0])
    assert [limiter.allow("a", "c1") for _ in range(3)] == [True, True, False]  # the conversation's limit
    assert limiter.allow("a", "c2") is False  # the address has had 3 in this minute
    assert limiter.allow("b", "c3") is True  # another address is not slowed
    now[0] += 61
    assert limiter.allow("a", "c1") is True  # a minute later


def test_session_tokens_open_only_what_this_key_signed():
    from rasa_addons.session_tokens import SessionTokens

    ours, theirs = SessionTokens("key one"), SessionTokens("key two")
    token, conversation = ours.issue()
    assert ours.conversation_of(token) == conversation and len(conversation) == 32
    assert theirs.conversation_of(token) is None  # another key (another deployment, an old key)
    tampered = conversation[:-1] + ("0" if conversation[-1] != "0" else "1") + "." + token.split(".")[1]
    for bad in [conversation, tampered, token + "x", "é." + token.split(".")[1], None, 42, "", "a.b.c"]:
        assert ours.conversation_of(bad) is None, bad
    assert ours.issue()[1] != conversation  # every session is new
