"""Several servers behind one address (issue 17), against the real cluster.

deploy/cluster.py starts what `make run-cluster` starts: Redis (the shared lock store),
2 action servers, 2 Rasa servers sharing one PostgreSQL server (tests/postgres.py),
the web process, the patient page and nginx in front (TLS, sticky socketio, limits),
all on free loopback ports. The tests send real messages, to one Rasa server or the
other directly, or through nginx, and read what PostgreSQL holds.

The first tests need only Redis and PostgreSQL (the lock store and the tracker store's
cache with two stores on one database, as two servers would have); the cluster is
started once for the rest. Where Debian's nginx or redis-server cannot be installed,
the tests that need them are skipped with that reason.
"""
from __future__ import annotations

import asyncio
import json
import shutil
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from servers import SocketChat, patient_reply

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from deploy.cluster import Cluster, MissingPackage, free_port  # noqa: E402

TECHNICAL = "Sorry, we have a technical problem."
TOKEN = "cluster-test-token"
CERTIFICATE: list[str] = []  # the running cluster's self-signed certificate, for https requests


def _need(binary: str, package: str) -> None:
    if not (shutil.which(binary) or Path(f"/usr/sbin/{binary}").exists()):
        pytest.skip(f"Debian's {package} is not installed (scripts/install-system-packages installs it as root)")


@pytest.fixture(scope="module")
def databases(postgres):
    return postgres.create_database("cluster_tracker"), postgres.create_database("cluster_prescreen")


@pytest.fixture(scope="module")
def redis_only(tmp_path_factory):
    """A Redis server of its own (the lock store tests), started as the cluster starts it."""
    _need("redis-server", "redis-server")
    cluster = Cluster(tmp_path_factory.mktemp("redis-only"), rasa_servers=0, action_servers=0)
    cluster.start_redis()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, databases):
    _need("nginx", "nginx")
    _need("redis-server", "redis-server")
    tracker_url, prescreen_url = databases
    servers = Cluster(tmp_path_factory.mktemp("cluster"), rasa_servers=2, action_servers=2, env={
        "TRACKER_DB_URL": tracker_url, "PRESCREEN_DB_URL": prescreen_url, "REST_CHANNEL_TOKEN": TOKEN,
        "RATE_LIMIT_PER_CONVERSATION": "1000000", "RELAY_POLL_SECONDS": "0.5",
        "PRESCREEN_OUTBOX_DIR": str(tmp_path_factory.mktemp("cluster-outbox")),
    }, limits={"CHAT_RATE": "1000r/s", "CHAT_BURST": "1000"}, rest_through_nginx=True)
    try:
        servers.start(postgres=False)
    except MissingPackage as reason:
        pytest.skip(str(reason))
    CERTIFICATE[:] = [str(servers.certificate)]
    yield servers
    servers.stop()


# Talking to the servers -------------------------------------------------------------------
def say(url: str, sender: str, text: str, verify=None) -> list[dict]:
    if verify is None:
        verify = CERTIFICATE[0] if url.startswith("https") and CERTIFICATE else True
    reply = requests.post(url + "/webhooks/rest/webhook", json={"sender": sender, "message": text},
                          headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120, verify=verify)
    reply.raise_for_status()
    return reply.json()


def texts(messages: list[dict]) -> list[str]:
    return [m["text"] for m in messages if m.get("text")]


def results_of(messages: list[dict]):
    custom = [m["custom"] for m in messages if "custom" in m]
    return custom[0]["results"] if custom else None


def screening(sender: str, url_for_step, max_steps: int = 40, before_step=None) -> tuple[list[list[str]], list]:
    """A whole screening of the patient who may fit every study; url_for_step(i) says
    which server gets message i. Returns every reply's texts and the results payload."""
    transcript, messages = [], []
    for step in range(max_steps):
        if before_step is not None:
            before_step(step)
        text = "hello" if step == 0 else patient_reply(messages)
        messages = say(url_for_step(step), sender, text)
        assert not any(TECHNICAL in t for t in texts(messages)), (step, text, messages)
        transcript.append(texts(messages))
        results = results_of(messages)
        if results is not None:
            return transcript, results
    raise AssertionError(f"no results after {max_steps} messages")


def verdicts(results) -> dict:
    return {r["trial_id"]: (r["verdict"], [(c["id"], c["status"]) for c in r["criteria"]]) for r in results}


