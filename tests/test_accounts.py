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


def test_lockout_lasts_fifteen_minutes(db):
    now = utcnow()
    for _ in range(accounts.MAX_FAILED_LOGINS):
        accounts.authenticate(db, "anna", "wrong password", now=now)
    assert accounts.authenticate(db, "anna", PASSWORD, now=now + timedelta(minutes=1)) is None
    assert accounts.authenticate(db, "anna", PASSWORD, now=now + accounts.LOCKOUT + timedelta(seconds=1))


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
    ("=1+1", "'=1+1"), ("+86 138", "'+86 138"), ("-5", "'-5"), ("@A1", "'@A1"), ("\tx", "'\tx"), ("\rx", "'\rx"),
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
