"""Several graders, one PostgreSQL gradebook (issues 9, 22) · 多个评分进程共用一个 PostgreSQL 成绩册.

A real server on loopback (tests/pgserver.py). Two ``--shard K/2`` processes grade one
class at the same time into the same gradebook; every submission must be there exactly
once, with the score a single grader gives, and a re-run must not add rows. Two workers
claiming from the gradebook finish a class while one of them is stalled (SIGSTOP); a
worker told to stop (SIGTERM) gives its claims back at once.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pgserver import postgres, postgres_url  # noqa: F401  (fixtures)

from grader import notebooks
from grader.course.samples import samples_for
from grader.paths import REPO
from grader.record.results import CellResult, NotebookResult, SubmissionResult
from grader.record.source import load_assignment

pytestmark = pytest.mark.slow

ASSIGNMENTS = ["01_perceptron", "02_mlp"]  # the two cheapest to grade
STUDENTS = [f"s{i:02d}" for i in range(1, 9)]
KINDS = ["perfect", "blank", "partly_wrong"]


def _driver_url(url: str) -> str:
    """The same database, with the driver named, for nbgrader.api / SQLAlchemy here."""
    return url.replace("postgresql://", "postgresql+psycopg2://", 1)


def _shard(student: str, n: int) -> int:
    """The shard a student belongs to (the rule the brief of ``--shard`` gives)."""
    return int(hashlib.sha1(student.encode()).hexdigest(), 16) % n + 1


def _points(assignment: str) -> dict[str, float]:
    source = load_assignment(assignment)
    assert not source.error, source.error
    return {t.grade_id: t.points for book in source.notebooks for t in book.tests}


def _graded_by_hand(assignment: str) -> dict[str, float]:
    """The written answers an instructor grades in formgrader: nbgrader's gradebook counts
    them as grade cells and in the maximum; the autograded score leaves them at 0."""
    source = load_assignment(assignment)
    return {c["grade_id"]: c["points"] for book in source.notebooks for c in book.cells
            if c["grade"] and c["solution"]}


def _in_the_gradebook(expected: dict[tuple[str, str], tuple[float, float]]
                      ) -> dict[tuple[str, str], tuple[float, float]]:
    """Expected (score, max) as nbgrader's gradebook holds them: the maximum with the points
    graded by hand."""
    return {(student, assignment): (score, top + sum(_graded_by_hand(assignment).values()))
            for (student, assignment), (score, top) in expected.items()}


def _gradebook_rows(url: str) -> dict:
    """Everything the checks need from the gradebook, read through nbgrader's own API."""
    from nbgrader import api

    with api.Gradebook(_driver_url(url)) as gb:
        db = gb.db
        submissions = {}
        for sub in db.query(api.SubmittedAssignment).all():
            key = (sub.student.id, sub.assignment.name)
            submissions.setdefault(key, []).append(sub)
        return {
            "counts": {model.__tablename__: db.query(model).count() for model in
                       (api.Course, api.Assignment, api.Notebook, api.GradeCell, api.SolutionCell,
                        api.SourceCell, api.Student, api.SubmittedAssignment,
                        api.SubmittedNotebook, api.Grade, api.Comment)},
            "submissions": {key: len(subs) for key, subs in submissions.items()},
            "ids": {key: sorted(s.id for s in subs) for key, subs in submissions.items()},
            "scores": {key: (subs[0].score, subs[0].max_score) for key, subs in submissions.items()},
            "grades": sorted((g.student.id, g.assignment.name, g.notebook.name, g.name, g.auto_score)
                             for g in db.query(api.Grade).all()),
            # a cell left unscored by the grader (written answers wait for formgrader instead)
            "unscored": db.query(api.Grade).filter(api.Grade.auto_score.is_(None),
                                                   api.Grade.needs_manual_grade.is_(False)).count(),
            "waiting": db.query(api.Grade).filter(api.Grade.needs_manual_grade.is_(True)).count(),
        }


# ------------------------------------------------------ Writer: racing processes


def _writer_worker(url: str, students: list[str], barrier, errors) -> None:
    try:
        from grader.record import gradebook

        sources = [load_assignment(a) for a in ASSIGNMENTS]
        barrier.wait(timeout=120)  # every process opens the fresh database at once
        writer = gradebook.Writer(url)
        for source in sources:
            writer.add_assignment(source)
        barrier.wait(timeout=120)  # and records the shared student at once
        for student in students:
            for source in sources:
                book = source.notebooks[0]
                cells = [CellResult(t.grade_id, t.points, score=t.points if i % 2 else 0.0,
                                    status="passed" if i % 2 else "failed")
                         for i, t in enumerate(book.tests)]
                writer.record(SubmissionResult(student, source.name, [NotebookResult(
                    student, source.name, book.name, cells=cells)]), source)
        writer.close()
    except BaseException as exc:  # reported to the test, which fails with it
        errors.put(f"{type(exc).__name__}: {exc}")
        raise


