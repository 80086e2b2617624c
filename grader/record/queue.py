"""Workers on any number of machines claim a class's submissions from one gradebook · 认领评分任务.

With a PostgreSQL ``--db-url``, the class is a pool of work in a table of our own next to
nbgrader's, ``nnfs_claim``: one row per (student, assignment, fingerprint), the
fingerprint being everything the result depends on (:func:`grader.record.batch.fingerprint`).
Every worker collects the same SOURCE, so every worker computes the same keys; it
*registers* them (an insert that adds only the rows nobody added yet), then *claims* them
one at a time::

    todo ──claim──▶ claimed (worker, token, lease) ──complete──▶ done (result)
      ▲                 │  lease ran out (a dead or stalled worker)
      └──── release ────┘  (a stopped worker, a failed write)

* **Claiming** is ``SELECT … FOR UPDATE SKIP LOCKED``: two workers never take one row, and
  neither waits for the other. A claim carries a random token and a lease on the server's
  clock (no two machines need agree on the time).
* **Renewing**: a worker extends the lease of what it is grading every quarter of a lease;
  a slow worker only slows itself. A worker that is killed, or stops (SIGSTOP, a frozen
  node), stops renewing, and its claims return to the pool when their lease runs out.
* **Completing** is done only when the result is recorded: the claim's row is locked, the
  token checked (a worker whose lease ran out and whose claim was taken over records
  nothing: its result is dropped), the gradebook rows written, and the row set to done
  with the result, in that order, before anything else (feedback, the local result file).
  A worker that dies in between leaves the row claimed: its lease runs out and someone
  grades it again, recording the same rows (nbgrader's rows are one per submission).
* A claim taken :data:`MAX_ATTEMPTS` times without being completed (every worker that
  took it died) is recorded as the grader's failure, with the reason, instead of killing
  worker after worker.

The server ends a session that sits in a transaction for longer than a lease (a worker
stopped while it held a row), so no stopped worker can hold a row for ever. Results are
kept in the row (compressed JSON), so whoever writes the class's outputs has every
result even when each machine has its own ``--out``.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import time
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass

from grader.checks import messages as M
from grader.record.results import SubmissionResult
from grader.record.store import result_from_dict

__all__ = ["Claim", "Claims", "Key", "LEASE_SECONDS", "MAX_ATTEMPTS", "is_postgres"]

#: Default lease: a claim not renewed for this long returns to the pool.
LEASE_SECONDS = 60.0
#: A submission claimed this many times without being recorded is recorded as an error.
MAX_ATTEMPTS = 3
# pg_advisory_lock key for creating our tables ("nnfsq" in ASCII); the gradebook's own
# lock (grader.record.gradebook) is another key, never held at the same time
_SCHEMA_LOCK = 0x6E_6E66_7371

Key = tuple[str, str, str]  # (student, assignment, fingerprint)

M.register(
    {
        "queue_other_settings": (
            "This worker grades with other settings than {worker}, which started this run "
            "({run}): every machine needs the same course (solutions/, grading.toml), the same "
            "grader, the same course secret and a working sandbox. Nothing was graded.",
            "本进程的评分设置与启动本次运行（{run}）的 {worker} 不同：每台机器都需要同一份课程"
            "（solutions/、grading.toml）、同一版评分程序、同一个课程密钥，以及可用的沙箱。"
            "没有评任何提交。",
        ),
    }
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS nnfs_claim (
    student      TEXT NOT NULL,
    assignment   TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    state        TEXT NOT NULL DEFAULT 'todo'
                 CHECK (state IN ('todo', 'claimed', 'done', 'failed')),
    worker       TEXT,
    token        TEXT,
    lease_until  TIMESTAMPTZ,
    attempts     INTEGER NOT NULL DEFAULT 0,
    completions  INTEGER NOT NULL DEFAULT 0,
    forced_by    TEXT,
    priority     INTEGER NOT NULL DEFAULT 0,
    registered   TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    claimed_at   TIMESTAMPTZ,
    done_at      TIMESTAMPTZ,
    seconds      DOUBLE PRECISION,
    result       BYTEA,
    PRIMARY KEY (student, assignment, fingerprint)
);
ALTER TABLE nnfs_claim ADD COLUMN IF NOT EXISTS priority INTEGER NOT NULL DEFAULT 0;
DROP INDEX IF EXISTS nnfs_claim_open;
CREATE INDEX IF NOT EXISTS nnfs_claim_queue ON nnfs_claim (priority, student, assignment,
    fingerprint) WHERE state IN ('todo', 'claimed');
CREATE INDEX IF NOT EXISTS nnfs_claim_token ON nnfs_claim (token) WHERE state = 'claimed';
CREATE TABLE IF NOT EXISTS nnfs_run (
    run          TEXT PRIMARY KEY,
    settings     TEXT NOT NULL,
    worker       TEXT NOT NULL,
    started      TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE IF NOT EXISTS nnfs_meta (
    key          TEXT PRIMARY KEY,
    value        TEXT NOT NULL
);
"""

