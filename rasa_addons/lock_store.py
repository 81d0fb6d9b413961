"""A Redis lock store for several Rasa servers, atomic and loud.

Rasa handles the messages of one conversation one after the other by taking a ticket
from its lock store (`Agent.handle_message`). With several Rasa servers the tickets
must live in one place (Redis) or two servers handle one conversation at once: both
read the stored conversation, both append, and one patient's answers interleave.

Why not Rasa's own RedisLockStore (rasa/core/lock_store.py):
- Its ticket operations are read-modify-write without a transaction: GET the lock,
  add a ticket, SET it back. Two servers that take a ticket at the same moment can
  both read the same lock and both get ticket 0, so both run. Here every change of a
  lock is one Redis transaction (WATCH/MULTI/EXEC, retried on conflict).
- It polls once a second for a busy lock (every waiting message waits a whole second).
  Here the poll starts at 10 ms and grows to 200 ms.
- Nothing in Rasa checks that the lock store is reachable: a missing or wrong
  `lock_store` section quietly gives in-memory locks, one set per server. Here the
  store pings Redis when the server starts (the server refuses to start without it),
  and `SHARED_LOCKS_REQUIRED=1` (set by the cluster runner) makes the tracker store
  refuse every conversation when this process has no shared lock store
  (tracker_store.py), so the patient reads the "technical problem" reply and the log
  says why; never a silent fallback.
- A lock left by a server killed mid-message expires with its ticket (the Redis key
  carries the lock's lifetime), so the conversation goes on on another server.

Settings: `LOCK_STORE_URL` (`redis://:password@127.0.0.1:6379/0`; or `url:` in
endpoints.yml), `TICKET_LOCK_LIFETIME` (Rasa's own, seconds, default 60).
When Redis fails while a message is handled, the message gets the "technical
problem" reply (rasa_addons/safe_reply.py answers the error) and nothing is stored.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from contextlib import asynccontextmanager
from typing import Any, AsyncGenerator, Callable, Optional, Text, Tuple

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore

logger = logging.getLogger(__name__)

KEY_PREFIX = "prescreen:lock:"
FIRST_POLL_SECONDS, LAST_POLL_SECONDS = 0.01, 0.2

# Set when a SharedRedisLockStore is made in this process (tracker_store.py checks it).
ACTIVE: Optional["SharedRedisLockStore"] = None


class LockStoreUnavailable(LockError):
    """Redis could not be reached or answered with an error."""


def _describe(error: Exception) -> str:
    # The type only: a Redis error message can carry the URL (with its password).
    return error.__class__.__name__


class SharedRedisLockStore(LockStore):
    def __init__(self, endpoint_config: Any = None, url: Optional[str] = None, client: Any = None) -> None:
        global ACTIVE
        kwargs = dict(getattr(endpoint_config, "kwargs", None) or {})
        url = url or getattr(endpoint_config, "url", None) or os.environ.get("LOCK_STORE_URL")
        if client is None:
            if not url:
                raise LockStoreUnavailable("no Redis for the lock store: set LOCK_STORE_URL (redis://...)")
            client = redis.Redis.from_url(url, socket_timeout=float(kwargs.get("socket_timeout", 5)),
                                          socket_connect_timeout=float(kwargs.get("socket_connect_timeout", 2)))
        self.red = client
        self.key_prefix = KEY_PREFIX
        try:
            self.red.ping()
        except redis.RedisError as error:
            raise LockStoreUnavailable(f"the lock store's Redis did not answer ({_describe(error)})") from None
        super().__init__()
        ACTIVE = self
        logger.info("Lock store: Redis (shared by every Rasa server that uses it).")

    # One atomic change of one lock ------------------------------------------------
    def _change(self, conversation_id: Text, change: Callable[[Optional[TicketLock]], Tuple[Optional[TicketLock], Any]],
                lifetime: float = LOCK_LIFETIME) -> Any:
        key = self.key_prefix + conversation_id
        try:
            with self.red.pipeline() as pipe:
                while True:
                    try:
                        pipe.watch(key)
                        raw = pipe.get(key)
                        lock = TicketLock.from_dict(json.loads(raw)) if raw else None
                        lock, result = change(lock)
                        pipe.multi()
                        if lock is None or not lock.tickets:
                            pipe.delete(key)
                        else:
                            # The key outlives its last ticket by a little, never for ever.
                            expires = max(t.expires for t in lock.tickets)
                            pipe.set(key, lock.dumps(), px=max(1000, int((expires + 5) * 1000 - _now_ms())))
                        pipe.execute()
                        return result
                    except redis.WatchError:
                        continue  # another server changed this lock meanwhile: read it again
        except redis.RedisError as error:
            raise LockStoreUnavailable(f"the lock store failed ({_describe(error)})") from None

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def take(lock: Optional[TicketLock]):
            lock = lock or TicketLock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        return self._change(conversation_id, take)

    def update_lock(self, conversation_id: Text) -> None:
        def prune(lock: Optional[TicketLock]):
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        self._change(conversation_id, prune)

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        def done(lock: Optional[TicketLock]):
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
            return lock, None

        self._change(conversation_id, done)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        # finish_serving deletes the key with its last ticket: one transaction, no race
        # with a ticket another server takes in between (Rasa's cleanup has one).
        try:
            self.finish_serving(conversation_id, ticket_number)
        except LockStoreUnavailable:
            # The message was handled and stored; its ticket expires with its lifetime.
            logger.error("The lock store failed while releasing a lock; it expires by itself.")

    # Reads ----------------------------------------------------------------------------
    def get_lock(self, conversation_id: Text) -> Optional[TicketLock]:
        try:
            raw = self.red.get(self.key_prefix + conversation_id)
        except redis.RedisError as error:
            raise LockStoreUnavailable(f"the lock store failed ({_describe(error)})") from None
        return TicketLock.from_dict(json.loads(raw)) if raw else None

    def save_lock(self, lock: TicketLock) -> None:  # only Rasa's base class calls these; kept atomic
        self._change(lock.conversation_id, lambda _old: (lock, None))

    def delete_lock(self, conversation_id: Text) -> None:
        self._change(conversation_id, lambda _old: (None, None))

    @asynccontextmanager
    async def lock(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME,
                   wait_time_in_seconds: float = FIRST_POLL_SECONDS) -> AsyncGenerator[TicketLock, None]:
        ticket = self.issue_ticket(conversation_id, lock_lifetime)
        try:
            yield await self._acquire_lock(conversation_id, ticket, min(wait_time_in_seconds, FIRST_POLL_SECONDS))
        finally:
            self.cleanup(conversation_id, ticket)

    async def _acquire_lock(self, conversation_id: Text, ticket: int, wait_time_in_seconds: float) -> TicketLock:
        wait = wait_time_in_seconds
        while True:
            lock = self.get_lock(conversation_id)
            if not lock:
                break  # our ticket expired (the lock went with it)
            if not lock.is_locked(ticket):
                return lock
            await asyncio.sleep(wait)
            wait = min(wait * 2, LAST_POLL_SECONDS)
            self.update_lock(conversation_id)
        raise LockError("the ticket for this conversation expired before its turn came")


def _now_ms() -> float:
    return time.time() * 1000
