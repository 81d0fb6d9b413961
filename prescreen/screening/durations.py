"""Durations and "how long ago" answers, kept as day ranges.

A patient rarely knows an exact date: "in 2019" or "more than 5 years ago" is a
range. Keeping the range lets a rule say "unknown" when the range straddles the
rule's limit, instead of guessing a day and possibly excluding someone wrongly.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

DAYS_PER_UNIT = {"day": 1, "week": 7, "month": 30, "year": 365}

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(day|week|month|year)s?\s*$", re.IGNORECASE)


def parse_duration(text: str) -> int:
    """'4 weeks' -> 28. Raises ValueError on anything else."""
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"not a duration like '4 weeks' or '3 months': {text!r}")
    amount, unit = float(match.group(1)), match.group(2).lower()
    return int(round(amount * DAYS_PER_UNIT[unit]))


@dataclass(frozen=True)
class DaysAgo:
    """An event somewhere between `low` and `high` days ago (inclusive)."""

    low: float
    high: float

    def __post_init__(self):
        if self.low < 0 or self.high < self.low:
            raise ValueError(f"bad day range {self.low}..{self.high}")

    @classmethod
    def exactly(cls, days: float) -> "DaysAgo":
        return cls(days, days)

    @classmethod
    def more_than(cls, days: float) -> "DaysAgo":
        return cls(days, math.inf)

    def within(self, limit_days: float) -> bool | None:
        """True if surely within the limit, False if surely not, None if unclear."""
        if self.high <= limit_days:
            return True
        if self.low > limit_days:
            return False
        return None


    def at_least(self, limit_days: float) -> bool | None:
        """True if surely at least `limit_days` ago, False if surely less, None if unclear."""
        if self.low >= limit_days:
            return True
        if self.high < limit_days:
            return False
        return None
