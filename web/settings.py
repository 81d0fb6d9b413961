"""The web process's settings, from the environment (see the README)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta, tzinfo
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class WebSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    idle: timedelta = timedelta(minutes=15)  # staff sessions end after this long without a request
    max_age: timedelta = timedelta(hours=8)  # ...and this long after sign-in, whatever the activity
    timezone: tzinfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))  # the sites' days and times
    secure_cookies: bool = False  # set behind https, so the session cookie is never sent in clear
    # Served over https (by a TLS proxy in front): HSTS is sent. STAFF_HTTPS, or STAFF_SECURE_COOKIES.
    https: bool = False

    @classmethod
    def from_env(cls, env=None) -> "WebSettings":
        env = os.environ if env is None else env
        return cls(
            host=env.get("WEB_HOST", "127.0.0.1"),
            port=int(env.get("WEB_PORT", "8000")),
            idle=timedelta(seconds=float(env.get("STAFF_IDLE_SECONDS", 15 * 60))),
            timezone=ZoneInfo(env.get("STAFF_TIMEZONE", "Asia/Shanghai")),
            max_age=timedelta(hours=float(env.get("STAFF_SESSION_HOURS", 8))),
            secure_cookies=env.get("STAFF_SECURE_COOKIES", "0") == "1",
            https=env.get("STAFF_HTTPS", env.get("STAFF_SECURE_COOKIES", "0")) == "1",
        )
