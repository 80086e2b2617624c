"""A class graded by 1, 2 and 4 workers claiming from one PostgreSQL gradebook · 多进程认领评分基准.

    python bench/claim_workers.py [--students 24] [--assignment 01_perceptron ...]
                                  [--workers 1 2 4] [--keys 12000] [--keep DIR]

Needs PostgreSQL's server programs (Debian's ``postgresql``): a throwaway server is started
on loopback (tests/pgserver.py) and removed at the end.

1. **Workers.** Writes a class (``--students`` submissions spread round-robin across the
   assignments, samples cycled as in bench/grade_class.py), then, for each count N of
   ``--workers``, grades the whole class into a new database with N processes of
   ``python -m grader grade SOURCE --db-url … --jobs 1`` started at once, each with its
   own ``--out``: they claim submissions from the gradebook until none is left. Printed
   per N: wall time (first start to last exit), the class's throughput and each worker's,
   both as ratios against the 1-worker run of this same session, how many submissions
   each worker took, the mean time from a worker's start to its first claim (collecting
   the class, loading the grader), and the mean time a claim was held (grading one
   notebook, as the worker saw it); then, from the 1-worker run, that time per assignment:
   one process grading one notebook at a time, the cost of a notebook in core-seconds
   (on a machine with other work, an upper bound). Every run must record every
   submission exactly once with the same scores, or the exit status is 1. (CPU time is
   not reported: a sandbox's processes are reaped outside the grader's process tree.)
2. **The queue alone.** ``--keys`` synthetic submissions (12,000 by default: a 2,000-student
   course of six assignments) registered by one worker, then claimed and completed with a
   tiny result, as fast as possible, by 1 and by 4 claimers at once: what claiming costs
   per notebook at that scale, next to what grading one costs.

The machine may be shared and noisy: the load average is printed before and after each
run, with the number of cores. With N workers of one process each on C cores, the class
cannot go faster than min(N, C) times the 1-worker run: past C, each worker's throughput
falls as they share the cores (the point of the 4-worker run on a 2-core machine is that
nothing is lost or doubled, and what oversubscription costs).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

from grade_class import describe_class, load, per_minute, plan_class, write_class  # noqa: E402

from grader.course.demo import expected_score  # noqa: E402
from grader.paths import assignments as all_assignments  # noqa: E402


def _claims(url: str) -> list[dict]:
    import sqlalchemy

    from grader.record.queue import driver_url

    engine = sqlalchemy.create_engine(driver_url(url))
    with engine.connect() as conn:
        rows = conn.execute(sqlalchemy.text(
            "SELECT student, assignment, state, worker, completions, seconds, "
            "extract(epoch from claimed_at), extract(epoch from done_at) FROM nnfs_claim")).all()
    engine.dispose()
    return [dict(student=r[0], assignment=r[1], state=r[2], worker=r[3], completions=r[4],
                 seconds=r[5], claimed=float(r[6] or 0), done=float(r[7] or 0)) for r in rows]


def _scores(url: str) -> dict:
    from nbgrader import api

    from grader.record.queue import driver_url

    with api.Gradebook(driver_url(url)) as gb:
        return {(s.student.id, s.assignment.name): (float(s.score), float(s.max_score))
                for s in gb.db.query(api.SubmittedAssignment).all()}


def run_workers(count: int, submitted: Path, root: Path, url: str) -> dict:
    """N workers at once over the class; what they did."""
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           "NNFS_COURSE_SECRET": os.environ.get("NNFS_COURSE_SECRET", "bench-secret-" + "0" * 20)}
    for name in ("NNFS_COURSE_SECRET_FILE", "NNFS_RUN_ID", "SLURM_ARRAY_TASK_ID",
                 "JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"):
        env.pop(name, None)
    load_before = load()
    started = time.time()
    processes = [subprocess.Popen(
        [sys.executable, "-m", "grader", "grade", str(submitted), "--out",
         str(root / f"out_{count}_{k}"), "--db-url", url, "--jobs", "1", "--quiet"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for k in range(count)]
    errors = [p.communicate()[1] for p in processes]
    wall = time.time() - started
    failed = [(p.returncode, e[-2000:]) for p, e in zip(processes, errors) if p.returncode]
    claims = _claims(url)
    by_worker: dict[str, list[dict]] = {}
    for c in claims:
        by_worker.setdefault(c["worker"], []).append(c)
    first = [min(c["claimed"] for c in rows) - started for rows in by_worker.values()]
    return dict(wall=wall, failed=failed, claims=claims, load=(load_before, load()),
                taken=sorted((len(rows) for rows in by_worker.values()), reverse=True),
                startup=statistics.mean(first) if first else 0.0,
                held=statistics.mean(c["seconds"] for c in claims if c["seconds"] is not None))


def bench_queue(url: str, keys: int) -> list[tuple[int, float, float]]:
    """(claimers, seconds to register, claims completed per second) for 1 and 4 claimers."""
    from grader.record.queue import Claims
    from grader.record.results import NotebookResult, SubmissionResult

    class_keys = [(f"s{i:05d}", f"0{i % 6 + 1}_x", f"print{i}") for i in range(keys)]
    tiny = SubmissionResult("s", "a", [NotebookResult("s", "a", "n.ipynb")])
    rows = []
    for claimers in (1, 4):
        database = url.rsplit("/", 1)[0] + "/" + _new_database(url, f"queue_{claimers}")
        start = time.perf_counter()
        Claims(database, "register").register(class_keys)
        registered = time.perf_counter() - start
        workers = [Claims(database, f"w{k}") for k in range(claimers)]
        for w in workers:
            w.register(class_keys)
        done = [0] * claimers
        start = time.perf_counter()
        threads = [threading.Thread(target=_claim_all, args=(w, k, done, tiny))
                   for k, w in enumerate(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.perf_counter() - start
        assert sum(done) == keys, (done, keys)
        for w in workers:
            w.close()
        rows.append((claimers, registered, keys / seconds))
    return rows


def _claim_all(claims, k: int, done: list[int], result) -> None:
    while (claim := claims.claim()) is not None:
        with claims.completing(claim, result):
            pass
        done[k] += 1


def _new_database(url: str, name: str) -> str:
    import sqlalchemy

    from grader.record.queue import driver_url

    engine = sqlalchemy.create_engine(driver_url(url.rsplit("/", 1)[0] + "/postgres"),
                                      isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return name


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--students", type=int, default=24,
                   help="submissions in total, spread across the assignments (default 24)")
    p.add_argument("--assignment", action="append", default=None,
                   help="only this assignment (repeatable; default: all six)")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    p.add_argument("--keys", type=int, default=12000,
                   help="synthetic submissions for the queue alone (0: skip it)")
    p.add_argument("--keep", help="keep the grading folder here (must be new or empty)")
    args = p.parse_args(argv)
    if 1 not in args.workers:
        p.error("--workers must include 1: the other runs are measured against it")

    import pgserver

    known = all_assignments()
    chosen = [a for a in known if a in (args.assignment or known)]
    root = Path(args.keep or tempfile.mkdtemp(prefix="nnfs-bench-claim-")).resolve()
    root.mkdir(parents=True, exist_ok=True)
    plan = plan_class(chosen, args.students)
    write_class(root / "submitted", plan)
    n = len(plan)
    cores = os.cpu_count() or 1
    print(f"{n} submissions across {len(chosen)} assignments in {root}")
    describe_class(plan, chosen)
    print(f"{cores} cores; load average (1, 5, 15 min) at the start: {load()}", flush=True)
    expected = {(s.student, s.assignment): expected_score(s.sample) for s in plan}

    status = 0
    with pgserver.server() as server:
        runs = {}
        for count in sorted(set(args.workers)):
            url = server.create_database(f"class_{count}")
            print(f"\n{count} worker(s) ...", flush=True)
            runs[count] = run = run_workers(count, root / "submitted", root, url)
            scores = _scores(url)
            once = all(c["state"] == "done" and c["completions"] == 1 for c in run["claims"])
            right = all(abs(scores.get(key, (-1, -1))[0] - want) < 1e-9
                        for key, want in expected.items() if want is not None)
            complete = len(run["claims"]) == n and set(scores) == set(expected)
            print(f"  {run['wall']:.1f} s; taken per worker {run['taken']}; every submission "
                  f"recorded once: {once and complete}; scores as expected: {right}; load "
                  f"{run['load'][0]} -> {run['load'][1]}", flush=True)
            if run["failed"] or not (once and right and complete):
                status = 1
                for code, err in run["failed"]:
                    print(f"  worker exit {code}:\n{err}")

        one = runs[1]
        base = per_minute(n, one["wall"])
        print(f"\n{'workers':>7} {'wall s':>8} {'class/min':>10} {'x 1 worker':>11} "
              f"{'per worker/min':>15} {'x 1 worker':>11} {'start s':>8} {'claim held s':>13}")
        for count, run in sorted(runs.items()):
            rate = per_minute(n, run["wall"])
            print(f"{count:>7} {run['wall']:>8.1f} {rate:>10.1f} {rate / base:>11.2f} "
                  f"{rate / count:>15.1f} {rate / count / base:>11.2f} {run['startup']:>8.1f} "
                  f"{run['held']:>13.2f}")
        print(f"(ratios against the 1-worker run above; {cores} cores: past {cores} workers of "
              "one process each they share the cores, so the class cannot go faster and each "
              "worker's share falls. start s: from a worker's start to its first claim. claim "
              "held s: claim to record, one notebook as its worker saw it)")
        print("\nthe 1-worker run, seconds a claim was held, per assignment (one process, one "
              "notebook at a time: core-seconds per notebook):")
        held = {}
        for c in one["claims"]:
            held.setdefault(c["assignment"], []).append(c["seconds"] or 0.0)
        for a in chosen:
            if a in held:
                print(f"  {a:<16} {statistics.mean(held[a]):6.2f}")
        every = [x for xs in held.values() for x in xs]
        print(f"  {'all, as mixed':<16} {statistics.mean(every):6.2f}")

        if args.keys:
            print(f"\nthe queue alone: {args.keys} synthetic submissions ...", flush=True)
            url = server.create_database("queue")
            for claimers, registered, rate in bench_queue(url, args.keys):
                print(f"  {claimers} claimer(s): registered in {registered:.2f} s, then "
                      f"{rate:,.0f} claims completed per second "
                      f"({1000 / rate * claimers:.2f} ms per claim and claimer)")
    print(f"\nload average at the end: {load()}")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