def stored_events(tracker_url: str, sender: str) -> list[tuple]:
    import psycopg2

    with psycopg2.connect(tracker_url) as db, db.cursor() as cursor:
        cursor.execute("select type_name, action_name, data from events where sender_id = %s order by id", (sender,))
        return [(kind, action, json.loads(data)) for kind, action, data in cursor.fetchall()]


def user_texts(events) -> list[str]:
    return [data.get("text") for kind, _, data in events if kind == "user"]


# The lock store on a real Redis --------------------------------------------------------------
def test_tickets_taken_at_the_same_moment_by_several_servers_are_all_different(redis_only):
    from rasa_addons.lock_store import SharedRedisLockStore

    stores = [SharedRedisLockStore(url=redis_only.env["LOCK_STORE_URL"]) for _ in range(8)]
    start, tickets = threading.Barrier(len(stores)), []

    def take(store):
        start.wait()
        for _ in range(5):
            tickets.append(store.issue_ticket("same-conversation", 30))

    threads = [threading.Thread(target=take, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(tickets) == list(range(40))  # none given twice, none skipped
    lock = stores[0].get_lock("same-conversation")
    assert [t.number for t in lock.tickets] == list(range(40))


def test_two_servers_holding_one_conversation_take_turns(redis_only):
    from rasa_addons.lock_store import SharedRedisLockStore

    url = redis_only.env["LOCK_STORE_URL"]
    first, second = SharedRedisLockStore(url=url), SharedRedisLockStore(url=url)
    spans: list[tuple[str, float, float]] = []

    async def turn(store, name, hold):
        async with store.lock("conversation-2"):
            began = time.monotonic()
            await asyncio.sleep(hold)
            spans.append((name, began, time.monotonic()))

    async def both():
        await asyncio.gather(turn(first, "first", 0.3), turn(second, "second", 0.05))

    asyncio.run(both())
    (a, a_start, a_end), (b, b_start, b_end) = sorted(spans, key=lambda s: s[1])
    assert a == "first" and b == "second"
    assert b_start >= a_end  # one after the other, never at once
    assert b_start - a_end < 0.25  # and the waiting one goes on promptly (Rasa's own polls each second)
    assert first.get_lock("conversation-2") is None  # nothing left behind


def test_a_lock_store_without_its_redis_refuses_to_start(monkeypatch):
    from rasa_addons.lock_store import LockStoreUnavailable, SharedRedisLockStore

    with pytest.raises(LockStoreUnavailable, match="did not answer"):
        SharedRedisLockStore(url=f"redis://127.0.0.1:{free_port()}/0")
    monkeypatch.delenv("LOCK_STORE_URL", raising=False)
    with pytest.raises(LockStoreUnavailable, match="LOCK_STORE_URL"):
        SharedRedisLockStore()


# The tracker store's cache with two stores on one PostgreSQL database (two servers) -----------
@pytest.fixture(scope="module")
def two_stores(postgres):
    from rasa.shared.core.domain import Domain

    from rasa_addons.tracker_store import UrlSQLTrackerStore

    url = postgres.create_database("cluster_cache")
    domain = Domain.load(str(ROOT / "domain.yml"))
    return url, UrlSQLTrackerStore(domain, url=url), UrlSQLTrackerStore(domain, url=url)


async def _turn(store, sender: str, text: str) -> None:
    """What a Rasa turn does to the tracker store: read, add a user message and a reply, save."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

    tracker = await store.get_or_create_tracker(sender)
    tracker.update(UserUttered(text, {"name": "inform", "confidence": 1.0}))
    tracker.update(BotUttered(f"got {text}"))
    tracker.update(ActionExecuted("action_listen"))
    await store.save(tracker)


def _said(tracker) -> list[str]:
    from rasa.shared.core.events import UserUttered

    return [e.text for e in tracker.events if isinstance(e, UserUttered)]


def test_the_cache_never_serves_what_another_server_has_changed(two_stores):
    url, a, b = two_stores

    async def run():
        sender = "cache-alternating"
        for i, store in enumerate([a, b, a, a, b, a]):
            await _turn(store, sender, f"message {i}")
        # a has served this conversation from memory (turns 2 and 3); b wrote turns 1 and 4:
        return _said(await a.retrieve(sender)), _said(await b.retrieve(sender))

    seen_by_a, seen_by_b = asyncio.run(run())
    assert seen_by_a == seen_by_b == [f"message {i}" for i in range(6)]


def test_the_cache_never_serves_an_erased_conversation(two_stores):
    import psycopg2

    url, a, b = two_stores

    async def erased_by_the_other_server():
        await _turn(a, "cache-erased", "my answer")
        await _turn(b, "cache-erased", "second answer")
        await _turn(a, "cache-erased", "third answer")  # a keeps it in memory now
        b.erase("cache-erased")  # the patient's withdrawal, handled by the other server
        return await a.retrieve("cache-erased")

    assert asyncio.run(erased_by_the_other_server()) is None

    async def erased_by_another_process():
        await _turn(a, "cache-retention", "old answer")
        await _turn(a, "cache-retention", "older answer")
        with psycopg2.connect(url) as db, db.cursor() as cursor:  # as retention and erase-screening do
            cursor.execute("delete from events where sender_id = %s", ("cache-retention",))
        gone = await a.retrieve("cache-retention")
        await _turn(a, "cache-retention", "a new start")
        return gone, _said(await a.retrieve("cache-retention"))

    gone, after = asyncio.run(erased_by_another_process())
    assert gone is None and after == ["a new start"]


def test_a_save_that_finds_another_writer_keeps_nothing_in_memory(two_stores):
    url, a, b = two_stores

    async def run():
        await _turn(a, "cache-race", "one")
        tracker = await a.retrieve("cache-race")  # handed out by a ...
        await _turn(b, "cache-race", "two")  # ... while b writes (what the lock store prevents)
        from rasa.shared.core.events import UserUttered

        tracker.update(UserUttered("three", {"name": "inform", "confidence": 1.0}))
        await a.save(tracker)
        assert "cache-race" not in a._recent
        return _said(await a.retrieve("cache-race"))

    assert asyncio.run(run()) == ["one", "two", "three"]  # read back from the database, all of it


def test_shared_locks_required_refuses_a_server_without_them(tmp_path, monkeypatch):
    from rasa_addons import lock_store
    from rasa_addons.tracker_store import TrackerStoreUnavailable, UrlSQLTrackerStore

    monkeypatch.setattr(lock_store, "ACTIVE", None)
    monkeypatch.setenv("SHARED_LOCKS_REQUIRED", "1")
    store = UrlSQLTrackerStore(url=f"sqlite:///{tmp_path / 'tracker.db'}")
    with pytest.raises(TrackerStoreUnavailable, match="no shared lock store"):
        asyncio.run(store.retrieve("anyone"))


def test_nginx_keeps_the_rest_channel_closed_unless_asked(tmp_path):
    closed, opened = Cluster(tmp_path / "a", 1, 1).nginx_config(), Cluster(tmp_path / "b", 1, 1,
                                                                             rest_through_nginx=True).nginx_config()

    def rest_block(config):
        return config.split("location = /webhooks/rest/webhook {", 1)[1].split("}", 1)[0]

    assert "return 404;" in rest_block(closed) and "return 404;" not in rest_block(opened)
    assert "proxy_pass http://rasa_rest;" in rest_block(opened)


# The whole cluster ------------------------------------------------------------------------
def test_everything_listens_on_loopback_and_nginx_serves_both_addresses(cluster):
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state == "0A":  # LISTEN
                address, port = local.rsplit(":", 1)
                listening.add((address, int(port, 16)))
    ports = [cluster.https_port, cluster.staff_port, cluster.actions_lb_port, cluster.web_port, cluster.patient_port,
             cluster.redis_port, *cluster.rasa_ports, *cluster.action_ports]
    for port in ports:
        addresses = {address for address, p in listening if p == port}
        assert addresses == {"0100007F"}, (port, addresses)  # 127.0.0.1 only

    cert = str(cluster.certificate)
    page = requests.get(cluster.url + "/", verify=cert, timeout=10)
    assert page.status_code == 200 and "prescreen_route=" in page.headers["Set-Cookie"]
    assert "Secure" in page.headers["Set-Cookie"] and "HttpOnly" in page.headers["Set-Cookie"]
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    assert cluster.url in page.headers["Content-Security-Policy"]  # the widget connects to nginx, same origin
    assert requests.get(cluster.url + "/staff/login", verify=cert, timeout=10).status_code == 404
    assert requests.get(cluster.staff_url + "/staff/login", verify=cert, timeout=10).status_code == 200
    assert requests.get(cluster.staff_url + "/", verify=cert, timeout=10).status_code == 404
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(cluster.url + "/", timeout=10)  # a self-signed certificate, made at start-up
    big = requests.post(cluster.url + "/webhooks/rest/webhook", data="x" * 100_000, verify=cert, timeout=10,
                        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    assert big.status_code == 413
    assert say(cluster.url, "through-nginx", "hello", verify=cert)[0]["text"].startswith("Hello")


def test_staff_sign_in_is_limited_per_address_at_nginx(cluster):
    cert = str(cluster.certificate)
    # GETs: the web process throttles failed sign-ins itself, never the page; this is nginx's limit.
    replies = [requests.get(cluster.staff_url + "/staff/login", verify=cert, timeout=30) for _ in range(25)]
    statuses = [r.status_code for r in replies]
    assert statuses[:5] == [200] * 5
    refused = [r for r in replies if r.status_code == 429]
    assert len(refused) >= 10  # 30 a minute with a burst of 10: most of 25 at once are refused
    assert all("nginx" in r.text and "Sign in" not in r.text for r in refused)  # answered before the web process
    staff_page = requests.get(cluster.staff_url + "/staff/", verify=cert, timeout=30, allow_redirects=False)
    assert staff_page.status_code in (302, 303)  # its own zone: on to the sign-in page, not refused


def test_a_screening_alternating_between_two_servers_ends_as_on_one(cluster):
    one_server, one_results = screening("alone-1", lambda step: cluster.rasa_url(0))
    alternating, results = screening("alternating-1", lambda step: cluster.rasa_url(step % 2))
    assert alternating == one_server
    assert verdicts(results) == verdicts(one_results)
    assert {r["verdict"] for r in results} == {"possibly_eligible"}
    events = stored_events(cluster.env["TRACKER_DB_URL"], "alternating-1")
    assert len(user_texts(events)) == len(alternating)  # every message stored once


def test_two_messages_of_one_conversation_at_once_on_two_servers_are_handled_in_turn(cluster):
    sender = "simultaneous-1"
    say(cluster.rasa_url(0), sender, "hello")
    say(cluster.rasa_url(1), sender, "I am the patient")
    replies: dict[int, list] = {}
    start = threading.Barrier(2)

    def send(i: int, text: str) -> None:
        start.wait()
        replies[i] = say(cluster.rasa_url(i), sender, text)

    threads = [threading.Thread(target=send, args=(0, "lupus")), threading.Thread(target=send, args=(1, "yes"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for i in (0, 1):
        assert texts(replies[i]) and not any(TECHNICAL in t for t in texts(replies[i]))
    events = stored_events(cluster.env["TRACKER_DB_URL"], sender)
    said = user_texts(events)
    assert sorted(said[-2:]) == ["lupus", "yes"]  # neither lost
    # Each message's turn ran to its end (action_listen) before the next message was read.
    kinds = [(kind, action) for kind, action, _ in events if kind in ("user", "action")]
    last_two = [i for i, (kind, _) in enumerate(kinds) if kind == "user"][-2:]
    between = kinds[last_two[0] + 1:last_two[1]]
    assert between and between[-1] == ("action", "action_listen")
    assert ("action", "action_screening_turn") in between
    assert kinds[-1] == ("action", "action_listen")


def test_erasure_on_one_server_is_seen_by_the_other(cluster):
    sender = "erased-1"
    for i, text in enumerate(["hello", "I am the patient", "lupus", "yes"]):
        say(cluster.rasa_url(i % 2), sender, text)  # both servers have this conversation in memory
    assert "erase everything" in texts(say(cluster.rasa_url(0), sender, "delete my data"))[-1]
    assert any("erased" in t for t in texts(say(cluster.rasa_url(0), sender, "yes")))
    assert stored_events(cluster.env["TRACKER_DB_URL"], sender) == []
    fresh = texts(say(cluster.rasa_url(1), sender, "hello"))
    assert fresh[0].startswith("Hello") and "who is answering" in fresh[-1].lower()
    # The conversation starts again: only what was said after the erasure is stored.
    assert user_texts(stored_events(cluster.env["TRACKER_DB_URL"], sender)) == ["hello"]
    next_question = texts(say(cluster.rasa_url(0), sender, "I am the patient"))
    assert "which illness" in next_question[-1].lower()


def test_socketio_through_nginx_is_sticky_and_completes_a_turn(cluster):
    session = requests.Session()
    session.trust_env = False  # else REQUESTS_CA_BUNDLE wins over session.verify
    session.verify = str(cluster.certificate)
    session.get(cluster.url + "/", timeout=10)
    assert session.cookies.get("prescreen_route")

    class Through:
        url = patient_url = cluster.url

    chat = SocketChat(Through(), http_session=session)
    try:
        first = texts(chat.ask("hello"))
        assert first and first[0].startswith("Hello")
        assert "which illness" in texts(chat.ask("I am the patient"))[-1].lower()
    finally:
        chat.close()
    log = (cluster.workdir / "logs" / "nginx-access.log").read_text().splitlines()
    polled = {line.split()[-2] for line in log if '"GET /socket.io/' in line or '"POST /socket.io/' in line}
    assert len(polled) == 1  # every request of that session went to one Rasa server


def test_a_patient_page_chat_goes_on_when_its_rasa_server_is_killed(cluster):
    session = requests.Session()
    session.trust_env = False
    session.verify = str(cluster.certificate)
    session.get(cluster.url + "/", timeout=10)

    class Through:
        url = patient_url = cluster.url

    log = cluster.workdir / "logs" / "nginx-access.log"
    seen = len(log.read_text().splitlines())
    chat = SocketChat(Through(), http_session=session)
    try:
        chat.ask("hello")
        assert "which illness" in texts(chat.ask("I am the patient"))[-1].lower()
        token = chat.session
    finally:
        chat.close()
    served = {line.split()[-2] for line in log.read_text().splitlines()[seen:] if "/socket.io/" in line}
    assert len(served) == 1
    victim = cluster.rasa_ports.index(int(served.pop().rsplit(":", 1)[1]))
    cluster.stop_rasa(victim, kill=True)
    try:
        # The widget reconnects with its signed session; nginx sends it to the other server.
        chat = SocketChat(Through(), session_id=token, http_session=session)
        try:
            assert chat.session == token  # the same conversation, resumed
            assert "still active" in texts(chat.ask("lupus"))[-1].lower()
        finally:
            chat.close()
    finally:
        cluster.start_rasa(victim)


def test_killing_an_action_server_mid_screening_loses_nothing(cluster):
    def kill_half_way(step: int) -> None:
        if step == 3:
            cluster.stop_actions(0, kill=True)

    try:
        transcript, results = screening("actions-killed", lambda step: cluster.url, before_step=kill_half_way)
    finally:
        cluster.start_actions(0)
    _, reference = screening("actions-reference", lambda step: cluster.rasa_url(1))
    assert verdicts(results) == verdicts(reference)


def test_killing_a_rasa_server_mid_screening_loses_nothing(cluster):
    sender, tracker_url = "rasa-killed", cluster.env["TRACKER_DB_URL"]

    def kill_half_way(step: int) -> None:
        if step == 4:
            cluster.stop_rasa(0, kill=True)

    # Messages through nginx until server 0 is killed; then nginx sends them to server 1.
    transcript, results = screening(sender, lambda step: cluster.rasa_url(0) if step < 4 else cluster.url,
                                    before_step=kill_half_way)
    _, reference = screening("rasa-reference", lambda step: cluster.rasa_url(1))
    assert verdicts(results) == verdicts(reference)
    assert len(user_texts(stored_events(tracker_url, sender))) == len(transcript)


def test_a_lock_left_by_a_server_that_died_holding_it_expires_and_the_conversation_goes_on(cluster):
    from rasa_addons.lock_store import SharedRedisLockStore

    sender = "lock-left-behind"
    say(cluster.rasa_url(1), sender, "hello")
    # What a Rasa server killed in the middle of a message leaves: a ticket nobody releases.
    SharedRedisLockStore(url=cluster.env["LOCK_STORE_URL"]).issue_ticket(sender, 4)
    began = time.monotonic()
    reply = texts(say(cluster.rasa_url(1), sender, "I am the patient"))
    waited = time.monotonic() - began
    assert "which illness" in reply[-1].lower()
    assert 3 <= waited < 30  # it waited for that ticket to expire, then went on


def test_redis_down_gives_the_technical_problem_reply_and_stores_nothing(cluster):
    sender, tracker_url = "redis-down", cluster.env["TRACKER_DB_URL"]
    say(cluster.rasa_url(1), sender, "hello")
    before = stored_events(tracker_url, sender)
    cluster.stop_redis()
    try:
        reply = texts(say(cluster.rasa_url(1), sender, "I am the patient"))
        assert len(reply) == 1 and reply[0].startswith(TECHNICAL)  # never handled without the shared lock
        assert stored_events(tracker_url, sender) == before
    finally:
        cluster.start_redis()
    again = texts(say(cluster.rasa_url(1), sender, "I am the patient"))
    assert "which illness" in again[-1].lower()  # the same message works once Redis is back