def test_writers_racing_on_a_fresh_gradebook_leave_one_row_each(postgres_url):  # noqa: F811
    """Four processes open one new database, add the same assignments and record at once.

    Each has its own students, and all four record the same student ``shared`` (the
    find-then-insert race that needs record's retry). Without the advisory lock two of
    them create the tables at once, or insert the same assignment, and one fails.
    """
    context = multiprocessing.get_context("fork")  # no connection is open before the fork
    workers = 4
    barrier, errors = context.Barrier(workers), context.Queue()
    own = {k: [f"w{k}_{i}" for i in range(3)] for k in range(workers)}
    processes = [context.Process(target=_writer_worker,
                                 args=(postgres_url, ["shared", *own[k]], barrier, errors))
                 for k in range(workers)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=300)
    problems = []
    while not errors.empty():
        problems.append(errors.get())
    assert not problems, problems
    assert [p.exitcode for p in processes] == [0] * workers

    rows = _gradebook_rows(postgres_url)
    students = {"shared", *(s for names in own.values() for s in names)}
    expected = {(s, a) for s in students for a in ASSIGNMENTS}
    assert rows["submissions"] == {key: 1 for key in expected}
    cells = sum(len(_points(a)) + len(_graded_by_hand(a)) for a in ASSIGNMENTS)
    assert rows["counts"]["assignment"] == len(ASSIGNMENTS)
    assert rows["counts"]["notebook"] == len(ASSIGNMENTS)
    assert rows["counts"]["grade_cells"] == cells
    assert rows["counts"]["student"] == len(students)
    assert rows["counts"]["grade"] == cells * len(students)
    assert rows["unscored"] == 0
    assert rows["waiting"] == sum(len(_graded_by_hand(a)) for a in ASSIGNMENTS) * len(students)
    for (_student, assignment), (score, max_score) in rows["scores"].items():
        points = list(_points(assignment).values())
        assert max_score == sum(points) + sum(_graded_by_hand(assignment).values())
        assert score == sum(p for i, p in enumerate(points) if i % 2)


# --------------------------------------------------- two shards grade one class


def _kind(i: int, j: int) -> str:
    return KINDS[(i + j) % len(KINDS)]


def _expected_scores(students: list[str] = STUDENTS, assignments: list[str] = ASSIGNMENTS
                     ) -> dict[tuple[str, str], tuple[float, float]]:
    """What one grader gives each submission: perfect = max, blank = 0, partly_wrong =
    max minus the points of the cells its sample file says it fails."""
    expected = {}
    for j, assignment in enumerate(assignments):
        points = _points(assignment)
        samples = {s.student: s for s in samples_for(assignment)}
        for i, student in enumerate(students):
            fails = samples[_kind(i, j)].fails
            assert set(fails) <= set(points)
            expected[student, assignment] = (sum(points.values()) - sum(points[f] for f in fails),
                                             sum(points.values()))
    return expected


def _write_class(submitted: Path, students: list[str] = STUDENTS,
                 assignments: list[str] = ASSIGNMENTS) -> None:
    for j, assignment in enumerate(assignments):
        samples = {s.student: s for s in samples_for(assignment)}
        for i, student in enumerate(students):
            sample = samples[_kind(i, j)]
            notebooks.write_clean(sample.notebook, submitted / student / assignment / sample.notebook_name)


def _shard_command(submitted: Path, out: Path, url: str, k: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "grader", "grade", str(submitted), "--out", str(out),
            "--db-url", url, "--shard", f"{k}/2", "--jobs", "1", "--quiet", *extra]


