"""A throwaway PostgreSQL server on loopback for the tests · 测试用的临时 PostgreSQL 服务器.

``server()`` runs ``initdb`` into a fresh folder, starts ``postgres`` on a free port of
127.0.0.1 (its unix socket in that folder, so it never touches /var/run/postgresql or a
cluster the machine already runs), and stops and removes it all afterwards. The tests
need Debian's ``postgresql`` package (or any PostgreSQL on PATH) and ``psycopg2``;
without them they skip, with the reason, except in CI (.ci/run installs both).

Postgres refuses to run as root; as root (CI) the server runs as the ``postgres``
system user that Debian's package creates, in a folder it owns.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

SUPERUSER = "grader"  # the server's superuser role; loopback connections are trusted


def find_bindir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``: PATH, then Debian's versioned folders."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).resolve().parent
    versions = []
    for folder in glob.glob("/usr/lib/postgresql/*/bin"):
        version = Path(folder).parent.name
        if version.isdigit() and (Path(folder) / "pg_ctl").is_file() and (Path(folder) / "initdb").is_file():
            versions.append((int(version), Path(folder)))
    return max(versions)[1] if versions else None


def unavailable() -> str | None:
    """Why a PostgreSQL test server cannot run here (English + Chinese), or None."""
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        return ("psycopg2 is not installed (pip install psycopg2-binary) · "
                "未安装 psycopg2（pip install psycopg2-binary）")
    if find_bindir() is None:
        return ("PostgreSQL server programs (initdb, pg_ctl) not found: apt-get install postgresql · "
                "未找到 PostgreSQL 服务器程序（initdb、pg_ctl）：apt-get install postgresql")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return ("running as root and there is no 'postgres' user to run the server "
                    "(Debian's postgresql package creates it) · 以 root 运行，且没有可运行服务器的 "
                    "postgres 用户（Debian 的 postgresql 包会创建它）")
        if shutil.which("runuser") is None:
            return "running as root and runuser is missing · 以 root 运行，但缺少 runuser"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _connect(port: int, dbname: str):
    import psycopg2

    conn = psycopg2.connect(host="127.0.0.1", port=port, user=SUPERUSER, dbname=dbname)
    conn.autocommit = True
    return conn


class Server:
    """A running server; ``create_database()`` gives the URL of a new, empty database."""

    def __init__(self, port: int):
        self.port = port

    def create_database(self, name: str | None = None) -> str:
        name = name or "gradebook_" + uuid.uuid4().hex[:12]
        conn = _connect(self.port, "postgres")
        try:
            with conn.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()
        return self.url(name)

    def url(self, dbname: str, driver: str = "") -> str:
        """``postgresql://`` as an instructor writes it; ``driver="psycopg2"`` names the
        driver, which plain SQLAlchemy and nbgrader's own tools need (SQLAlchemy 2.1 reads
        a bare ``postgresql://`` as psycopg 3, which the course does not install)."""
        scheme = f"postgresql+{driver}" if driver else "postgresql"
        return f"{scheme}://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"


@contextlib.contextmanager
def server() -> Iterator[Server]:
    """Start a server for the duration of the ``with`` block; skip the test if impossible."""
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    bindir = find_bindir()
    assert bindir is not None
    # not pytest's tmp_path: it is under a 0700 folder the postgres user cannot enter
    root = Path(tempfile.mkdtemp(prefix="nnfs-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data, log = root / "data", root / "server.log"

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*prefix, *args], cwd=root, capture_output=True, text=True)

    started = False
    try:
        done = run(str(bindir / "initdb"), "-D", str(data), "-U", SUPERUSER, "-A", "trust",
                   "-E", "UTF8", "--locale=C", "--no-sync")
        if done.returncode:
            raise RuntimeError(f"initdb failed:\n{done.stdout}\n{done.stderr}")
        for _attempt in range(5):  # a free port can be taken before the server binds it
            port = _free_port()
            options = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
                       "-c full_page_writes=off -c synchronous_commit=off -c max_connections=50")
            done = run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options,
                       "-w", "-t", "60", "start")
            if done.returncode == 0:
                started = True
                break
        if not started:
            text = log.read_text(errors="replace") if log.exists() else ""
            raise RuntimeError(f"postgres did not start:\n{done.stdout}\n{done.stderr}\n{text}")
        yield Server(port)
    finally:
        if started:
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Server]:
    """One server for the test session (import this fixture into a test module)."""
    with server() as running:
        yield running


@pytest.fixture
def postgres_url(postgres: Server) -> str:
    """A new, empty database on the session's server, as a SQLAlchemy URL."""
    return postgres.create_database()
