"""Grade one class with the trusted grader and with serial ``nbgrader autograde`` · 全班评分基准.

    python bench/grade_class.py [--students 200] [--assignment 01_perceptron ...] [--jobs N]
                                [--keep DIR]

Writes a class of synthetic submissions (``--students``, 200 by default, is the number of
submissions in total) spread round-robin across the six assignments (or the ones named by
``--assignment``, repeatable): submission i goes to assignment ``i mod A`` of student
``s{i div A + 1}``, so a student hands in every assignment in turn and ids run s001, s002, ...
Each assignment's submissions cycle through its samples from :mod:`grader.course.samples`
(perfect, blank, and the partly wrong ones of ``samples/<assignment>/``), starting at a
different sample for each assignment, so that even a small class has every kind. Then, in
the same run and on the same files:

1. the trusted grader on the whole class: ``grader.record.batch.grade(submitted, trusted,
   jobs=--jobs, quiet=True)`` (sandboxed, parallel; all cores by default);
2. serial ``nbgrader autograde`` of the same class, one assignment after another (one
   kernel at a time), after ``nbgrader generate_assignment`` of every assignment, which
   is not timed (a course does it once).

It prints:

* the class: submissions per assignment and per kind of sample;
* wall time and throughput (submissions per minute) of both graders side by side, and the
  ratio of their wall times (measured, never extrapolated: both graded this class);
* nbgrader's wall time per assignment, next to the trusted grader's notebook time for that
  assignment summed over its workers (not a wall time: the workers overlap);
* whether every score agrees: nbgrader's gradebook against the trusted grader, for each
  (student, assignment), and each against the score its sample is built to get;
* the load average at the start, after the trusted grader and at the end, with the number
  of cores and how much of it this run adds itself: the machine may be shared and noisy,
  and load beyond this run's own means other work competed with it, so the numbers
  should be taken again;
* where the trusted grader's time goes (sandbox start and student cells, instructor
  checks, and what is outside any notebook).

Exit status 1 if any score disagrees. The grading folder is a temporary one, removed at
the end, unless ``--keep DIR`` (which must be new or empty) keeps it. It takes a while:
nbgrader executes every notebook (05 and 06 take about 25 s each on one core), so a
12-submission class (two of each assignment) takes about five minutes on two cores and the
default 200 over an hour; progress is printed as each grader and each assignment finishes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader import notebooks
from grader.course.build import run_nbgrader  # noqa: E402
from grader.course.demo import expected_score, gradebook_scores, prepare_course_root  # noqa: E402
from grader.course.samples import Sample, samples_for  # noqa: E402
from grader.paths import assignments as all_assignments  # noqa: E402
from grader.record.batch import grade  # noqa: E402


@dataclass
class Submission:
    student: str
    assignment: str
    sample: Sample


def plan_class(assignments: list[str], count: int) -> list[Submission]:
    """``count`` submissions, round-robin over ``assignments``, samples cycled per assignment."""
    samples = {a: samples_for(a) for a in assignments}
    width = max(3, len(str((count - 1) // len(assignments) + 1)))
    plan = []
    for i in range(count):
        j, k = i % len(assignments), i // len(assignments)
        assignment = assignments[j]
        options = samples[assignment]
        plan.append(Submission(f"s{k + 1:0{width}d}", assignment, options[(k + j) % len(options)]))
    return plan


def write_class(submitted: Path, plan: list[Submission]) -> None:
    for s in plan:
        notebooks.write_clean(s.sample.notebook,
                              submitted / s.student / s.assignment / s.sample.notebook_name)


def load() -> str:
    return " ".join(f"{x:5.2f}" for x in os.getloadavg())


def per_minute(count: int, seconds: float) -> float:
    return 60 * count / seconds if seconds > 0 else float("inf")


def describe_class(plan: list[Submission], assignments: list[str]) -> None:
    for a in assignments:
        kinds = Counter(s.sample.student for s in plan if s.assignment == a)
        mix = ", ".join(f"{kind} {n}" for kind, n in kinds.items())
        print(f"  {a:<16} {sum(kinds.values()):4d}  ({mix})")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--students", type=int, default=200,
                   help="submissions in total, spread across the assignments (default 200)")
    p.add_argument("--assignment", action="append", default=None,
                   help="grade only this assignment (repeatable; default: all six)")
    p.add_argument("--jobs", type=int, default=None,
                   help="trusted grader's worker processes (default: all cores)")
    p.add_argument("--keep", help="keep the grading folder here (must be new or empty)")
    args = p.parse_args(argv)

    known = all_assignments()
    chosen = args.assignment or known
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        p.error(f"unknown assignment(s) {unknown}; known: {known}")
    chosen = [a for a in known if a in chosen]  # course order, no duplicates
    if args.students < 1:
        p.error("--students must be at least 1")
    if args.keep and Path(args.keep).exists() and any(Path(args.keep).iterdir()):
        p.error(f"--keep {args.keep} is not empty: a grader would skip or mix in old results")

    root = Path(args.keep or tempfile.mkdtemp(prefix="nnfs-bench-")).resolve()
    root.mkdir(parents=True, exist_ok=True)
    plan = plan_class(chosen, args.students)
    write_class(root / "submitted", plan)
    n = len(plan)
    cores = os.cpu_count() or 1
    jobs = args.jobs or cores
    students = len({s.student for s in plan})
    print(f"{n} submissions of {students} students across {len(chosen)} assignments in {root}")
    describe_class(plan, chosen)
    load_start = load()
    print(f"{cores} cores; load average at the start (1, 5, 15 min): {load_start}", flush=True)

    print(f"\ntrusted grader ({jobs} jobs) ...", flush=True)
    start = time.perf_counter()
    results = grade(root / "submitted", root / "trusted", jobs=args.jobs, quiet=True)
    trusted_time = time.perf_counter() - start
    # nbgrader's maximum counts the written answers graded by hand (they wait, at 0, in its
    # score as in ours); the trusted grader keeps their points apart from its own total
    trusted = {(r.student, r.assignment): (float(r.score), float(r.max_score + r.by_hand_points))
               for r in results}
    print(f"  done in {trusted_time:.1f} s", flush=True)
    load_middle = load()

    prepare_course_root(root)
    for a in chosen:  # not timed: a course generates its assignments once
        run_nbgrader(["generate_assignment", a, "--force"], cwd=root)
    print("nbgrader autograde (serial) ...", flush=True)
    nbgrader_wall: dict[str, float] = {}
    for a in chosen:
        start = time.perf_counter()
        run_nbgrader(["autograde", a, "--force"], cwd=root)
        nbgrader_wall[a] = time.perf_counter() - start
        print(f"  {a:<16} {nbgrader_wall[a]:7.1f} s", flush=True)
    nbgrader_time = sum(nbgrader_wall.values())
    in_kernel = gradebook_scores(root)
    load_end = load()

    report = json.loads((root / "trusted" / "report.json").read_text(encoding="utf-8"))
    if report.get("reused"):  # a fresh folder: every submission must have been graded now
        print(f"WARNING: the trusted grader reused {report['reused']} earlier results; its "
              "time is not that of the whole class")
    print()
    print(f"{'':<28}{'trusted grader':>24}{'nbgrader autograde':>24}")
    print(f"{'how':<28}{f'{jobs} jobs, sandbox ' + report['sandbox']:>24}"
          f"{'serial, 1 kernel':>24}")
    print(f"{'wall time (s)':<28}{trusted_time:>24.1f}{nbgrader_time:>24.1f}")
    print(f"{'throughput (submissions/min)':<28}{per_minute(n, trusted_time):>24.1f}"
          f"{per_minute(n, nbgrader_time):>24.1f}")
    print(f"{'seconds per submission':<28}{trusted_time / n:>24.2f}{nbgrader_time / n:>24.2f}")
    print(f"ratio, nbgrader wall time / trusted wall time: {nbgrader_time / trusted_time:.1f}x "
          f"(both measured on these {n} submissions)")

    notebooks_ = [(s["assignment"], nb) for s in report["submissions"] for nb in s["notebooks"]]
    print()
    print(f"{'assignment':<16} {'subs':>4} {'nbgrader wall s':>16} {'s/sub':>7} "
          f"{'trusted worker s':>17} {'s/sub':>7}")
    for a in chosen:
        count = sum(1 for s in plan if s.assignment == a)
        worker = sum(nb["seconds"] for name, nb in notebooks_ if name == a)
        print(f"{a:<16} {count:>4} {nbgrader_wall[a]:>16.1f} {nbgrader_wall[a] / count:>7.2f} "
              f"{worker:>17.1f} {worker / count:>7.2f}")
    print("(trusted worker s: notebook time summed over the parallel workers, not a wall time)")

    print()
    differ, unexpected = [], []
    for s in plan:
        key = (s.student, s.assignment)
        ours, theirs = trusted.get(key), in_kernel.get(key)
        if ours is None or theirs is None or abs(ours[0] - theirs[0]) > 1e-9 \
                or abs(ours[1] - theirs[1]) > 1e-9:
            differ.append(f"{s.student}/{s.assignment} ({s.sample.student}): "
                          f"nbgrader {theirs}, trusted {ours}")
        want = expected_score(s.sample)
        if ours is None or abs(ours[0] - want) > 1e-9:
            unexpected.append(f"{s.student}/{s.assignment} ({s.sample.student}): "
                              f"trusted {ours}, expected {want}")
    if differ:
        print(f"SCORES DIFFER for {len(differ)} of {n} submissions (nbgrader gradebook vs trusted):")
        for line in differ:
            print(f"  {line}")
    else:
        print(f"scores agree for all {n} submissions (nbgrader gradebook == trusted grader)")
    if unexpected:
        print(f"{len(unexpected)} submissions did not get their sample's expected score:")
        for line in unexpected:
            print(f"  {line}")
    else:
        print("and every score is the one its sample is built to get")

    print()
    print(f"load average (1, 5, 15 min) on {cores} cores:")
    for when, value in (("start", load_start), ("after the trusted grader", load_middle),
                        ("end (after nbgrader)", load_end)):
        print(f"  {when:<26}{value}")
    print(f"This run itself adds about {min(jobs, n)} while the trusted grader runs and about 1 "
          "while nbgrader runs; more than that is other work on a shared, noisy machine, which "
          "slows the parallel trusted grader most: take the numbers again before trusting the "
          "ratio.")

    total = sum(nb["seconds"] for _, nb in notebooks_)
    checks = sum(c["seconds"] for _, nb in notebooks_ for c in nb["cells"])
    count = max(1, len(notebooks_))
    print()
    print("where the trusted grader's time goes (summed over workers):")
    print(f"  sandbox start + setup/solution cells: {total - checks:7.1f} s "
          f"({(total - checks) / count:.2f} s per notebook)")
    print(f"  instructor checks (trusted process):  {checks:7.1f} s "
          f"({checks / count:.2f} s per notebook)")
    print(f"  wall time not inside a notebook (torch import, gradebook, feedback, pool): "
          f"{trusted_time - total / max(1, min(jobs, n)):.1f} s (approx.: worker time / jobs "
          f"subtracted from the wall time)")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if differ or unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
