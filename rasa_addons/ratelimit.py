"""Rate limits for the chat channels: per client address and per conversation.

A sliding window in memory (one Rasa server process; several servers behind one
address each count their own share). Defaults suit one patient typing and a hospital
network behind one address; the settings are messages per minute:
  RATE_LIMIT_PER_CONVERSATION  (default 30)
  RATE_LIMIT_PER_ADDRESS       (default 300)
A message over a limit is not handed to Rasa; the patient reads SLOW_DOWN instead.
"""
from __future__ import annotations

import os
import time
from collections import deque
from typing import Callable, Deque, Dict, Mapping, Optional

SLOW_DOWN = "Please slow down: wait a few seconds, then send your answer again. 请慢一点：稍等几秒再发送。"
WINDOW_SECONDS = 60.0
MAX_TRACKED = 50_000  # keys kept in memory at most; the oldest are dropped first


class SlidingWindow:
    def __init__(self, limit: int, window: float = WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self._hits: Dict[str, Deque[float]] = {}

    def allow(self, key: str) -> bool:
        if self.limit <= 0:
            return True
        now = self.clock()
        hits = self._hits.pop(key, None) or deque()
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        allowed = len(hits) < self.limit
        if allowed:
            hits.append(now)
        self._hits[key] = hits  # re-inserted: the dict's order is least recently used first
        while len(self._hits) > MAX_TRACKED:
            self._hits.pop(next(iter(self._hits)))
        return allowed


class RateLimiter:
    def __init__(self, per_conversation: int, per_address: int, clock: Callable[[], float] = time.monotonic):
        self.conversations = SlidingWindow(per_conversation, clock=clock)
        self.addresses = SlidingWindow(per_address, clock=clock)

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "RateLimiter":
        env = os.environ if env is None else env
        return cls(int(env.get("RATE_LIMIT_PER_CONVERSATION") or 30), int(env.get("RATE_LIMIT_PER_ADDRESS") or 300))

    def allow(self, address: Optional[str], conversation: Optional[str]) -> bool:
        """Counts the message against both limits; False when either is exceeded."""
        by_address = self.addresses.allow(address or "?")
        return self.conversations.allow(conversation or "?") and by_address