_OPEN = "(c.state = 'todo' OR (c.state = 'claimed' AND c.lease_until < clock_timestamp()))"
# this worker's key? A scalar subquery, which PostgreSQL does not turn into a join: the claim
# then walks the open rows in priority order and stops at the first of ours (an EXISTS here
# becomes a hash join over every open row, then a sort: 30 ms a claim at 12,000 keys)
_MINE = ("(SELECT true FROM nnfs_mine m WHERE (m.student, m.assignment, m.fingerprint) = "
         "(c.student, c.assignment, c.fingerprint)) IS NOT NULL")


def is_postgres(db_url: str) -> bool:
    from sqlalchemy.engine import make_url

    try:
        return make_url(db_url).get_backend_name() == "postgresql"
    except Exception:  # not a URL at all: the gradebook says so when it is opened
        return False


def driver_url(db_url: str) -> str:
    """A bare ``postgresql://`` is psycopg 3 to SQLAlchemy 2.1; the course installs psycopg2."""
    import importlib.util

    from sqlalchemy.engine import make_url

    url = make_url(db_url)
    if url.drivername == "postgresql" and importlib.util.find_spec("psycopg") is None:
        url = url.set(drivername="postgresql+psycopg2")
    return url.render_as_string(hide_password=False)


def pack(result: SubmissionResult) -> bytes:
    # ensure_ascii: a lone surrogate (an undecodable byte in a name) travels as its escape
    return zlib.compress(json.dumps(asdict(result), ensure_ascii=True).encode("ascii"), 6)


def unpack(data: bytes) -> SubmissionResult:
    return result_from_dict(json.loads(zlib.decompress(bytes(data)).decode("ascii")))


@dataclass
class Claim:
    key: Key
    token: str
    attempts: int  # this claim included
    previous: str | None  # the worker whose lease ran out, when taken over
    started: float = 0.0  # time.monotonic() when claimed

    @property
    def student(self) -> str:
        return self.key[0]

    @property
    def assignment(self) -> str:
        return self.key[1]


@dataclass
class Pending:
    claimable: int  # todo, or claimed with a lease that ran out
    held: int  # claimed by a worker whose lease still runs (this one included)


