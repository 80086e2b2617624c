"""Grade one class with the trusted grader and with serial ``nbgrader autograde`` · 评分基准.

    python bench/grade_class.py [--students 30] [--assignment 01_perceptron] [--jobs N]

Writes a class of synthetic submissions of one assignment (perfect, blank and the
partly wrong samples, in turn, under ids s001, s002, ...), then in the same run:

1. ``python -m grader grade`` on them (sandboxed, parallel);
2. ``nbgrader autograde`` on them (serial, one kernel per notebook), after its
   ``generate_assignment`` (not timed: a course does it once);

and prints both wall times, the throughput ratio, whether every score agrees, and
where the trusted grader's time goes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nbgrader.api import Gradebook  # noqa: E402

from grader import notebooks  # noqa: E402
from grader.build import run_nbgrader  # noqa: E402
from grader.demo import prepare_course_root  # noqa: E402
from grader.grade import grade  # noqa: E402
from grader.samples import samples_for  # noqa: E402


def write_class(submitted: Path, assignment: str, students: int) -> dict[str, str]:
    samples = samples_for(assignment)
    kinds = {}
    for i in range(students):
        sample = samples[i % len(samples)]
        student = f"s{i + 1:03d}"
        notebooks.write_clean(sample.notebook,
                              submitted / student / assignment / sample.notebook_name)
        kinds[student] = sample.student
    return kinds


def nbgrader_scores(root: Path, assignment: str) -> dict[str, float]:
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        return {s.student.id: float(s.score) for s in gb.find_assignment(assignment).submissions}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--students", type=int, default=30)
    p.add_argument("--assignment", default="01_perceptron")
    p.add_argument("--jobs", type=int, default=None)
    p.add_argument("--keep", help="keep the grading folder here")
    args = p.parse_args(argv)

    root = Path(args.keep or tempfile.mkdtemp(prefix="nnfs-bench-")).resolve()
    root.mkdir(parents=True, exist_ok=True)
    kinds = write_class(root / "submitted", args.assignment, args.students)
    print(f"{args.students} submissions of {args.assignment} in {root}  "
          f"(load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores)", flush=True)

    start = time.perf_counter()
    results = grade(root / "submitted", root / "trusted", jobs=args.jobs, quiet=True)
    trusted_time = time.perf_counter() - start
    trusted = {r.student: r.score for r in results}
    print(f"trusted grader:      {trusted_time:7.1f} s", flush=True)

    prepare_course_root(root)
    run_nbgrader(["generate_assignment", args.assignment, "--force"], cwd=root)
    start = time.perf_counter()
    run_nbgrader(["autograde", args.assignment, "--force"], cwd=root)
    nbgrader_time = time.perf_counter() - start
    in_kernel = nbgrader_scores(root, args.assignment)
    print(f"nbgrader autograde:  {nbgrader_time:7.1f} s (serial)", flush=True)

    n = args.students
    ratio = nbgrader_time / trusted_time
    print()
    print(f"throughput: trusted {60 * n / trusted_time:.1f} / min, "
          f"nbgrader {60 * n / nbgrader_time:.1f} / min")
    print(f"ratio (nbgrader time / trusted time): {ratio:.1f}x")
    differ = {s: (in_kernel.get(s), trusted.get(s)) for s in kinds
              if in_kernel.get(s) != trusted.get(s)}
    print("scores agree for every submission" if not differ else f"SCORES DIFFER: {differ}")

    report = json.loads((root / "trusted" / "report.json").read_text(encoding="utf-8"))
    notebooks_ = [nb for s in report["submissions"] for nb in s["notebooks"]]
    total = sum(nb["seconds"] for nb in notebooks_)
    checks = sum(c["seconds"] for nb in notebooks_ for c in nb["cells"])
    print()
    print("where the trusted grader's time goes (summed over workers):")
    print(f"  sandbox start + setup/solution cells: {total - checks:6.1f} s "
          f"({(total - checks) / len(notebooks_):.2f} s per notebook)")
    print(f"  instructor checks (trusted process):  {checks:6.1f} s "
          f"({checks / len(notebooks_):.2f} s per notebook)")
    print(f"  wall time not inside a notebook (torch import, gradebook, feedback, pool): "
          f"{trusted_time - total / max(1, args.jobs or os.cpu_count() or 1):.1f} s (approx.)")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return 0 if not differ else 1


if __name__ == "__main__":
    sys.exit(main())
