"""A private PostgreSQL server for the tests: Debian's `initdb` / `pg_ctl`, run as the `postgres` user when the tests
run as root, on a free port with its socket in a temporary data directory; stopped at the end.

`TENANTLINT_REQUIRE_POSTGRES=1` (set by .ci/run) turns "cannot start a server" from a skip into a failure.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


class ServerUnavailable(Exception):
    pass


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    if candidates:
        return candidates[0]
    raise ServerUnavailable(f"{name} not found: install PostgreSQL (Debian: apt-get install -y postgresql)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self) -> None:
        self.initdb = _binary("initdb")
        self.pg_ctl = _binary("pg_ctl")
        self.as_postgres = os.geteuid() == 0  # initdb refuses to run as root
        self.folder = Path(tempfile.mkdtemp(prefix="tenantlint-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()

    def _run(self, args: list[str]) -> None:
        cmd = (["runuser", "-u", "postgres", "--"] if self.as_postgres else []) + args
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise ServerUnavailable(f"{' '.join(args[:2])} failed: {(proc.stderr or proc.stdout).strip()[-500:]}")

    def start(self) -> "PostgresServer":
        if self.as_postgres:
            if shutil.which("runuser") is None:
                raise ServerUnavailable("running as root and runuser is missing: cannot start PostgreSQL as postgres")
            shutil.chown(self.folder, "postgres")
        self._run([self.initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
        opts = f"-c listen_addresses='' -c unix_socket_directories='{self.folder}' -c port={self.port} -c fsync=off"
        self._run([self.pg_ctl, "-D", str(self.data), "-o", opts, "-w", "-t", "60", "-l", str(self.folder / "log"), "start"])
        return self

    def stop(self) -> None:
        try:
            self._run([self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop"])
        except ServerUnavailable:
            pass
        shutil.rmtree(self.folder, ignore_errors=True)

    def connect(self):
        import psycopg

        return psycopg.connect(host=str(self.folder), port=self.port, user="postgres", dbname="postgres", autocommit=False)
