"""Staff accounts, their browser sessions, and the API tokens of hospital systems.

Passwords are kept only as scrypt hashes (hashlib, RFC 7914); session cookies and API
tokens are random, and only their SHA-256 is stored, so a copy of the database opens
nothing. Sessions end after an idle time and, whatever the activity, MAX_SESSION_AGE
(8 hours) after sign-in. Failed sign-ins slow down the address they come from
(LoginThrottle: growing delays), never lock an account: anyone could lock anyone's.
Every refused session or API token is audited. Command line:
`python -m prescreen.staff.accounts --help`.
"""
from __future__ import annotations

import argparse
import base64
import getpass
import hashlib
import hmac
import os
import secrets
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from prescreen.storage import (
    AccountRecord,
    AccountSiteRecord,
    ApiTokenRecord,
    Database,
    StaffSessionRecord,
    utcnow,
)

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1
MIN_PASSWORD_LENGTH = 12
MAX_SESSION_AGE = timedelta(hours=8)  # a session ends this long after sign-in, however active
# Checked against when the username is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = None


class AccountError(ValueError):
    """A request about accounts that cannot be done; the message says why."""


@dataclass(frozen=True)
class StaffUser:
    id: int
    username: str
    full_name: str
    sites: frozenset[str]
    csrf_token: str = ""

    @property
    def actor(self) -> str:
        return f"staff:{self.username}"


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return "$".join(["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest)])


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        actual = hashlib.scrypt(password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p),
                                dklen=len(_unb64(digest)))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, _unb64(digest))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")


def create_account(db: Database, username: str, full_name: str, password: str, sites: list[str],
                   known_sites: set[str]) -> None:
    username = username.strip().lower()
    if not username or not username.replace(".", "").replace("-", "").replace("_", "").isalnum():
        raise AccountError("a username is letters, digits, '.', '-' or '_'")
    if not full_name.strip():
        raise AccountError("a person's full name is needed: accounts are never shared")
    unknown = sorted(set(sites) - known_sites)
    if not sites or unknown:
        raise AccountError(f"unknown site {unknown[0]!r}" if unknown else "an account needs at least one site")
    check_password_rules(password)
    with db.transaction() as session:
        if session.scalar(select(AccountRecord.id).where(AccountRecord.username == username)):
            raise AccountError(f"the username {username!r} is taken")
        account = AccountRecord(username=username, full_name=full_name.strip(), password_hash=hash_password(password),
                                sites=[AccountSiteRecord(site_id=site) for site in sorted(set(sites))])
        session.add(account)
        db.audit(session, "admin", "account_created", f"account:{username}", "sites: " + ", ".join(sorted(set(sites))))


def set_password(db: Database, username: str, password: str) -> None:
    check_password_rules(password)
    with db.transaction() as session:
        account = _account(session, username)
        account.password_hash = hash_password(password)
        session.execute(delete(StaffSessionRecord).where(StaffSessionRecord.account_id == account.id))
        db.audit(session, "admin", "password_set", f"account:{account.username}")


def set_active(db: Database, username: str, active: bool) -> None:
    with db.transaction() as session:
        account = _account(session, username)
        account.active = active
        if not active:
            session.execute(delete(StaffSessionRecord).where(StaffSessionRecord.account_id == account.id))
        db.audit(session, "admin", "account_enabled" if active else "account_disabled", f"account:{account.username}")


class LoginThrottle:
    """Growing delays per client address after failed sign-ins (in the web process's memory).

    The first FREE_FAILURES failures cost nothing; each further one doubles the wait
    before that address may try again (BASE_SECONDS, 2x, 4x ... up to MAX_SECONDS).
    A success clears the address; an address quiet for FORGET_AFTER is forgotten.
    """

    FREE_FAILURES = 3
    BASE_SECONDS = 2.0
    MAX_SECONDS = 300.0
    FORGET_AFTER = 3600.0
    MAX_ADDRESSES = 10_000

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self._state: dict[str, tuple[int, float, float]] = {}  # address -> (failures, next allowed, last failure)
        self._lock = threading.Lock()

    def wait_for(self, address: str) -> float:
        """Seconds this address must still wait before it may try; 0 when it may."""
        with self._lock:
            state = self._state.get(address)
            if state is None:
                return 0.0
            now = self.clock()
            if now - state[2] > self.FORGET_AFTER:
                del self._state[address]
                return 0.0
            return max(0.0, state[1] - now)

    def failed(self, address: str) -> float:
        """Count a failure; the delay it sets."""
        with self._lock:
            now = self.clock()
            failures = self._state.get(address, (0, 0.0, now))[0] + 1
            delay = 0.0
            if failures > self.FREE_FAILURES:
                delay = min(self.BASE_SECONDS * 2 ** (failures - self.FREE_FAILURES - 1), self.MAX_SECONDS)
            self._state.pop(address, None)
            self._state[address] = (failures, now + delay, now)
            while len(self._state) > self.MAX_ADDRESSES:
                self._state.pop(next(iter(self._state)))
            return delay

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._state.pop(address, None)


