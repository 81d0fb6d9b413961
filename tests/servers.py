"""Start the real action server, Rasa server and delivery relay on loopback for a test, and stop them."""
from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "current.tar.gz"
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# How a patient who may fit every study answers: (words in the question, reply).
PATIENT_ANSWERS = [
    ("who is answering", "me"),
    ("which illness", "lupus"),
    ("still active", "yes"),
    ("how old", "thirty-four"),
    ("what sex", "female"),
    ("first tell you", "more than 3 years ago"),
    ("ending your life", "no"),
]


# The same patient, typing Chinese (the questions as a Chinese conversation asks them).
PATIENT_ANSWERS_ZH = [
    ("谁在回答", "我自己"),
    ("哪种疾病", "红斑狼疮"),
    ("仍然活动", "是的"),
    ("多少岁", "三十四岁"),
    ("性别", "女"),
    ("第一次告诉您", "三年多以前"),
    ("结束自己生命", "没有"),
]


def patient_reply(messages: list[dict]) -> str:
    """What that patient types to the last question of a reply: checklists get "none of these";
    a question in Chinese gets the Chinese answer."""
    last = [m for m in messages if m.get("text")][-1]
    text = last["text"].lower()
    chinese = any("\u4e00" <= ch <= "\u9fff" for ch in text)
    if "choice:none" in [b.get("payload") for b in last.get("buttons", [])] or \
            "None of these" in [b["title"] for b in last.get("buttons", [])]:
        return "都没有" if chinese else "none of these"
    answers = PATIENT_ANSWERS_ZH if chinese else PATIENT_ANSWERS
    return next((reply for words, reply in answers if words in text), "没有" if chinese else "no")


def wait_for(condition, timeout: float = 30.0):
    """Poll `condition` until it gives something true (returned) or the time is up (None)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    return None


def query(path, sql: str, *args) -> list:
    """Rows of one SQL query on a test's SQLite database file."""
    import sqlite3

    with sqlite3.connect(path) as db:
        return db.execute(sql, args).fetchall()


def wait_until_up(url: str, process: subprocess.Popen, name: str, timeout: float = 180) -> None:
    """Until `url` answers 2xx; fails at once if the process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited early")
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{name} did not answer within {timeout}s")


class Assistant:
    """The servers, with their own ports, databases, outbox folder and log files.

    `env` adds settings (delivery channels, say) for every process started.
    """

    def __init__(self, workdir: Path, env: dict[str, str] | None = None):
        self.workdir = workdir
        self.rasa_port, self.actions_port = free_port(), free_port()
        self.web_port, self.patient_port = free_port(), free_port()
        # The secrets of this run: the REST channel's token (which `say` sends), the action
        # server's shared secret (which the Rasa server sends), the patient sessions' key.
        self.rest_token, self.action_token = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self.endpoints = workdir / "endpoints.yml"
        self.endpoints.write_text(
            f'action_endpoint:\n  url: "http://127.0.0.1:{self.actions_port}/webhook"\n  enable_selective_domain: true\n'
            '  headers:\n    Authorization: Bearer ${ACTION_SERVER_TOKEN}\n'
            "tracker_store:\n  type: rasa_addons.tracker_store.UrlSQLTrackerStore\n"
        )
        self.env = {
            **os.environ,
            "RASA_TELEMETRY_ENABLED": "false",
            "SANIC_HOST": "127.0.0.1",
            "TRACKER_DB_URL": f"sqlite:///{workdir / 'tracker.db'}",
            "PRESCREEN_DB_URL": f"sqlite:///{workdir / 'prescreen.db'}",
            "PRESCREEN_OUTBOX_DIR": str(workdir / "outbox"),
            "RELAY_POLL_SECONDS": "0.2",
            "WEB_PORT": str(self.web_port),
            "RELAY_IN_WEB": "0",  # tests start the relay themselves (start_relay)
            "PATIENT_PORT": str(self.patient_port),
            "PATIENT_SOCKET_URL": f"http://127.0.0.1:{self.rasa_port}",
            "PATIENT_PAGE_ORIGINS": f"http://127.0.0.1:{self.patient_port}",
            "PYTHONPATH": str(ROOT),
            "REST_CHANNEL_TOKEN": self.rest_token,
            "ACTION_SERVER_TOKEN": self.action_token,
            "PATIENT_SESSION_SECRET": secrets.token_urlsafe(24),
            # The suites send thousands of messages from one address; tests of the limits set their own.
            "RATE_LIMIT_PER_ADDRESS": "1000000",
            "RATE_LIMIT_PER_CONVERSATION": "1000000",
            **(env or {}),
        }
        self.actions = self.rasa = self.relay = self.web = self.patient = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "ab")
        return subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def start_actions(self) -> None:
        self.actions = self._spawn("actions", [sys.executable, "-m", "actions.auth", "--actions", "actions",
                                               "--port", str(self.actions_port)])
        self._wait(f"http://127.0.0.1:{self.actions_port}/health", self.actions, "action server")

    def start_rasa(self) -> None:
        if not MODEL.exists():
            raise RuntimeError(f"{MODEL} is missing: run `make test` (it trains the model first)")
        self.rasa = self._spawn("rasa", [str(VENV_BIN / "rasa"), "run", "--interface", "127.0.0.1",
                                         "--port", str(self.rasa_port), "--model", str(MODEL),
                                         "--endpoints", str(self.endpoints),
                                         "--credentials", str(ROOT / "credentials.yml")])
        self._wait(self.url + "/", self.rasa, "Rasa server")

    def start_relay(self) -> None:
        self.relay = self._spawn("relay", [sys.executable, "-m", "prescreen.referral.relay"])

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def start_web(self) -> None:
        self.web = self._spawn("web", [sys.executable, "-m", "web.app"])
        self._wait(self.web_url + "/staff/login", self.web, "web server")

    @property
    def patient_url(self) -> str:
        return f"http://127.0.0.1:{self.patient_port}"

    def start_patient_page(self) -> None:
        self.patient = self._spawn("patient", [sys.executable, "-m", "web.patient"])
        self._wait(self.patient_url + "/", self.patient, "patient page")

    def accounts(self, *args: str, password: str | None = None) -> str:
        """Run the documented accounts command against this run's database; its output."""
        result = subprocess.run([sys.executable, "-m", "prescreen.staff.accounts", *args], cwd=ROOT, env=self.env,
                                input=password and password + "\n", capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"accounts {' '.join(args)} failed: {result.stderr}")
        return result.stdout.strip()

    def _wait(self, url: str, process: subprocess.Popen, name: str) -> None:
        wait_until_up(url, process, f"{name} (logs in {self.workdir})")

    @staticmethod
    def _stop(process: subprocess.Popen | None) -> None:
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def stop_rasa(self) -> None:
        self._stop(self.rasa)

    def stop_actions(self) -> None:
        self._stop(self.actions)

    def stop(self) -> None:
        for process in (self.rasa, self.actions, self.relay, self.web, self.patient):
            self._stop(process)

    @property
    def rest_headers(self) -> dict[str, str]:
        """What every REST channel request must carry."""
        return {"Authorization": f"Bearer {self.env['REST_CHANNEL_TOKEN']}"}

    def say(self, sender: str, text: str) -> list[dict]:
        response = requests.post(self.url + "/webhooks/rest/webhook", json={"sender": sender, "message": text},
                                 headers=self.rest_headers, timeout=60)
        response.raise_for_status()
        return response.json()


