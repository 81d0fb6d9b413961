"""A throw-away PostgreSQL server on loopback for tests, from Debian's packages.

`scripts/install-system-packages` installs them where it can. Where the server
cannot be started here, `start_postgres` says why, and the tests that need it are
skipped with that reason (shown by pytest's -rs summary).
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from servers import free_port

USER = "prescreen"


class PostgresUnavailable(Exception):
    pass


def _bin(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)),
                                       None)
    if not found:
        raise PostgresUnavailable(f"PostgreSQL's {name} is not installed (Debian package postgresql)")
    return found


class PostgresServer:
    """initdb into a new folder, start the server on 127.0.0.1 only; stop() stops it and deletes the folder."""

    def __init__(self):
        initdb, self._pg_ctl = _bin("initdb"), _bin("pg_ctl")
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="prescreen-pg-"))
        # PostgreSQL refuses to run as root: as root, run it as the package's own user.
        self._as = []
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise PostgresUnavailable("running as root and there is no 'postgres' user") from exc
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        data = self.folder / "data"
        result = subprocess.run([*self._as, initdb, "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8",
                                 "--no-sync"], capture_output=True, text=True)
        if result.returncode != 0:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise PostgresUnavailable(f"initdb failed: {result.stderr.strip()[-300:]}")
        self._data = data
        try:
            self.resume()
        except PostgresUnavailable:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise
        self._wait()

    def resume(self) -> None:
        """Start (again) on the same port and data."""
        options = f"-h 127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off"
        result = subprocess.run([*self._as, self._pg_ctl, "-D", str(self._data), "-l", str(self.folder / "server.log"),
                                 "-o", options, "-w", "-t", "60", "start"], capture_output=True, text=True)
        if result.returncode != 0:
            log = (self.folder / "server.log").read_text(errors="replace")[-300:]
            raise PostgresUnavailable(f"postgres did not start: {log or result.stderr.strip()[-300:]}")

    def pause(self) -> None:
        """Stop the server but keep its data, as an outage would."""
        subprocess.run([*self._as, self._pg_ctl, "-D", str(self._data), "-m", "fast", "-w", "stop"],
                       capture_output=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg2

        connection = psycopg2.connect(self.url())
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        connection.close()
        return self.url(name)

    def _wait(self, timeout: float = 60) -> None:
        import psycopg2

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                psycopg2.connect(self.url(), connect_timeout=2).close()
                return
            except psycopg2.OperationalError:
                time.sleep(0.3)
        self.stop()
        raise PostgresUnavailable(f"postgres did not accept connections within {timeout}s")

    def stop(self) -> None:
        self.pause()  # "fast" shutdown: open client connections are closed, not waited for
        shutil.rmtree(self.folder, ignore_errors=True)