def authenticate(db: Database, username: str, password: str, now: datetime | None = None,
                 address: str | None = None) -> StaffUser | None:
    """The account for a right username and password; None otherwise. Every try is audited
    (with the client address); throttling is per address (LoginThrottle), never per account."""
    global _DUMMY_HASH
    username = (username or "").strip().lower()[:64]
    record = f"account:{username}"
    with db.transaction() as session:
        account = session.scalar(select(AccountRecord).where(AccountRecord.username == username))
        if account is None:
            _DUMMY_HASH = _DUMMY_HASH or hash_password("not a password")
            verify_password(password or "", _DUMMY_HASH)
            ok = False
        else:
            ok = verify_password(password or "", account.password_hash) and account.active
        db.audit(session, record, "login" if ok else "login_failed", record,
                 f"from {address[:64]}" if address else None, success=ok)
        return _user(account) if ok else None


def start_session(db: Database, user: StaffUser) -> tuple[str, StaffUser]:
    """A new session: the cookie's token, and the user with the session's CSRF token."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with db.transaction() as session:
        session.add(StaffSessionRecord(token_hash=token_hash(token), account_id=user.id, csrf_token=csrf))
    return token, StaffUser(user.id, user.username, user.full_name, user.sites, csrf)


def session_user(db: Database, token: str | None, idle: timedelta, now: datetime | None = None,
                 max_age: timedelta = MAX_SESSION_AGE) -> StaffUser | None:
    """The signed-in user for a cookie, or None. A session idle longer than `idle`, or
    older than `max_age` however active, ends. An unknown cookie is audited."""
    if not token:
        return None
    now = now or utcnow()
    with db.transaction() as session:
        record = session.get(StaffSessionRecord, token_hash(token))
        if record is None:
            db.audit(session, "unknown", "session_refused", "session", "unknown or ended session cookie",
                     success=False)
            return None
        account = session.get(AccountRecord, record.account_id)
        too_old = now - record.created_at > max_age
        if now - record.last_seen_at > idle or too_old or account is None or not account.active:
            session.delete(record)
            db.audit(session, f"staff:{account.username if account else '?'}", "session_expired", "session",
                     "8-hour limit" if too_old else None)
            return None
        record.last_seen_at = now
        user = _user(account)
        return StaffUser(user.id, user.username, user.full_name, user.sites, record.csrf_token)


def end_session(db: Database, token: str | None) -> None:
    if token:
        with db.transaction() as session:
            session.execute(delete(StaffSessionRecord).where(StaffSessionRecord.token_hash == token_hash(token)))


def create_api_token(db: Database, site_id: str, label: str, known_sites: set[str]) -> str:
    """A new token for one site's data; shown once, kept only as a hash."""
    if site_id not in known_sites:
        raise AccountError(f"unknown site {site_id!r}")
    if not label.strip():
        raise AccountError("say what system the token is for (--label)")
    token = "pst_" + secrets.token_urlsafe(32)
    with db.transaction() as session:
        session.add(ApiTokenRecord(token_hash=token_hash(token), site_id=site_id, label=label.strip()))
        db.audit(session, "admin", "api_token_created", f"site:{site_id}", label.strip())
    return token


def api_site(db: Database, token: str | None) -> tuple[str, str] | None:
    """(site id, label) for a valid API token; None otherwise."""
    with db.transaction() as session:
        record = session.get(ApiTokenRecord, token_hash(token)) if token else None
        if record is None or record.revoked_at is not None:
            why = "no token" if not token else ("unknown token" if record is None else f"revoked token ({record.label})")
            db.audit(session, "api:unknown" if record is None else f"api:{record.site_id}:{record.label}",
                     "api_token_refused", f"site:{record.site_id}" if record else "api", why, success=False)
            return None
        return record.site_id, record.label


