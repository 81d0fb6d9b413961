"""How a summary reaches a site: signed webhook, email, or a local outbox folder.

Configured by environment, per trial (never in code):
  DELIVERY_<TRIAL>_WEBHOOK_URL     https://... (plain http only for localhost)
  DELIVERY_<TRIAL>_WEBHOOK_SECRET  HMAC-SHA256 key for the X-Prescreen-Signature header
  the site contact's email in the trial file, sent through SMTP_HOST / SMTP_PORT /
  SMTP_USER / SMTP_PASSWORD / SMTP_FROM, with SMTP_SECURITY:
    starttls (default)  STARTTLS required: a server that does not offer it gets no
                        password and no message (the delivery fails and is retried)
    ssl                 SMTPS, TLS from the first byte (usually port 465)
    plain-local-test    no TLS, only for a local test relay (never a real server)
  The server's certificate is checked against the system's CAs, or SMTP_CA_FILE.
<TRIAL> is the trial id in capitals with other characters as "_". With neither
configured, the summary is written to PRESCREEN_OUTBOX_DIR (default var/outbox).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Mapping
from urllib.parse import urlparse

import requests

from prescreen.screening.trials import Site, Trial

DEFAULT_OUTBOX_DIR = "var/outbox"
WEBHOOK_TIMEOUT_SECONDS = 10
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}


class DeliveryError(Exception):
    """A delivery that did not happen this time; the relay will try again."""


@dataclass(frozen=True)
class Channel:
    kind: str  # webhook | email | local
    target: str  # URL, email address, or folder
    secret_setting: str | None = None  # name of the variable holding the webhook key


def trial_key(trial_id: str) -> str:
    return re.sub(r"[^A-Z0-9]", "_", trial_id.upper())


def check_webhook_url(url: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme == "https" and parsed.hostname:
        return url
    if parsed.scheme == "http" and parsed.hostname in LOOPBACK_HOSTS:
        return url
    raise ValueError(f"webhook URL must use https (plain http only for localhost): {url!r}")


def channels_for(trial: Trial, site: Site, env: Mapping[str, str] | None = None) -> list[Channel]:
    env = os.environ if env is None else env
    key = trial_key(trial.id)
    channels = []
    url = env.get(f"DELIVERY_{key}_WEBHOOK_URL")
    if url:
        channels.append(Channel("webhook", check_webhook_url(url), f"DELIVERY_{key}_WEBHOOK_SECRET"))
    email = site.contact.resolved(env).get("email")
    if email and env.get("SMTP_HOST"):
        channels.append(Channel("email", email))
    if not channels:
        channels.append(Channel("local", env.get("PRESCREEN_OUTBOX_DIR") or DEFAULT_OUTBOX_DIR))
    return channels


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send_webhook(url: str, secret: str, body: bytes, idempotency_key: str) -> None:
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": idempotency_key,
        "X-Prescreen-Signature": sign(secret, body),
    }
    try:
        response = requests.post(check_webhook_url(url), data=body, headers=headers,
                                 timeout=WEBHOOK_TIMEOUT_SECONDS, allow_redirects=False)
    except requests.RequestException as exc:
        raise DeliveryError(f"webhook unreachable: {exc.__class__.__name__}") from exc
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"webhook answered {response.status_code}")


SMTP_SECURITY_MODES = ("starttls", "ssl", "plain-local-test")


def smtp_security(env: Mapping[str, str]) -> str:
    mode = (env.get("SMTP_SECURITY") or "starttls").strip().lower()
    if mode not in SMTP_SECURITY_MODES:
        raise DeliveryError(f"SMTP_SECURITY must be one of {', '.join(SMTP_SECURITY_MODES)}")
    return mode


def send_email(env: Mapping[str, str], to: str, subject: str, text: str, html: str, idempotency_key: str) -> None:
    message = EmailMessage()
    message["From"] = env.get("SMTP_FROM") or "prescreen@localhost"
    message["To"] = to
    message["Subject"] = subject
    # The same Message-ID on every retry lets the site's mail system drop duplicates.
    message["Message-ID"] = f"<{idempotency_key}@prescreen>"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    mode = smtp_security(env)
    context = ssl.create_default_context(cafile=env.get("SMTP_CA_FILE") or None)
    try:
        if mode == "ssl":
            smtp = smtplib.SMTP_SSL(env["SMTP_HOST"], int(env.get("SMTP_PORT") or 465), timeout=20, context=context)
        else:
            smtp = smtplib.SMTP(env["SMTP_HOST"], int(env.get("SMTP_PORT") or 25), timeout=20)
        with smtp:
            smtp.ehlo()
            if mode == "starttls":
                if not smtp.has_extn("starttls"):
                    # Never fall back to clear text: no AUTH, no message.
                    raise DeliveryError("the mail server offers no STARTTLS; nothing was sent (SMTP_SECURITY)")
                smtp.starttls(context=context)
                smtp.ehlo()
            if env.get("SMTP_USER"):
                smtp.login(env["SMTP_USER"], env.get("SMTP_PASSWORD", ""))
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"email not sent: {exc.__class__.__name__}") from exc


LOCAL_SUFFIXES = (".txt", ".html", ".json")


def write_local(folder: str, handoff_id: str, text: str, html: str, payload: dict) -> None:
    """Write the summary files; the same handoff always lands in the same files."""
    directory = Path(folder)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    contents = (text, html, json.dumps(payload, ensure_ascii=False, indent=2))
    for suffix, content in zip(LOCAL_SUFFIXES, contents):
        final = directory / f"{handoff_id}{suffix}"
        partial = directory / f".{handoff_id}{suffix}.partial"
        # 0600 whatever the umask: the files hold a patient's answers and contact details.
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(content)
        os.chmod(partial, 0o600)
        partial.replace(final)  # atomic: a reader never sees half a file


def remove_local(folder: str, handoff_id: str) -> None:
    """Delete a handoff's summary files (the patient withdrew)."""
    for suffix in LOCAL_SUFFIXES:
        for path in (Path(folder) / f"{handoff_id}{suffix}", Path(folder) / f".{handoff_id}{suffix}.partial"):
            path.unlink(missing_ok=True)
