"""The scaled-out profile on one machine: `make run-cluster` (scripts/run-cluster).

Starts, on loopback only, and stops on Ctrl-C:
  PostgreSQL  both databases (conversations: `tracker`, screenings: `prescreen`), unless
              TRACKER_DB_URL and PRESCREEN_DB_URL name existing ones
  Redis       the shared lock store of the Rasa servers (rasa_addons/lock_store.py),
              unless LOCK_STORE_URL names an existing one
  M action servers   (CLUSTER_ACTION_SERVERS, default 2), behind nginx's loopback balancer
  N Rasa servers     (CLUSTER_RASA_SERVERS, default 2), sharing PostgreSQL and Redis
  the web process    (staff pages, API, delivery relay, retention) and the patient page
  nginx              the only exposed addresses: TLS with a self-signed certificate made
                     at start-up, https://127.0.0.1:8443 (patient page, socketio; the
                     REST channel only with CLUSTER_REST_THROUGH_NGINX=1)
                     and https://127.0.0.1:8444 (staff pages, API); CLUSTER_HTTPS_PORT,
                     CLUSTER_STAFF_PORT, CLUSTER_LISTEN_HOST change them.
A Rasa or action server that dies is started again (the others carry its conversations
meanwhile). Each server is a process of its own, as it would be on its own machine:
README.md, "Several servers", says what is shared and what is per machine.

The same class starts the cluster for tests/test_cluster.py and bench/load.py --cluster.
"""
from __future__ import annotations

import argparse
import glob
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Optional

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "current.tar.gz"
PYTHON = Path(sys.executable)
VENV_BIN = PYTHON.parent
TEMPLATE = Path(__file__).resolve().parent / "nginx.conf.template"

