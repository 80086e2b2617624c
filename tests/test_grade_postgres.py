"""Several graders, one PostgreSQL gradebook (issue 9) · 多个评分进程共用一个 PostgreSQL 成绩册.

A real server on loopback (tests/pgserver.py). Two ``--shard K/2`` processes grade one
class at the same time into the same gradebook; every submission must be there exactly
once, with the score a single grader gives, and a re-run must not add rows.
"""

from __future__ import annotations

import csv
import hashlib
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
            "unscored": db.query(api.Grade).filter(api.Grade.auto_score.is_(None)).count(),
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
    cells = sum(len(_points(a)) for a in ASSIGNMENTS)
    assert rows["counts"]["assignment"] == len(ASSIGNMENTS)
    assert rows["counts"]["notebook"] == len(ASSIGNMENTS)
    assert rows["counts"]["grade_cells"] == cells
    assert rows["counts"]["student"] == len(students)
    assert rows["counts"]["grade"] == cells * len(students)
    assert rows["unscored"] == 0
    for (_student, assignment), (score, max_score) in rows["scores"].items():
        points = list(_points(assignment).values())
        assert max_score == sum(points)
        assert score == sum(p for i, p in enumerate(points) if i % 2)


# --------------------------------------------------- two shards grade one class


def _kind(i: int, j: int) -> str:
    return KINDS[(i + j) % len(KINDS)]


def _expected_scores() -> dict[tuple[str, str], tuple[float, float]]:
    """What one grader gives each submission: perfect = max, blank = 0, partly_wrong =
    max minus the points of the cells its sample file says it fails."""
    expected = {}
    for j, assignment in enumerate(ASSIGNMENTS):
        points = _points(assignment)
        samples = {s.student: s for s in samples_for(assignment)}
        for i, student in enumerate(STUDENTS):
            fails = samples[_kind(i, j)].fails
            assert set(fails) <= set(points)
            expected[student, assignment] = (sum(points.values()) - sum(points[f] for f in fails),
                                             sum(points.values()))
    return expected


def _write_class(submitted: Path) -> None:
    for j, assignment in enumerate(ASSIGNMENTS):
        samples = {s.student: s for s in samples_for(assignment)}
        for i, student in enumerate(STUDENTS):
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
    assert rows["counts"]["grade"] == sum(len(_points(a)) for a in ASSIGNMENTS) * len(STUDENTS)
    assert rows["unscored"] == 0
    assert rows["scores"] == _expected_scores()


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