def _run_together(commands: list[list[str]]) -> None:
    # a course secret of the test's own: never create one in the user's ~/.config
    env = {**os.environ, "PYTHONPATH": str(REPO), "NNFS_COURSE_SECRET": "test-secret-" + "0" * 20}
    env.pop("NNFS_COURSE_SECRET_FILE", None)
    processes = [subprocess.Popen(c, cwd=REPO, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for c in commands]
    outputs = [p.communicate(timeout=900) for p in processes]
    for command, p, (stdout, stderr) in zip(commands, processes, outputs):
        assert p.returncode == 0, f"{' '.join(command)}\n{stdout}\n{stderr}"


def _graded(out: Path, k: int) -> list[tuple[str, str]]:
    """The rows of shard k's grades CSV (a shard's files are named after it)."""
    with open(out / f"grades.shard-{k}-of-2.csv", encoding="utf-8") as handle:
        return [(row["student"], row["assignment"]) for row in csv.DictReader(handle)]


@pytest.fixture(scope="module")
def sharded_class(tmp_path_factory, postgres):  # noqa: F811
    """The class, graded by two concurrent shard processes into one new gradebook."""
    root = tmp_path_factory.mktemp("sharded")
    _write_class(root / "submitted")
    url = postgres.create_database()  # postgresql:// as an instructor writes it
    _run_together([_shard_command(root / "submitted", root / f"out_{k}", url, k) for k in (1, 2)])
    return root, url


def test_two_concurrent_shards_put_every_submission_in_the_gradebook_once(sharded_class):
    root, url = sharded_class
    everyone = {(s, a) for s in STUDENTS for a in ASSIGNMENTS}
    # the class really is split (otherwise one shard grades alone and nothing races)
    assert {_shard(s, 2) for s in STUDENTS} == {1, 2}

    graded = {k: _graded(root / f"out_{k}", k) for k in (1, 2)}
    for k, rows in graded.items():
        assert len(rows) == len(set(rows)), f"shard {k} graded a submission twice"
        assert {s for s, _ in rows} == {s for s in STUDENTS if _shard(s, 2) == k}
    assert not set(graded[1]) & set(graded[2])
    assert set(graded[1]) | set(graded[2]) == everyone

    rows = _gradebook_rows(url)
    assert rows["submissions"] == {key: 1 for key in everyone}
    assert rows["counts"]["assignment"] == len(ASSIGNMENTS)
    assert rows["counts"]["student"] == len(STUDENTS)
    assert rows["counts"]["grade"] == sum(len(_points(a)) + len(_graded_by_hand(a))
                                          for a in ASSIGNMENTS) * len(STUDENTS)
    assert rows["unscored"] == 0
    assert rows["scores"] == _in_the_gradebook(_expected_scores())


def test_rerunning_a_shard_leaves_the_same_rows(sharded_class):
    root, url = sharded_class
    before = _gradebook_rows(url)
    mine = {(s, a) for s in STUDENTS for a in ASSIGNMENTS if _shard(s, 2) == 1}
    # as is (its stored results are reused), then forced (graded and recorded again)
    for extra in ([], ["--force"]):
        _run_together([_shard_command(root / "submitted", root / "out_1", url, 1, *extra)])
        assert _gradebook_rows(url) == before, extra
        rows = _graded(root / "out_1", 1)
        assert sorted(rows) == sorted(mine), extra


# ------------------------------------------- workers claiming, one of them stalled

SMALL = (STUDENTS[:6], ASSIGNMENTS[:1])  # the claiming tests' class: six perceptrons


def _claims(url: str) -> dict:
    """The claims table, by (student, assignment): state, worker, attempts, completions."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(_driver_url(url))
    with engine.connect() as conn:
        rows = conn.execute(sqlalchemy.text(
            "SELECT student, assignment, state, worker, attempts, completions FROM nnfs_claim"
        )).all()
    engine.dispose()
    claims: dict = {}
    for student, assignment, state, worker, attempts, completions in rows:
        claims.setdefault((student, assignment), []).append(
            dict(state=state, worker=worker, attempts=attempts, completions=completions))
    return claims


def _worker_command(submitted: Path, out: Path, url: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "grader", "grade", str(submitted), "--out", str(out),
            "--db-url", url, "--jobs", "1", "--quiet", *extra]


def _environment() -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO), "NNFS_COURSE_SECRET": "test-secret-" + "0" * 20}
    for name in ("NNFS_COURSE_SECRET_FILE", "NNFS_RUN_ID", "SLURM_ARRAY_TASK_ID",
                 "JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"):
        env.pop(name, None)
    return env


def _held_by(url: str, pid: int) -> list[tuple[str, str]]:
    return sorted(key for key, rows in _claims(url).items() for row in rows
                  if row["state"] == "claimed" and (row["worker"] or "").endswith(f":{pid}"))


def _done_by(url: str, pid: int) -> int:
    return sum(1 for rows in _claims(url).values() for row in rows
               if row["state"] == "done" and (row["worker"] or "").endswith(f":{pid}"))


def _wait_for_a_claim(url: str, process: subprocess.Popen, after: int = 0,
                      timeout: float = 300) -> None:
    """Until the worker holds a claim, having recorded ``after`` results already."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the worker ended before it claimed anything"
        try:
            if _held_by(url, process.pid) and _done_by(url, process.pid) >= after:
                return
        except Exception:  # the table does not exist yet
            pass
        time.sleep(0.05)
    raise AssertionError("the worker never claimed a submission")


def test_two_workers_finish_a_class_while_one_of_them_is_stalled(tmp_path, postgres):  # noqa: F811
    """Worker B records a result, then is SIGSTOPped (its whole process group) while it holds
    a claim; worker A
    grades the rest, takes B's claim over when its lease runs out, and writes the class's
    files. B, woken up after A has finished, drops its late result and writes the same files.
    Every submission is recorded once, with the score a single grader gives."""
    import signal
    import time

    _write_class(tmp_path / "submitted", *SMALL)
    url = postgres.create_database()
    env = _environment()
    lease = "3"
    a = subprocess.Popen(_worker_command(tmp_path / "submitted", tmp_path / "out_a", url,
                                         "--lease", lease),
                         cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    b = subprocess.Popen(_worker_command(tmp_path / "submitted", tmp_path / "out_b", url,
                                         "--lease", lease),
                         cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, start_new_session=True)
    try:
        for _attempt in range(20):  # stop B while it holds a claim (not between two)
            _wait_for_a_claim(url, b, after=1)
            os.killpg(b.pid, signal.SIGSTOP)
            stalled = _held_by(url, b.pid)
            if stalled:
                break
            os.killpg(b.pid, signal.SIGCONT)
        assert stalled, "could not catch worker B holding a claim"
        started = time.monotonic()
        out_a, err_a = a.communicate(timeout=600)
        assert a.returncode == 0, f"{out_a}\n{err_a}"
        assert time.monotonic() - started >= 2.5, "A waited for B's lease to run out"
        assert _held_by(url, b.pid) == [], "A took B's claim over"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(b.pid, signal.SIGCONT)
    out_b, err_b = b.communicate(timeout=600)
    assert b.returncode == 0, f"{out_b}\n{err_b}"

    everyone = {(s, a_) for s in SMALL[0] for a_ in SMALL[1]}
    claims = _claims(url)
    assert set(claims) == everyone
    assert all(len(rows) == 1 for rows in claims.values()), "one fingerprint per submission"
    rows = {key: found[0] for key, found in claims.items()}
    assert all(r["state"] == "done" and r["completions"] == 1 for r in rows.values()), rows
    for key in stalled:
        assert rows[key]["attempts"] == 2 and not rows[key]["worker"].endswith(f":{b.pid}")
    workers = {r["worker"].rsplit(":", 1)[1] for r in rows.values()}
    assert str(b.pid) in workers, "B graded part of the class before it stalled"

    book = _gradebook_rows(url)
    assert book["submissions"] == {key: 1 for key in everyone}
    assert book["scores"] == _in_the_gradebook(_expected_scores(*SMALL))
    assert book["unscored"] == 0
    for out in ("out_a", "out_b"):  # each wrote the whole class, from the gradebook
        with open(tmp_path / out / "grades.csv", encoding="utf-8") as handle:
            table = {(r["student"], r["assignment"]): (float(r["score"]), float(r["max_score"]))
                     for r in csv.DictReader(handle)}
        assert table == _expected_scores(*SMALL), out
        for student, assignment in everyone:
            assert (tmp_path / out / "feedback" / student / assignment).is_dir()
    report_b = json.loads((tmp_path / "out_b" / "report.json").read_text(encoding="utf-8"))
    assert report_b["worker"]["dropped"] == len(stalled)


def test_a_worker_told_to_stop_gives_its_claims_back_at_once(tmp_path, postgres):  # noqa: F811
    """SIGTERM (scancel, a pre-empted pod): the claim goes back to the pool without waiting
    for its lease, its attempt uncounted (the stalled-worker test shows a class finished)."""
    import signal
    import time

    _write_class(tmp_path / "submitted", *SMALL)
    url = postgres.create_database()
    env = _environment()
    worker = subprocess.Popen(_worker_command(tmp_path / "submitted", tmp_path / "out", url,
                                              "--lease", "600"),
                              cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    _wait_for_a_claim(url, worker)
    worker.send_signal(signal.SIGTERM)
    started = time.monotonic()
    _, err = worker.communicate(timeout=60)
    assert worker.returncode == 128 + signal.SIGTERM, err
    assert time.monotonic() - started < 30
    assert "SIGTERM" in err and "队列" in err
    rows = [r for found in _claims(url).values() for r in found]
    assert not any(r["state"] == "claimed" for r in rows), "nothing waits for a 600 s lease"
    assert all(r["attempts"] == 1 for r in rows if r["state"] == "done")
    assert all(r["attempts"] == 0 for r in rows if r["state"] == "todo"), "a stop is no attempt"
    assert any(r["state"] == "todo" for r in rows)