class Claims:
    """One worker's connection to the pool (see the module docstring).

    ``worker`` names the worker in the table (``task-2-of-4@node7:1234``); ``lease`` is in
    seconds. Only the keys :meth:`register` was given are ever claimed by this worker.
    """

    def __init__(self, db_url: str, worker: str, lease: float = LEASE_SECONDS):
        self.url, self.worker, self.lease = driver_url(db_url), worker, float(lease)
        self.mine: list[Key] = []
        self._engine = None
        self._conn = None
        self.connect()
        with self._schema_lock():
            self._committed(lambda: [self._run(statement) for statement in _SCHEMA.split(";")
                                     if statement.strip()])

    # -------------------------------------------------------------- connection

    def connect(self) -> None:
        """(Re)open the connection; the temporary table of this worker's keys is rebuilt."""
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        self.close()
        self._engine = create_engine(self.url, poolclass=NullPool)
        self._conn = self._engine.connect()
        # a worker stopped inside a transaction (holding a row) is ended by the server
        timeout = max(1000, int(self.lease * 1000))
        self._run(f"SET idle_in_transaction_session_timeout = {timeout}")
        self._run("SELECT set_config('application_name', :name, false)",
                  name=f"nnfs-grader {self.worker}"[:63])
        if self.mine:
            self._fill_mine()
        self._conn.commit()

    def close(self) -> None:
        """Close the connection (before forking worker processes: they must not share it)."""
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
        if self._engine is not None:
            self._engine.dispose()
        self._conn = self._engine = None

    def _run(self, sql: str, **params):
        from sqlalchemy import text

        return self._conn.execute(text(sql), params)

    def _committed(self, work):
        """``work()`` in one transaction of its own: committed, or rolled back if it raises."""
        try:
            value = work()
        except BaseException:
            with contextlib.suppress(Exception):
                self._conn.rollback()
            raise
        self._conn.commit()
        return value

    def _retrying(self, work):
        """``work()`` in a transaction; after a lost connection (a server restart, a session
        the server ended), reconnect once and run it again."""
        from sqlalchemy.exc import DBAPIError

        try:
            return self._committed(work)
        except DBAPIError as exc:
            if not exc.connection_invalidated and not _is_disconnect(exc):
                raise
            self.connect()
            return self._committed(work)

    @contextlib.contextmanager
    def _schema_lock(self) -> Iterator[None]:
        # session-level: held across the commits inside, released by the unlock or, if this
        # process dies, by the server when the connection drops
        self._committed(lambda: self._run("SELECT pg_advisory_lock(:key)", key=_SCHEMA_LOCK))
        try:
            yield
        finally:
            self._committed(lambda: self._run("SELECT pg_advisory_unlock(:key)",
                                              key=_SCHEMA_LOCK))

    # ---------------------------------------------------------------- the class

    def gradebook_id(self) -> str:
        """A random id made once per database: what a fingerprint says about the gradebook
        (its URL differs between machines; the database does not)."""
        def work():
            self._run("INSERT INTO nnfs_meta (key, value) VALUES ('gradebook', :v) "
                      "ON CONFLICT (key) DO NOTHING", v=uuid.uuid4().hex)
            return self._run("SELECT value FROM nnfs_meta WHERE key = 'gradebook'").scalar_one()
        return self._retrying(work)

    def join_run(self, run: str, settings: str) -> None:
        """Refuse to work on a run (a Slurm array, an Indexed Job …) that was started with
        other settings: a machine with another secret or no sandbox would grade the class
        again, differently, under other fingerprints."""
        def work():
            self._run("INSERT INTO nnfs_run (run, settings, worker) VALUES (:r, :s, :w) "
                      "ON CONFLICT (run) DO NOTHING", r=run, s=settings, w=self.worker)
            return self._run("SELECT settings, worker FROM nnfs_run WHERE run = :r",
                             r=run).one()
        found, first = self._retrying(work)
        if found != settings:
            raise RuntimeError(M.bilingual("queue_other_settings", worker=first, run=run))

    def register(self, keys: list[Key], priorities: list[int] | None = None) -> None:
        """Add the keys nobody added yet; remember these as the ones this worker may claim.
        Lower ``priorities`` are claimed first (the costliest notebooks, so that the class
        does not end waiting for one long notebook); the first worker to add a key sets it."""
        self.mine = list(dict.fromkeys(keys))
        order = dict(zip(keys, priorities or [0] * len(keys)))
        self._retrying(self._fill_mine)
        self._retrying(lambda: self._run(
            "INSERT INTO nnfs_claim (student, assignment, fingerprint, priority) "
            "SELECT * FROM unnest(CAST(:s AS TEXT[]), CAST(:a AS TEXT[]), CAST(:f AS TEXT[]), "
            "CAST(:p AS INTEGER[])) ON CONFLICT DO NOTHING",
            s=[k[0] for k in self.mine], a=[k[1] for k in self.mine],
            f=[k[2] for k in self.mine], p=[order[k] for k in self.mine]))

    def _fill_mine(self) -> None:
        self._run("DROP TABLE IF EXISTS nnfs_mine")
        self._run("CREATE TEMPORARY TABLE nnfs_mine (student TEXT, assignment TEXT, "
                  "fingerprint TEXT, PRIMARY KEY (student, assignment, fingerprint))")
        if self.mine:
            self._run("INSERT INTO nnfs_mine SELECT * FROM unnest(CAST(:s AS TEXT[]), "
                      "CAST(:a AS TEXT[]), CAST(:f AS TEXT[]))",
                      s=[k[0] for k in self.mine], a=[k[1] for k in self.mine],
                      f=[k[2] for k in self.mine])
        self._run("ANALYZE nnfs_mine")

    def reset(self, run: str | None) -> int:
        """``--force``: this worker's done keys are to be graded again, once per run: the
        first worker of a run resets them, the others of the same run find them reset
        (``run`` None: every call resets)."""
        mark = run or "once:" + uuid.uuid4().hex
        return self._retrying(lambda: self._run(
            "UPDATE nnfs_claim c SET state = 'todo', worker = NULL, token = NULL, "
            "lease_until = NULL, attempts = 0, forced_by = :run FROM nnfs_mine m "
            "WHERE (c.student, c.assignment, c.fingerprint) = (m.student, m.assignment, "
            "m.fingerprint) AND c.state IN ('done', 'failed') "
            "AND c.forced_by IS DISTINCT FROM :run", run=mark).rowcount)

    def results(self, keys: list[Key]) -> dict[Key, SubmissionResult | None]:
        """Every key of ``keys`` that is done (its result) or failed (None)."""
        if not keys:
            return {}
        rows = self._retrying(lambda: self._run(
            "SELECT c.student, c.assignment, c.fingerprint, c.state, c.result FROM nnfs_claim c "
            "JOIN unnest(CAST(:s AS TEXT[]), CAST(:a AS TEXT[]), CAST(:f AS TEXT[])) "
            "AS k(student, assignment, fingerprint) "
            "USING (student, assignment, fingerprint) WHERE c.state IN ('done', 'failed')",
            s=[k[0] for k in keys], a=[k[1] for k in keys], f=[k[2] for k in keys]).all())
        return {(s, a, f): (unpack(r) if state == "done" and r is not None else None)
                for s, a, f, state, r in rows}

    def pending(self) -> Pending:
        """How much of this worker's keys is not done yet."""
        row = self._retrying(lambda: self._run(
            f"SELECT count(*) FILTER (WHERE {_OPEN}), count(*) FILTER (WHERE c.state = "
            "'claimed' AND c.lease_until >= clock_timestamp()) FROM nnfs_claim c "
            f"WHERE c.state IN ('todo', 'claimed') AND {_MINE}").one())
        return Pending(int(row[0]), int(row[1]))

    # ------------------------------------------------------------------ claims

    def claim(self) -> Claim | None:
        """The first open key of this worker (by priority), or None when there is none.

        It walks the open rows only (a partial index: todo, or claimed and perhaps
        expired), in priority order, so a claim costs the same at the first submission of
        a class and at its 12,000th."""
        token = secrets.token_hex(16)
        row = self._retrying(lambda: self._run(
            "UPDATE nnfs_claim q SET state = 'claimed', worker = :worker, token = :token, "
            "lease_until = clock_timestamp() + make_interval(secs => :lease), "
            "attempts = q.attempts + 1, claimed_at = clock_timestamp() "
            "FROM (SELECT c.student, c.assignment, c.fingerprint, "
            "             CASE WHEN c.state = 'claimed' THEN c.worker END AS previous "
            "      FROM nnfs_claim c WHERE c.state IN ('todo', 'claimed') "
            f"      AND {_OPEN} AND {_MINE} "
            "      ORDER BY c.priority, c.student, c.assignment, c.fingerprint LIMIT 1 "
            "      FOR UPDATE OF c SKIP LOCKED) pick "
            "WHERE (q.student, q.assignment, q.fingerprint) = "
            "      (pick.student, pick.assignment, pick.fingerprint) "
            "RETURNING q.student, q.assignment, q.fingerprint, q.attempts, pick.previous",
            worker=self.worker, token=token, lease=self.lease).first())
        if row is None:
            return None
        return Claim((row[0], row[1], row[2]), token, int(row[3]), row[4], time.monotonic())

    def renew(self, claims: list[Claim]) -> set[str]:
        """Extend the leases of these claims; the tokens still ours."""
        if not claims:
            return set()
        rows = self._retrying(lambda: self._run(
            "UPDATE nnfs_claim SET lease_until = clock_timestamp() + make_interval(secs => "
            ":lease) WHERE token = ANY(CAST(:tokens AS TEXT[])) AND state = 'claimed' "
            "RETURNING token", lease=self.lease, tokens=[c.token for c in claims]).all())
        return {r[0] for r in rows}

    def release(self, claims: list[Claim], attempt_counts: bool = False) -> None:
        """Give these claims back to the pool now (a worker told to stop, a failed write).
        A worker that stops on request was not the submission's fault: that attempt does
        not count, unless ``attempt_counts``."""
        if not claims:
            return
        self._retrying(lambda: self._run(
            "UPDATE nnfs_claim SET state = 'todo', worker = NULL, token = NULL, "
            "lease_until = NULL, attempts = CASE WHEN :counts THEN attempts "
            "ELSE greatest(attempts - 1, 0) END "
            "WHERE token = ANY(CAST(:tokens AS TEXT[])) AND state = 'claimed'",
            counts=attempt_counts, tokens=[c.token for c in claims]))

    def owns(self, claim: Claim) -> bool:
        """Whether the claim is still this worker's (not taken over, not done)."""
        return bool(self._retrying(lambda: self._run(
            "SELECT count(*) FROM nnfs_claim WHERE token = :token AND state = 'claimed'",
            token=claim.token).scalar_one()))

    def fail(self, claim: Claim) -> None:
        """A claim that can be neither graded nor recorded: out of the pool, for a person."""
        self._retrying(lambda: self._run(
            "UPDATE nnfs_claim SET state = 'failed', lease_until = NULL, done_at = "
            "clock_timestamp() WHERE token = :token AND state = 'claimed'", token=claim.token))

    @contextlib.contextmanager
    def completing(self, claim: Claim, result: SubmissionResult) -> Iterator[bool]:
        """Lock the claim's row and yield whether it is still ours.

        Inside, while it is True, record the result (the gradebook); when the block ends
        without an exception the row becomes done, with the result, and the lock goes. A
        block that raises leaves the claim as it was (still ours until its lease runs out).
        When it is False, another worker took the claim over: record nothing.
        """
        try:
            self._conn.rollback()  # a transaction of its own
            row = self._run("SELECT token, state FROM nnfs_claim WHERE student = :s AND "
                            "assignment = :a AND fingerprint = :f FOR UPDATE",
                            s=claim.key[0], a=claim.key[1], f=claim.key[2]).first()
        except Exception as exc:
            from sqlalchemy.exc import DBAPIError

            if isinstance(exc, DBAPIError) and (exc.connection_invalidated
                                                or _is_disconnect(exc)):
                self.connect()  # the server ended our session: the claim may be gone
                with self.completing(claim, result) as ours:
                    yield ours
                return
            raise
        ours = row is not None and row[0] == claim.token and row[1] == "claimed"
        if not ours:
            self._conn.rollback()
            yield False
            return
        try:
            yield True
        except BaseException:
            with contextlib.suppress(Exception):
                self._conn.rollback()
            raise
        seconds = round(time.monotonic() - claim.started, 3) if claim.started else None
        self._run("UPDATE nnfs_claim SET state = 'done', result = :r, done_at = "
                  "clock_timestamp(), seconds = :sec, lease_until = NULL, "
                  "completions = completions + 1 WHERE student = :s AND assignment = :a "
                  "AND fingerprint = :f", r=pack(result), sec=seconds,
                  s=claim.key[0], a=claim.key[1], f=claim.key[2])
        self._conn.commit()


def _is_disconnect(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(words in text for words in (
        "server closed the connection", "terminating connection", "connection already closed",
        "idle-in-transaction timeout", "could not receive data", "ssl connection has been closed",
        "connection not open", "could not connect"))