# Limits per client address at nginx; each is an nginx rate ("20r/s", "30r/m") and a burst.
DEFAULT_LIMITS = {
    "CHAT_RATE": "20r/s", "CHAT_BURST": "100",    # socketio polls and messages, REST messages
    "PAGE_RATE": "10r/s", "PAGE_BURST": "50",     # the patient page and its files
    "STAFF_RATE": "20r/s", "STAFF_BURST": "100",  # staff pages and the API
    "LOGIN_RATE": "30r/m", "LOGIN_BURST": "10",   # staff sign-in (the web process throttles failures too)
    "CONNS_PER_ADDRESS": "200",                   # open connections
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check: Callable[[], bool], process: Optional[subprocess.Popen], name: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{name} exited early (code {process.returncode})")
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{name} did not come up within {timeout:.0f}s")


def http_ok(url: str) -> bool:
    import urllib.request

    with urllib.request.urlopen(url, timeout=2) as reply:
        return 200 <= reply.status < 300


def port_open(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=1):
        return True


def _debian_bin(name: str, folder_glob: str = "") -> str:
    found = next(iter(sorted(glob.glob(folder_glob), reverse=True)), None) if folder_glob else None
    found = found or shutil.which(name) or (f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}") else None)
    if not found:
        raise MissingPackage(f"{name} is not installed (scripts/install-system-packages installs it)")
    return found


class MissingPackage(RuntimeError):
    pass


class Cluster:
    """Every process of the scaled-out profile, each with its own port and log file.

    `workdir` holds the logs, the generated configuration, the TLS certificate and
    (when this class starts them) Redis's and PostgreSQL's files. `env` adds settings
    for every process. Databases: `tracker_db_url` / `prescreen_db_url`, or a
    PostgreSQL server of its own (start_postgres).
    """

    def __init__(self, workdir: Path, rasa_servers: int = 2, action_servers: int = 2,
                 env: Optional[dict] = None, https_port: Optional[int] = None, staff_port: Optional[int] = None,
                 listen_host: str = "127.0.0.1", limits: Optional[dict] = None, rest_through_nginx: bool = False):
        self.workdir = Path(workdir)
        for folder in ("logs", "run", "tls"):
            (self.workdir / folder).mkdir(parents=True, exist_ok=True, mode=0o700)
        self.n_rasa, self.n_actions = rasa_servers, action_servers
        self.listen_host = listen_host
        taken: set = {p for p in (https_port, staff_port) if p}

        def port() -> int:  # a free loopback port, none given twice (nor the exposed ones)
            while True:
                candidate = free_port()
                if candidate not in taken:
                    taken.add(candidate)
                    return candidate

        self._port = port
        self.https_port, self.staff_port = https_port or port(), staff_port or port()
        self.actions_lb_port, self.web_port, self.patient_port = port(), port(), port()
        self.rasa_ports = [port() for _ in range(rasa_servers)]
        self.active_rasa = rasa_servers  # how many of them nginx sends messages to (use_rasa_servers)
        self.action_ports = [port() for _ in range(action_servers)]
        self.limits = {**DEFAULT_LIMITS, **(limits or {})}
        # The REST channel is for tests and local integrations (README, Security): nginx
        # answers 404 for it unless asked to pass it on (the tests and the benchmark do).
        self.rest_through_nginx = rest_through_nginx
        self.rasa: list[Optional[subprocess.Popen]] = [None] * rasa_servers
        self.actions: list[Optional[subprocess.Popen]] = [None] * action_servers
        self.redis = self.nginx = self.web = self.patient = None
        self._postgres_data: Optional[Path] = None
        self._postgres_temp: Optional[Path] = None
        self._as_postgres: list[str] = []
        self.redis_port: Optional[int] = None
        base = {k: v for k, v in os.environ.items()}
        base.update(env or {})
        self.env = {
            **base,
            "RASA_TELEMETRY_ENABLED": "false",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONPATH": str(ROOT),
            "SANIC_HOST": "127.0.0.1",
            "ACTION_SERVER_TOKEN": base.get("ACTION_SERVER_TOKEN") or secrets.token_urlsafe(32),
            "PATIENT_SESSION_SECRET": base.get("PATIENT_SESSION_SECRET") or secrets.token_urlsafe(32),
            "REDIS_PASSWORD": base.get("REDIS_PASSWORD") or secrets.token_urlsafe(32),
            # Every Rasa server must take its tickets from the shared Redis (lock_store.py).
            "SHARED_LOCKS_REQUIRED": "1",
            "WEB_PORT": str(self.web_port),
            "PATIENT_PORT": str(self.patient_port),
            "PATIENT_SOCKET_URL": self.url,
            "PATIENT_PAGE_ORIGINS": self.url,
            "PATIENT_HTTPS": "1",
            "STAFF_SECURE_COOKIES": "1",
            "STAFF_HTTPS": "1",
            # nginx limits each client address; behind it every Rasa server sees nginx's
            # address only, so its own per-address limit would count all patients at once.
            "RATE_LIMIT_PER_ADDRESS": base.get("RATE_LIMIT_PER_ADDRESS") or "0",
        }

    # Addresses ------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The patient address (nginx, https)."""
        return f"https://{self.listen_host}:{self.https_port}"

    @property
    def staff_url(self) -> str:
        return f"https://{self.listen_host}:{self.staff_port}"

    @property
    def certificate(self) -> Path:
        return self.workdir / "tls" / "cert.pem"

    def rasa_url(self, i: int) -> str:
        """One Rasa server directly (loopback, plain http): for tests and health checks."""
        return f"http://127.0.0.1:{self.rasa_ports[i]}"

    def _spawn(self, name: str, args: list, env: Optional[dict] = None) -> subprocess.Popen:
        log = open(self.workdir / "logs" / f"{name}.log", "ab")
        return subprocess.Popen(args, cwd=ROOT, env={**self.env, **(env or {})}, stdout=log,
                                stderr=subprocess.STDOUT, preexec_fn=lambda: os.umask(0o077))

    # PostgreSQL (Debian's) ----------------------------------------------------------------
    def start_postgres(self, data_dir: Optional[Path] = None) -> None:
        """initdb (once) and start a PostgreSQL server on 127.0.0.1 with both databases;
        sets TRACKER_DB_URL and PRESCREEN_DB_URL. As root it runs as the `postgres` user,
        with its data in a folder of that user's (PostgreSQL refuses to run as root)."""
        initdb = _debian_bin("initdb", "/usr/lib/postgresql/*/bin/initdb")
        pg_ctl = _debian_bin("pg_ctl", "/usr/lib/postgresql/*/bin/pg_ctl")
        if data_dir is None and os.geteuid() == 0:
            # The work folder is root's (0700): the postgres user gets a folder of its own.
            holder = Path(tempfile.mkdtemp(prefix="prescreen-cluster-pg-"))
            self._postgres_temp = holder
            data_dir = holder / "data"
        data = Path(data_dir or self.workdir / "postgres")
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            self._as_postgres = ["runuser", "-u", "postgres", "--"]
            data.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(data.parent, 0o711)  # postgres may pass through, not list
            data.mkdir(exist_ok=True, mode=0o700)
            os.chown(data, owner.pw_uid, owner.pw_gid)
        if not (data / "PG_VERSION").exists():
            subprocess.run([*self._as_postgres, initdb, "-D", str(data), "-U", "prescreen", "--auth=trust", "-E",
                            "UTF8"], check=True, capture_output=True)
        self._postgres_data, self.postgres_port = data, self._port()
        socket_dir = data  # the server's unix socket stays in its own folder
        subprocess.run([*self._as_postgres, pg_ctl, "-D", str(data), "-l", str(data / "server.log"), "-o",
                        f"-h 127.0.0.1 -p {self.postgres_port} -k {socket_dir}", "-w", "-t", "60", "start"],
                       check=True, capture_output=True)
        base = f"postgresql://prescreen@127.0.0.1:{self.postgres_port}"
        import psycopg2

        connection = psycopg2.connect(base + "/postgres")
        connection.autocommit = True
        with connection.cursor() as cursor:
            for name in ("tracker", "prescreen"):
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                if cursor.fetchone() is None:
                    cursor.execute(f'CREATE DATABASE "{name}"')
        connection.close()
        self.env["TRACKER_DB_URL"], self.env["PRESCREEN_DB_URL"] = base + "/tracker", base + "/prescreen"

    def stop_postgres(self) -> None:
        if self._postgres_data is not None:
            pg_ctl = _debian_bin("pg_ctl", "/usr/lib/postgresql/*/bin/pg_ctl")
            subprocess.run([*self._as_postgres, pg_ctl, "-D", str(self._postgres_data), "-m", "fast", "-w", "stop"],
                           capture_output=True)
            self._postgres_data = None
        if self._postgres_temp is not None:
            shutil.rmtree(self._postgres_temp, ignore_errors=True)
            self._postgres_temp = None

    def migrate(self) -> None:
        """Create or migrate the screenings database, as `make run` does."""
        subprocess.run([str(PYTHON), "-m", "prescreen.storage"], cwd=ROOT, env=self.env, check=True,
                       capture_output=True)

    # Redis (Debian's redis-server) ----------------------------------------------------------
    def start_redis(self) -> None:
        if self.redis_port is None:
            self.redis_port = self._port()
        folder = self.workdir / "redis"
        folder.mkdir(exist_ok=True, mode=0o700)
        config = folder / "redis.conf"
        # Locks only: nothing to persist. The password keeps other local users out.
        config.write_text(f"bind 127.0.0.1\nport {self.redis_port}\nprotected-mode yes\n"
                          f"requirepass {self.env['REDIS_PASSWORD']}\nsave \"\"\nappendonly no\n"
                          f"dir {folder}\ndaemonize no\nmaxmemory 64mb\nmaxmemory-policy noeviction\n")
        config.chmod(0o600)
        self.redis = self._spawn("redis", [_debian_bin("redis-server"), str(config)])
        self.env["LOCK_STORE_URL"] = f"redis://:{self.env['REDIS_PASSWORD']}@127.0.0.1:{self.redis_port}/0"
        wait_for(lambda: port_open(self.redis_port), self.redis, "Redis", 30)

    def stop_redis(self) -> None:
        self._stop(self.redis)

    # The application's processes -------------------------------------------------------------
    def write_endpoints(self) -> Path:
        path = self.workdir / "endpoints.yml"
        path.write_text(
            "# Made by deploy/cluster.py: the same on every Rasa server.\n"
            f'action_endpoint:\n  url: "http://127.0.0.1:{self.actions_lb_port}/webhook"\n'
            "  headers:\n    Authorization: Bearer ${ACTION_SERVER_TOKEN}\n  enable_selective_domain: true\n"
            "tracker_store:\n  type: rasa_addons.tracker_store.UrlSQLTrackerStore\n"
            "lock_store:\n  type: rasa_addons.lock_store.SharedRedisLockStore\n")
        return path

    def start_actions(self, i: int, wait: bool = True) -> None:
        self.actions[i] = self._spawn(f"actions-{i}", [str(PYTHON), "-m", "actions.auth", "--actions", "actions",
                                                      "--port", str(self.action_ports[i])])
        if wait:
            self.wait_actions(i)

    def wait_actions(self, i: int) -> None:
        wait_for(lambda: http_ok(f"http://127.0.0.1:{self.action_ports[i]}/health"), self.actions[i],
                 f"action server {i} (log: {self.workdir}/logs)", 120)

    def start_rasa(self, i: int, wait: bool = True) -> None:
        if not MODEL.exists():
            raise RuntimeError(f"{MODEL} is missing: `make test` or `make run` trains it")
        self.rasa[i] = self._spawn(f"rasa-{i}", [str(VENV_BIN / "rasa"), "run", "--interface", "127.0.0.1",
                                                "--port", str(self.rasa_ports[i]), "--model", str(MODEL),
                                                "--endpoints", str(self.workdir / "endpoints.yml"),
                                                "--credentials", str(ROOT / "credentials.yml")])
        if wait:
            self.wait_rasa(i)

    def wait_rasa(self, i: int) -> None:
        wait_for(lambda: http_ok(self.rasa_url(i) + "/webhooks/rest/"), self.rasa[i],
                 f"Rasa server {i} (log: {self.workdir}/logs)", 300)

    def start_web(self) -> None:
        self.web = self._spawn("web", [str(PYTHON), "-m", "web.app"])
        wait_for(lambda: http_ok(f"http://127.0.0.1:{self.web_port}/staff/login"), self.web, "web process", 120)

    def start_patient_page(self) -> None:
        self.patient = self._spawn("patient", [str(PYTHON), "-m", "web.patient"])
        wait_for(lambda: http_ok(f"http://127.0.0.1:{self.patient_port}/"), self.patient, "patient page", 120)

    # nginx ---------------------------------------------------------------------------------
    def make_certificate(self) -> None:
        """A self-signed certificate for this start (openssl), for 127.0.0.1 and localhost."""
        tls = self.workdir / "tls"
        names = f"IP:127.0.0.1,DNS:localhost" + (f",IP:{self.listen_host}" if self.listen_host != "127.0.0.1"
                                                   and re.match(r"^[\d.]+$", self.listen_host) else "")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-days", "30", "-subj", "/CN=prescreen cluster (self-signed)",
                        "-addext", f"subjectAltName={names}",
                        "-keyout", str(tls / "key.pem"), "-out", str(tls / "cert.pem")],
                       check=True, capture_output=True)
        (tls / "key.pem").chmod(0o600)

    def nginx_config(self) -> str:
        servers = lambda ports: "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;"
                                          for p in ports)  # noqa: E731
        values = {
            **self.limits,
            "USER_LINE": "user nobody nogroup;" if os.geteuid() == 0 else "",
            "REST_ACCESS": "" if self.rest_through_nginx else "return 404;  # CLUSTER_REST_THROUGH_NGINX=1 opens it",
            "WORKERS": "1",
            "RUN": str(self.workdir / "run"), "LOGS": str(self.workdir / "logs"), "TLS": str(self.workdir / "tls"),
            "LISTEN_HOST": self.listen_host, "HTTPS_PORT": str(self.https_port), "STAFF_PORT": str(self.staff_port),
            "ACTIONS_LB_PORT": str(self.actions_lb_port), "WEB_PORT": str(self.web_port),
            "PATIENT_PORT": str(self.patient_port),
            "RASA_SERVERS": servers(self.rasa_ports[:self.active_rasa]), "ACTION_SERVERS": servers(self.action_ports),
        }
        missing = sorted(set(re.findall(r"\$\{([A-Z_]+)\}", TEMPLATE.read_text())) - set(values))
        if missing:
            raise RuntimeError(f"nginx template settings without a value: {missing}")
        return re.sub(r"\$\{([A-Z_]+)\}", lambda m: values[m.group(1)], TEMPLATE.read_text())

    def start_nginx(self) -> None:
        nginx = _debian_bin("nginx")
        self.make_certificate()
        config = self.workdir / "nginx.conf"
        config.write_text(self.nginx_config())
        args = [nginx, "-p", str(self.workdir), "-c", str(config), "-e", str(self.workdir / "logs" / "nginx-error.log")]
        check = subprocess.run([*args, "-t"], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"nginx refused its configuration: {check.stderr.strip()[-500:]}")
        pid_file = self.workdir / "run" / "nginx.pid"
        pid_file.unlink(missing_ok=True)
        self.nginx = self._spawn("nginx", [*args, "-g", "daemon off;"])
        # nginx writes its pid file once it holds every address it listens on.
        wait_for(lambda: pid_file.exists() and port_open(self.https_port) and port_open(self.staff_port),
                 self.nginx, f"nginx (log: {self.workdir}/logs/nginx-error.log)", 30)

    def use_rasa_servers(self, count: int) -> None:
        """nginx sends messages to the first `count` Rasa servers only (the others keep
        running, idle): a configuration reload, no restart. For the benchmark."""
        self.active_rasa = count
        (self.workdir / "nginx.conf").write_text(self.nginx_config())
        self.nginx.send_signal(signal.SIGHUP)
        time.sleep(2)  # new workers take over; old ones finish what they hold
        if self.nginx.poll() is not None:
            raise RuntimeError("nginx stopped on reload (see its error log)")

    # All of it ------------------------------------------------------------------------------------
    def start(self, postgres: bool = True) -> None:
        """Everything, in order; `postgres=False` when TRACKER_DB_URL and PRESCREEN_DB_URL are given."""
        try:
            if postgres:
                self.start_postgres()
            self.migrate()
            if not self.env.get("LOCK_STORE_URL"):
                self.start_redis()
            self.write_endpoints()
            for i in range(self.n_actions):
                self.start_actions(i, wait=False)
            for i in range(self.n_rasa):
                self.start_rasa(i, wait=False)  # the model loads in parallel
            self.start_nginx()
            self.start_web()
            self.start_patient_page()
            for i in range(self.n_actions):
                self.wait_actions(i)
            for i in range(self.n_rasa):
                self.wait_rasa(i)
        except BaseException:
            self.stop()
            raise

    @staticmethod
    def _stop(process: Optional[subprocess.Popen], kill: bool = False) -> None:
        if process is not None and process.poll() is None:
            process.kill() if kill else process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def stop_rasa(self, i: int, kill: bool = False) -> None:
        self._stop(self.rasa[i], kill)

    def stop_actions(self, i: int, kill: bool = False) -> None:
        self._stop(self.actions[i], kill)

    def processes(self) -> dict:
        named = {f"rasa-{i}": p for i, p in enumerate(self.rasa)}
        named.update({f"actions-{i}": p for i, p in enumerate(self.actions)})
        named.update({"web": self.web, "patient": self.patient, "nginx": self.nginx, "redis": self.redis})
        return {name: p for name, p in named.items() if p is not None}

    def stop(self) -> None:
        for process in [self.nginx, *self.rasa, *self.actions, self.web, self.patient, self.redis]:
            self._stop(process)
        self.stop_postgres()


