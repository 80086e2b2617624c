"""Claiming a class from one PostgreSQL gradebook (issue 22) · 从同一个成绩册认领评分任务.

The pool itself (grader.record.queue), against a real server on loopback
(tests/pgserver.py), without grading anything: claims never overlap, a lease that runs out
returns its claim, a renewed one does not, a worker whose claim was taken over records
nothing, a worker stopped while it holds a row cannot hold it for ever, --force resets once
per run, and a run refuses a worker with other settings. Fast: a server start and seconds.
"""

from __future__ import annotations

import threading
import time

import pytest
from pgserver import postgres, postgres_url  # noqa: F401  (fixtures)

from grader.record.queue import Claims, pack, unpack
from grader.record.results import CellResult, NotebookResult, SubmissionResult


def _keys(n: int, assignment: str = "01_perceptron") -> list[tuple[str, str, str]]:
    return [(f"s{i:03d}", assignment, f"print{i}") for i in range(n)]


def _result(key) -> SubmissionResult:
    student, assignment, _ = key
    return SubmissionResult(student, assignment, [NotebookResult(
        student, assignment, "perceptron.ipynb", cells=[CellResult("test_a", 2.0, 2.0, "passed")])])


def _rows(url: str) -> dict:
    import sqlalchemy

    from grader.record.queue import driver_url

    engine = sqlalchemy.create_engine(driver_url(url))
    with engine.connect() as conn:
        rows = conn.execute(sqlalchemy.text(
            "SELECT student, assignment, fingerprint, state, worker, attempts, completions "
            "FROM nnfs_claim")).all()
    engine.dispose()
    return {(r[0], r[1], r[2]): dict(state=r[3], worker=r[4], attempts=r[5], completions=r[6])
            for r in rows}


def test_workers_claiming_at_once_complete_every_key_exactly_once(postgres_url):  # noqa: F811
    keys = _keys(120)
    taken: dict[str, list] = {}
    errors: list[str] = []
    start = threading.Barrier(4)

    def worker(name: str) -> None:
        try:
            claims = Claims(postgres_url, name, lease=30)
            claims.register(keys)  # every worker registers the whole class
            start.wait(timeout=60)
            mine = taken.setdefault(name, [])
            while (claim := claims.claim()) is not None:
                with claims.completing(claim, _result(claim.key)) as ours:
                    assert ours
                    mine.append(claim.key)
            claims.close()
        except BaseException as exc:  # reported below
            errors.append(f"{name}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=worker, args=(f"w{k}",)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    done = [key for keys_ in taken.values() for key in keys_]
    assert sorted(done) == sorted(keys), "every key once, none twice"
    assert sum(1 for v in taken.values() if v) >= 2, "the work was shared"
    rows = _rows(postgres_url)
    assert set(rows) == set(keys)
    assert all(r["state"] == "done" and r["completions"] == 1 and r["attempts"] == 1
               for r in rows.values())
    claims = Claims(postgres_url, "reader")
    results = claims.results(keys)
    assert set(results) == set(keys) and all(r.score == 2.0 for r in results.values())


def test_a_lease_that_runs_out_returns_the_claim_and_the_late_worker_records_nothing(
        postgres_url):  # noqa: F811
    key = _keys(1)
    slow, other = Claims(postgres_url, "slow", lease=1), Claims(postgres_url, "other", lease=1)
    slow.register(key)
    other.register(key)
    first = slow.claim()
    assert first is not None and first.attempts == 1 and first.previous is None
    assert other.claim() is None, "claimed and leased: not claimable"
    time.sleep(1.3)  # the slow worker stops renewing
    assert other.pending().claimable == 1
    second = other.claim()
    assert second is not None and second.previous == "slow" and second.attempts == 2
    with slow.completing(first, _result(first.key)) as ours:
        assert not ours, "taken over: the slow worker's result is dropped"
    assert slow.renew([first]) == set()
    with other.completing(second, _result(second.key)) as ours:
        assert ours
    row = _rows(postgres_url)[key[0]]
    assert row == dict(state="done", worker="other", attempts=2, completions=1)
    assert other.pending().claimable == other.pending().held == 0


def test_a_renewed_lease_keeps_the_claim(postgres_url):  # noqa: F811
    key = _keys(1)
    busy, other = Claims(postgres_url, "busy", lease=1), Claims(postgres_url, "other", lease=1)
    busy.register(key)
    other.register(key)
    claim = busy.claim()
    for _ in range(6):
        time.sleep(0.3)
        assert busy.renew([claim]) == {claim.token}
        assert other.claim() is None
    assert other.pending().held == 1


def test_a_released_claim_is_claimable_at_once_and_its_attempt_does_not_count(
        postgres_url):  # noqa: F811
    key = _keys(1)
    stopping, other = Claims(postgres_url, "stopping"), Claims(postgres_url, "other")
    stopping.register(key)
    other.register(key)
    stopping.release([stopping.claim()])
    again = other.claim()
    assert again is not None and again.attempts == 1 and again.previous is None


def test_a_worker_stopped_while_it_holds_a_row_cannot_hold_it_for_ever(postgres_url):  # noqa: F811
    """SIGSTOP between locking the row and recording: the server ends that session."""
    key = _keys(1)
    stopped, other = Claims(postgres_url, "stopped", lease=1), Claims(postgres_url, "other",
                                                                       lease=1)
    stopped.register(key)
    other.register(key)
    claim = stopped.claim()
    with pytest.raises(Exception):  # noqa: B017 - the connection is gone when it wakes up
        with stopped.completing(claim, _result(claim.key)) as ours:
            assert ours
            assert other.claim() is None  # locked: skipped, not waited for
            time.sleep(2.0)  # "stopped": idle in a transaction beyond the lease
    taken = other.claim()
    assert taken is not None and taken.previous == "stopped"
    with other.completing(taken, _result(taken.key)) as ours:
        assert ours
    assert _rows(postgres_url)[key[0]]["completions"] == 1


def test_force_resets_once_per_run_and_a_run_refuses_other_settings(postgres_url):  # noqa: F811
    keys = _keys(3)
    a, b = Claims(postgres_url, "a"), Claims(postgres_url, "b")
    for claims in (a, b):
        claims.register(keys)
    while (claim := a.claim()) is not None:
        with a.completing(claim, _result(claim.key)):
            pass
    assert a.reset("slurm:77") == 3
    assert b.reset("slurm:77") == 0, "the run's second worker finds them reset"
    assert a.pending().claimable == 3
    while (claim := b.claim()) is not None:
        with b.completing(claim, _result(claim.key)):
            pass
    assert b.reset("slurm:77") == 0 and b.reset(None) == 3, "no run: every --force resets"

    a.join_run("slurm:78", "settings-1")
    b.join_run("slurm:78", "settings-1")
    with pytest.raises(RuntimeError) as refused:
        Claims(postgres_url, "c").join_run("slurm:78", "settings-2")
    assert "secret" in str(refused.value) and "密钥" in str(refused.value)
    assert a.gradebook_id() == b.gradebook_id()


def test_a_result_travels_whole_through_the_table():
    result = _result(("学生\udcff\x1b", "02_mlp", "x"))
    result.notebooks[0].flags = ["renamed:Copy of mlp.ipynb", "late"]
    result.notebooks[0].message = "✗ 没有提交\nNot submitted"
    back = unpack(pack(result))
    assert back == result
