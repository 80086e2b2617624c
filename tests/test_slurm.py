"""The Slurm recipe on a real cluster (issue 22) · 在真实的 Slurm 集群上运行评分脚本.

A single-node Slurm cluster (tests/slurmcluster.py) and a PostgreSQL server
(tests/pgserver.py), both started by the test. ``deploy/slurm/grade.sbatch`` is submitted
as an array of three workers over a class of two assignments; one task other than
the first is killed (SIGKILL, no goodbye) while it holds a claim. The rest of the array
takes its claim over when the lease runs out: every submission is in the gradebook
exactly once with the score a single grader gives, and task 1's grades.csv is the whole
class. Skips where Slurm is not installed, except in CI.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import time

import pytest
from pgserver import postgres  # noqa: F401  (fixture)
from slurmcluster import slurm  # noqa: F401  (fixture)
from test_grade_postgres import (
    _claims,
    _expected_scores,
    _gradebook_rows,
    _in_the_gradebook,
    _write_class,
)

from grader.paths import REPO

pytestmark = pytest.mark.slow

SCRIPT = REPO / "deploy" / "slurm" / "grade.sbatch"
STUDENTS = [f"s{i:02d}" for i in range(1, 8)]
ASSIGNMENTS = ["01_perceptron", "02_mlp"]  # the cheapest to grade, as in test_grade_postgres
TASKS = 3


def _held(url: str) -> dict[str, list]:
    """{worker name: the keys it holds}, for every worker holding a claim now."""
    held: dict[str, list] = {}
    try:
        claims = _claims(url)
    except Exception:  # no table yet: nobody has started
        return held
    for key, rows in claims.items():
        for row in rows:
            if row["state"] == "claimed":
                held.setdefault(row["worker"], []).append(key)
    return held


def test_a_slurm_array_grades_a_class_though_one_task_is_killed(tmp_path, slurm, postgres):  # noqa: F811
    _write_class(tmp_path / "submitted", STUDENTS, ASSIGNMENTS)
    url = postgres.create_database()
    out = tmp_path / "grading"
    env = {**os.environ, "NNFS_COURSE": str(REPO), "NNFS_SOURCE": str(tmp_path / "submitted"),
           "NNFS_OUT": str(out), "NNFS_DB_URL": url, "NNFS_GRADE_ARGS": "--lease 3",
           "NNFS_COURSE_SECRET": "test-secret-" + "0" * 20}
    for name in ("NNFS_COURSE_SECRET_FILE", "NNFS_RUN_ID"):
        env.pop(name, None)
    job = slurm.submit(SCRIPT, f"--array=1-{TASKS}", "--cpus-per-task=1", "--mem-per-cpu=500M",
                       f"--chdir={tmp_path}", f"--output={tmp_path}/slurm-%A_%a.out", env=env)

    # kill a task other than the first while it holds a claim
    victim, deadline = None, time.monotonic() + 300
    while victim is None and time.monotonic() < deadline:
        for worker, keys in _held(url).items():
            if not worker.startswith("task-1-"):
                victim = (worker, keys)
                os.kill(int(worker.rsplit(":", 1)[1]), signal.SIGKILL)
                break
        else:
            tasks = slurm.tasks(job)  # a pending array is one record until it starts
            ended = len(tasks) == TASKS and not any(
                state in ("PENDING", "RUNNING", "CONFIGURING") for state, _ in tasks.values())
            assert not ended, f"the array ended before a task could be killed\n{_logs(tmp_path)}"
            time.sleep(0.05)
    assert victim, f"no task but the first ever held a claim\n{_logs(tmp_path)}"
    killed = int(victim[0].split("-")[1])

    tasks = slurm.wait(job, TASKS, timeout=600)
    logs = _logs(tmp_path)
    assert tasks[killed][0] == "FAILED", (tasks, logs)
    assert all(tasks[k] == ("COMPLETED", "0:0") for k in tasks if k != killed), (tasks, logs)

    everyone = {(s, a) for s in STUDENTS for a in ASSIGNMENTS}
    claims = _claims(url)
    assert set(claims) == everyone and all(len(rows) == 1 for rows in claims.values())
    rows = {key: found[0] for key, found in claims.items()}
    assert all(r["state"] == "done" and r["completions"] == 1 for r in rows.values()), rows
    for key in victim[1]:  # taken over once its lease ran out, by a task still alive
        assert rows[key]["attempts"] == 2 and rows[key]["worker"] != victim[0], rows[key]
    assert len({r["worker"] for r in rows.values()}) >= 2, "the array shared the class"

    book = _gradebook_rows(url)
    expected = _expected_scores(STUDENTS, ASSIGNMENTS)
    assert book["submissions"] == {key: 1 for key in everyone}
    assert book["scores"] == _in_the_gradebook(expected) and book["unscored"] == 0

    # task 1 wrote the class's files, and says where its index came from
    with open(out / "grades.csv", encoding="utf-8") as handle:
        table = {(r["student"], r["assignment"]): (float(r["score"]), float(r["max_score"]))
                 for r in csv.DictReader(handle)}
    assert table == expected
    worker = json.loads((out / "report.json").read_text(encoding="utf-8"))["worker"]
    assert (worker["engine"], worker["index"], worker["count"]) == ("slurm", 1, TASKS)
    assert f"SLURM_ARRAY_TASK_ID=1, SLURM_ARRAY_TASK_COUNT={TASKS}" in worker["from"]
    assert worker["run"] == f"slurm:{job}"
    first_log = (tmp_path / f"slurm-{job}_1.out").read_text(encoding="utf-8")
    assert f"task 1 of {TASKS} of a slurm array" in first_log
    survivors = [k for k in range(2, TASKS + 1) if k != killed]
    for k in survivors:  # the others list what they graded in files of their own
        assert (out / f"grades.task-{k}-of-{TASKS}.csv").is_file()


def _logs(folder) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2500:]}"
                     for p in sorted(folder.glob("slurm-*.out")))