def revoke_api_tokens(db: Database, site_id: str, label: str) -> int:
    with db.transaction() as session:
        tokens = list(session.scalars(select(ApiTokenRecord).where(
            ApiTokenRecord.site_id == site_id, ApiTokenRecord.label == label, ApiTokenRecord.revoked_at.is_(None))))
        for record in tokens:
            record.revoked_at = utcnow()
        db.audit(session, "admin", "api_token_revoked", f"site:{site_id}", f"{label} ({len(tokens)})")
        return len(tokens)


def _account(session, username: str) -> AccountRecord:
    account = session.scalar(select(AccountRecord).where(AccountRecord.username == username.strip().lower()))
    if account is None:
        raise AccountError(f"no account {username!r}")
    return account


def _user(account: AccountRecord) -> StaffUser:
    return StaffUser(account.id, account.username, account.full_name, frozenset(s.site_id for s in account.sites))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# ---- command line ----------------------------------------------------------------

def _read_password(args) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise AccountError("the two passwords differ")
    return first


def main(argv: list[str] | None = None) -> int:
    from prescreen.screening.trials import load_catalog

    parser = argparse.ArgumentParser(prog="python -m prescreen.staff.accounts",
                                     description="Staff accounts and API tokens (database: PRESCREEN_DB_URL).")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add-user", help="create a named staff account for one or more sites")
    add.add_argument("username")
    add.add_argument("--name", required=True, help="the person's full name")
    add.add_argument("--site", action="append", required=True, help="a site id from trials/ (repeat for more)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    password = commands.add_parser("set-password", help="set a new password (signs the account out everywhere)")
    password.add_argument("username")
    password.add_argument("--password-stdin", action="store_true")
    for name, text in (("disable-user", "stop an account from signing in"), ("enable-user", "allow it again")):
        commands.add_parser(name, help=text).add_argument("username")
    token = commands.add_parser("add-token", help="create an API token for one site's data (printed once)")
    token.add_argument("site")
    token.add_argument("--label", required=True, help="which hospital system uses it")
    revoke = commands.add_parser("revoke-token", help="revoke a site's tokens with this label")
    revoke.add_argument("site")
    revoke.add_argument("--label", required=True)
    erase = commands.add_parser("erase-screening", help="erase a patient's data by the screening reference a site "
                                "has (the patient asked the site); sites are told, and it is audited")
    erase.add_argument("reference", help="the screening reference from the summary or staff page")
    erase.add_argument("--by", required=True, help="the username of the staff member or admin who was asked")
    erase.add_argument("--reason", default="", help="a short note, e.g. 'patient phoned the site'")
    commands.add_parser("sites", help="list the site ids")
    args = parser.parse_args(argv)

    trials_dir = os.environ.get("PRESCREEN_TRIALS_DIR") or os.path.join(os.path.dirname(__file__), "..", "..", "trials")
    sites = {site.id: site for trial in load_catalog(trials_dir).trials for site in trial.sites}
    if args.command == "sites":
        for site in sites.values():
            print(f"{site.id:28} {site.name}, {site.city}")
        return 0
    db = Database()
    db.create_schema()
    try:
        if args.command == "add-user":
            create_account(db, args.username, args.name, _read_password(args), args.site, set(sites))
            print(f"Account {args.username} created for: {', '.join(args.site)}")
        elif args.command == "set-password":
            set_password(db, args.username, _read_password(args))
            print("Password set.")
        elif args.command in ("disable-user", "enable-user"):
            set_active(db, args.username, args.command == "enable-user")
            print("Done.")
        elif args.command == "add-token":
            print(create_api_token(db, args.site, args.label, set(sites)))
        elif args.command == "revoke-token":
            print(f"Revoked {revoke_api_tokens(db, args.site, args.label)} token(s).")
        elif args.command == "erase-screening":
            from prescreen.staff.retention import NoSuchScreening, erase_screening
            from prescreen.storage import TrackerEvents

            try:
                erase_screening(db, args.reference, args.by.strip().lower(), TrackerEvents(), args.reason)
            except NoSuchScreening:
                raise AccountError(f"no screening {args.reference!r}") from None
            print("Erased. Sites that received a summary will be sent a withdrawal notice.")
    except AccountError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
