"""Staff accounts, sessions, API tokens and the review rules, straight on the core."""
from datetime import timedelta

import pytest

from prescreen.staff import accounts

from prescreen.staff import review
from prescreen.staff.accounts import AccountError
from prescreen.storage import Database, utcnow

SITES = {"site-a", "site-b"}
PASSWORD = "a long enough password"


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'accounts.db'}")
    database.create_schema()
    accounts.create_account(database, "Anna", "Anna Li", PASSWORD, ["site-a"], SITES)
    return database


def test_password_hash_is_salted_scrypt_and_verifies():
    first, second = accounts.hash_password(PASSWORD), accounts.hash_password(PASSWORD)
    assert first != second and first.startswith("scrypt$")
    assert accounts.verify_password(PASSWORD, first) and not accounts.verify_password("other password", first)
    assert not accounts.verify_password(PASSWORD, "garbage") and not accounts.verify_password(PASSWORD, "md5$x$y$z$a$b")


@pytest.mark.parametrize("username, name, password, sites, problem", [
    ("bob", "Bob", "short", ["site-a"], "at least 12"),
    ("bob", "", PASSWORD, ["site-a"], "full name"),
    ("bob", "Bob", PASSWORD, ["site-x"], "unknown site"),
    ("bob", "Bob", PASSWORD, [], "at least one site"),
    ("bob smith", "Bob", PASSWORD, ["site-a"], "username"),
    ("anna", "Anna Two", PASSWORD, ["site-a"], "taken"),
])
def test_bad_account_requests_say_why(db, username, name, password, sites, problem):
    with pytest.raises(AccountError, match=problem):
        accounts.create_account(db, username, name, password, sites, SITES)


def test_sign_in_names_the_sites(db):
    user = accounts.authenticate(db, "ANNA ", PASSWORD)
    assert user.username == "anna" and user.sites == frozenset({"site-a"}) and user.actor == "staff:anna"
    assert accounts.authenticate(db, "anna", "wrong password") is None
    assert accounts.authenticate(db, "nobody", PASSWORD) is None


def test_failed_sign_ins_never_lock_the_account(db):
    now = utcnow()
    for _ in range(20):  # anyone can send wrong passwords for any username
        accounts.authenticate(db, "anna", "wrong password", now=now, address="203.0.113.9")
    assert accounts.authenticate(db, "anna", PASSWORD, now=now, address="198.51.100.7")


def test_the_throttle_slows_an_address_with_growing_delays_and_forgets_it():
    clock = [1000.0]
    throttle = accounts.LoginThrottle(clock=lambda: clock[0])
    delays = [throttle.failed("a") for _ in range(throttle.FREE_FAILURES + 4)]
    assert delays[:throttle.FREE_FAILURES] == [0.0] * throttle.FREE_FAILURES
    grown = delays[throttle.FREE_FAILURES:]
    assert grown == sorted(grown) and grown[-1] == 8 * grown[0] > 0
    assert throttle.wait_for("a") == grown[-1] and throttle.wait_for("b") == 0  # other addresses are not slowed
    clock[0] += grown[-1]
    assert throttle.wait_for("a") == 0
    for _ in range(40):
        throttle.failed("a")
    assert throttle.wait_for("a") == throttle.MAX_SECONDS
    throttle.succeeded("a")
    assert throttle.wait_for("a") == 0


def test_sessions_end_eight_hours_after_sign_in_however_active(db):
    token, _ = accounts.start_session(db, accounts.authenticate(db, "anna", PASSWORD))
    idle, start = timedelta(minutes=15), utcnow()
    for minutes in range(10, 8 * 60, 10):  # a request every ten minutes
        assert accounts.session_user(db, token, idle, now=start + timedelta(minutes=minutes)), minutes
    assert accounts.session_user(db, token, idle, now=start + timedelta(hours=8, minutes=1)) is None


def test_disabled_accounts_and_new_passwords_end_sessions(db):
    user = accounts.authenticate(db, "anna", PASSWORD)
    token, _ = accounts.start_session(db, user)
    assert accounts.session_user(db, token, timedelta(minutes=15)).csrf_token
    accounts.set_password(db, "anna", "another long password")
    assert accounts.session_user(db, token, timedelta(minutes=15)) is None
    accounts.set_active(db, "anna", False)
    assert accounts.authenticate(db, "anna", "another long password") is None


def test_idle_sessions_end_and_active_ones_stay(db):
    token, _ = accounts.start_session(db, accounts.authenticate(db, "anna", PASSWORD))
    idle, start = timedelta(minutes=15), utcnow()
    assert accounts.session_user(db, token, idle, now=start + timedelta(minutes=10))
    assert accounts.session_user(db, token, idle, now=start + timedelta(minutes=20))  # 10 minutes after the last use
    assert accounts.session_user(db, token, idle, now=start + timedelta(minutes=40)) is None
    assert accounts.session_user(db, token, idle, now=start + timedelta(minutes=41)) is None  # and it stays ended


def test_api_tokens_open_one_site_until_revoked(db):
    token = accounts.create_api_token(db, "site-b", "HIS", SITES)
    assert accounts.api_site(db, token) == ("site-b", "HIS")
    assert accounts.api_site(db, token + "x") is None and accounts.api_site(db, None) is None
    assert accounts.revoke_api_tokens(db, "site-b", "HIS") == 1
    assert accounts.api_site(db, token) is None
    with pytest.raises(AccountError):
        accounts.create_api_token(db, "site-x", "HIS", SITES)


@pytest.mark.parametrize("value, shown", [
    ("=1+1", "'=1+1"), ("+86 138", "'+86 138"), ("-5", "'-5"), ("@A1", "'@A1"), ("\tx", "'\ufffdx"), ("\rx", "'\ufffdx"),
    ("Li\u202eWei", "Li\ufffdWei"), ("a\x1b[31mb", "a\ufffd[31mb"), ("李\u200b伟", "李\ufffd伟"),
    ("Li Wei", "Li Wei"), ("", ""), (None, ""), (42, "42"),
])
def test_csv_cells_never_start_a_formula(value, shown):
    assert review.neutralise_cell(value) == shown


def test_the_workflow_ends_in_a_final_status():
    for status, following in review.NEXT_STATUSES.items():
        assert set(following) <= set(review.STATUSES) and status not in following
    assert review.NEXT_STATUSES["enrolled"] == () and review.NEXT_STATUSES["not_enrolled"] == ()


def test_filters_refuse_what_they_cannot_read():
    with pytest.raises(review.ReviewError):
        review.Filters.parse({"from": "23/11/2026"})
    with pytest.raises(review.ReviewError):
        review.Filters.parse({"status": "maybe"})
    assert review.Filters.parse({"trial": "X", "from": "2026-11-01"}).query_args() == {"trial": "X", "from": "2026-11-01"}