class SocketChat:
    """A patient page's chat connection to Rasa's socketio channel (python-socketio, polling).

    `session` is what the server confirmed (the signed session token); `ask` sends a
    message and returns the replies that came before a short quiet.
    """

    def __init__(self, assistant: "Assistant", session_id: str | None = None, origin: str | None = None,
                 http_session=None):
        import socketio

        self.replies: list[dict] = []
        self.session: str | None = None
        # http_session: a requests.Session (its cookies and certificate checks), e.g. through nginx.
        self.client = socketio.Client(reconnection=False, http_session=http_session)
        self.client.on("bot_uttered", lambda data: self.replies.append(data))
        self.client.on("session_confirm", self._confirmed)
        self.client.connect(assistant.url, headers={"Origin": origin or assistant.patient_url},
                            transports=["polling"], socketio_path="socket.io", wait_timeout=20)
        self.client.emit("session_request", {"session_id": session_id})
        deadline = time.monotonic() + 20
        while self.session is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.session is None:
            raise RuntimeError("no session_confirm from the socketio channel")

    def _confirmed(self, data) -> None:
        self.session = data.get("session_id") if isinstance(data, dict) else data

    @property
    def conversation_id(self) -> str:
        return self.session.split(".")[0]

    def ask(self, text: str, quiet: float = 1.0, timeout: float = 60, **extra) -> list[dict]:
        start = len(self.replies)
        self.client.emit("user_uttered", {"message": text, "session_id": self.session, **extra})
        deadline, last_count, last_change = time.monotonic() + timeout, start, time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.1)
            if len(self.replies) != last_count:
                last_count, last_change = len(self.replies), time.monotonic()
            elif last_count > start and time.monotonic() - last_change >= quiet:
                break
        # Buttons arrive as quick_replies on this channel; patient_reply reads "buttons".
        return [{**m, "buttons": m.get("quick_replies") or m.get("buttons") or []} for m in self.replies[start:]]

    def close(self) -> None:
        """Disconnect; the server hears of it at once, and the polling client's wait for its
        last long poll (up to a ping interval) happens in the background."""
        import threading

        threading.Thread(target=self.client.disconnect, daemon=True).start()
        time.sleep(0.5)