def _load_secrets(path: Path) -> None:
    """Like scripts/run-assistant: made once, kept 0600; a value in the environment wins."""
    if not path.exists():
        path.write_text("".join(f"{name}={secrets.token_urlsafe(32)}\n"
                                for name in ("ACTION_SERVER_TOKEN", "PATIENT_SESSION_SECRET", "REDIS_PASSWORD")))
        path.chmod(0o600)
    for line in path.read_text().splitlines():
        name, _, value = line.partition("=")
        if name and not os.environ.get(name):
            os.environ[name] = value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rasa-servers", type=int, default=int(os.environ.get("CLUSTER_RASA_SERVERS", 2)))
    parser.add_argument("--action-servers", type=int, default=int(os.environ.get("CLUSTER_ACTION_SERVERS", 2)))
    args = parser.parse_args()
    os.umask(0o077)
    var = Path(os.environ.get("PRESCREEN_VAR_DIR") or ROOT / "var")
    workdir = var / "cluster"
    workdir.mkdir(parents=True, exist_ok=True, mode=0o700)
    _load_secrets(var / "cluster-secrets.env")
    external_db = bool(os.environ.get("TRACKER_DB_URL") and os.environ.get("PRESCREEN_DB_URL"))
    limits = {key: os.environ[f"CLUSTER_{key}"] for key in DEFAULT_LIMITS if os.environ.get(f"CLUSTER_{key}")}
    cluster = Cluster(workdir, args.rasa_servers, args.action_servers,
                      https_port=int(os.environ.get("CLUSTER_HTTPS_PORT", 8443)),
                      staff_port=int(os.environ.get("CLUSTER_STAFF_PORT", 8444)),
                      listen_host=os.environ.get("CLUSTER_LISTEN_HOST", "127.0.0.1"), limits=limits,
                      rest_through_nginx=os.environ.get("CLUSTER_REST_THROUGH_NGINX") == "1")
    # As root, PostgreSQL's files go where its own user may reach them (var/ is root's, 0700).
    pg_dir = Path(os.environ.get("CLUSTER_PG_DIR") or ("/var/lib/prescreen-cluster/postgres" if os.geteuid() == 0
                                                      else workdir / "postgres"))
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    print(f"Starting {args.rasa_servers} Rasa and {args.action_servers} action servers (logs: {workdir}/logs) ...",
          flush=True)
    try:
        if not external_db:
            cluster.start_postgres(pg_dir)
        cluster.start(postgres=False)
    except (RuntimeError, subprocess.CalledProcessError, MissingPackage) as error:
        print(f"The cluster did not start: {error}", file=sys.stderr)
        return 1
    print(f"\nPatient page:  {cluster.url}/   (self-signed certificate: {cluster.certificate})")
    print(f"Staff pages:   {cluster.staff_url}/staff/")
    print(f"Rasa servers:  {', '.join(cluster.rasa_url(i) for i in range(cluster.n_rasa))} (loopback)")
    print(f"Action servers behind http://127.0.0.1:{cluster.actions_lb_port} (loopback)")
    print("Press Ctrl-C to stop.", flush=True)
    try:
        while not stopping.wait(2):
            # A server that died is started again; meanwhile nginx sends its work to the others.
            for i, process in enumerate(cluster.rasa):
                if process is not None and process.poll() is not None:
                    print(f"Rasa server {i} stopped (code {process.returncode}); starting it again", flush=True)
                    cluster.start_rasa(i, wait=False)
            for i, process in enumerate(cluster.actions):
                if process is not None and process.poll() is not None:
                    print(f"Action server {i} stopped (code {process.returncode}); starting it again", flush=True)
                    cluster.start_actions(i, wait=False)
            for name in ("nginx", "web", "patient", "redis"):
                process = getattr(cluster, name)
                if process is not None and process.poll() is not None:
                    print(f"{name} stopped (code {process.returncode}): stopping the cluster", file=sys.stderr)
                    return 1
    finally:
        print("Stopping...", flush=True)
        cluster.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
