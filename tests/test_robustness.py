"""Faults and bad input against the real servers: a failure is answered, never silence,
never a crash, never a conversation quietly started again with its answers gone."""
import os
import random
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest
import requests

from prescreen.screening.wording import TECHNICAL_PROBLEM, TOO_LONG
from servers import ROOT, Assistant, free_port


def texts(messages):
    return [m.get("text") for m in messages]


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_action_server_down_mid_screening_is_answered_and_the_screening_goes_on(assistant):
    sender = "robust-actions-down"
    assistant.say(sender, "hello")
    assistant.say(sender, "me")
    assistant.stop_actions()
    try:
        assert texts(assistant.say(sender, "lupus")) == [TECHNICAL_PROBLEM]
    finally:
        assistant.start_actions()
    reply = " ".join(texts(assistant.say(sender, "lupus")))  # the same answer again, now it is taken
    assert "still active" in reply and TECHNICAL_PROBLEM not in reply


def test_messages_over_the_limit_are_refused_with_a_clear_reply(assistant):
    assert texts(assistant.say("robust-long", "a" * 5000)) == [TOO_LONG]


@pytest.mark.parametrize("body", [
    b"not json", b"[1, 2]", b"null", b'{"message": "hi"}', b'{"sender": "", "message": "hi"}',
    b'{"sender": 5, "message": "hi"}', b'{"sender": "s", "message": 7}', b'{"sender": "' + b"x" * 100 + b'"}',
])
def test_malformed_requests_get_400_with_a_reason(assistant, body):
    reply = requests.post(assistant.url + "/webhooks/rest/webhook", data=body, headers=assistant.rest_headers,
                          timeout=30)
    assert reply.status_code == 400 and reply.json()["error"]


def test_a_thousand_random_messages_no_5xx_and_memory_stays_level(assistant):
    rng = random.Random(20261123)
    alphabet = "abcxyz 0123456789?!.,'\"<>/&%$#@\n\t" + "你好吗是不病狼疮" + "😀🙂🎉" + "éüñ" + "\u200b\u202e"

    def message(i):
        kind = i % 10
        if kind == 0:
            return ""
        if kind == 1:
            return "x" * rng.randint(501, 20000)  # over the limit
        if kind == 2:
            return "".join(chr(rng.randint(0x20, 0x2FFF)) for _ in range(rng.randint(1, 60)))
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 120)))

    session = requests.Session()

    def send(i):
        reply = session.post(assistant.url + "/webhooks/rest/webhook", headers=assistant.rest_headers,
                             json={"sender": f"robust-random-{i % 40}", "message": message(i)}, timeout=60)
        assert reply.status_code == 200, (i, reply.status_code, reply.text[:200])
        assert reply.json(), f"message {i} got no reply"
        return reply.json()

    for i in range(100):  # warm up: first messages fill caches and load code
        send(i)
    before = rss_kb(assistant.rasa.pid)
    for i in range(100, 1100):
        send(i)
    after = rss_kb(assistant.rasa.pid)
    assert assistant.rasa.poll() is None and assistant.actions.poll() is None  # nothing crashed
    # Generous: a leak of even 100 bytes a message would not show; a real one (say,
    # every long message kept) would.
    assert after - before < 100_000, f"Rasa server grew from {before} kB to {after} kB"


def test_tracker_database_down_is_answered_and_nothing_is_lost(tmp_path, postgres):
    """A conversation store that fails is said out loud; when it is back, the answers are there."""
    servers = Assistant(tmp_path, env={"TRACKER_DB_URL": postgres.create_database("tracker_outage")})
    sender = "robust-db-down"
    try:
        servers.start_actions()
        servers.start_rasa()
        servers.say(sender, "hello")
        servers.say(sender, "my daughter")
        postgres.pause()
        try:
            assert texts(servers.say(sender, "lupus")) == [TECHNICAL_PROBLEM]
        finally:
            postgres.resume()
        reply = " ".join(texts(servers.say(sender, "lupus")))
        assert "your child" in reply  # still the parent's screening: the first answer was kept
        log = (tmp_path / "rasa.log").read_text(errors="replace")
        assert "could not be handled" in log
    finally:
        servers.stop()


def listening(port: int) -> list[str]:
    """Local addresses that listen on a TCP port (IPv4 and IPv6)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.append(address)
    return found


def test_the_run_command_exposes_nothing_beyond_loopback_and_logs_no_patient_text(tmp_path):
    ports = {name: free_port() for name in ("RASA_PORT", "ACTIONS_PORT", "WEB_PORT", "PATIENT_PORT")}
    env = {**os.environ, **{k: str(v) for k, v in ports.items()}, "RASA_TELEMETRY_ENABLED": "false",
           "TRACKER_DB_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
           "PRESCREEN_DB_URL": f"sqlite:///{tmp_path / 'prescreen.db'}",
           "PRESCREEN_OUTBOX_DIR": str(tmp_path / "outbox"), "REST_CHANNEL_TOKEN": "run-test-token",
           "PRESCREEN_VAR_DIR": str(tmp_path / "var")}
    rest = {"Authorization": "Bearer run-test-token"}
    log = open(tmp_path / "run.log", "wb")
    run = subprocess.Popen(["scripts/run-assistant"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                           start_new_session=True, preexec_fn=lambda: os.umask(0o022))  # a careless shell's umask
    marker = "my-secret-answer-7f3a9"
    try:
        deadline = time.monotonic() + 240
        while b"Patient page:" not in (tmp_path / "run.log").read_bytes():
            assert run.poll() is None, (tmp_path / "run.log").read_text(errors="replace")[-2000:]
            assert time.monotonic() < deadline, "the run command did not start"
            time.sleep(0.5)
        rasa = f"http://127.0.0.1:{ports['RASA_PORT']}"
        for name, port in ports.items():
            addresses = listening(port)
            assert addresses and set(addresses) <= {"0100007F", "00000000000000000000000001000000"}, (name, addresses)
        for path in ("/status", "/model/parse", "/conversations/x/tracker", "/version"):
            assert requests.get(rasa + path, timeout=10).status_code in (404, 405), path  # no HTTP API
        chat = requests.post(rasa + "/webhooks/rest/webhook", json={"sender": "exposure", "message": "hello"},
                             headers=rest, timeout=60)
        assert chat.ok
        for text in ("me", marker, f"I am {marker}"):
            requests.post(rasa + "/webhooks/rest/webhook", json={"sender": "exposure", "message": text},
                          headers=rest, timeout=60)
    finally:
        os.killpg(run.pid, signal.SIGINT)
        try:
            run.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
        log.close()
    output = (tmp_path / "run.log").read_text(errors="replace")
    assert "Rasa server is up and running" in output
    assert marker not in output
    # Patient data files: var/ 0700, and every file in it and each database file 0600 (issue 16).
    var = tmp_path / "var"
    assert stat.S_IMODE(var.stat().st_mode) == 0o700
    files = [*var.iterdir(), *(p for p in tmp_path.iterdir() if p.name.startswith(("tracker.db", "prescreen.db")))]
    assert {p.name for p in files} >= {"secrets.env", "endpoints.yml", "tracker.db", "prescreen.db"}
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    # The REST channel wants its token.
    assert "Authorization: Bearer" in output
    assert all(not listening(port) for port in ports.values())  # Ctrl-C stopped every server
