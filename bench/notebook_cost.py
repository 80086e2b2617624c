"""Where one notebook's grading time goes, per assignment · 单个 notebook 的评分时间花在哪里.

    python bench/notebook_cost.py [ASSIGNMENT ...] [--repeat 3]

Grades the *perfect* sample of each assignment (all six by default) with the trusted
grader, one notebook at a time in this process, and prints per assignment:

* ``total``      wall time of ``grade_notebook`` (sandbox start to last cell);
* ``load``       starting the sandbox and running the student's setup and solution cells;
* ``crossings``  requests sent to the sandbox (each is a round trip);
* ``in sandbox`` time spent waiting for those requests (the student's code, the wire);
* ``trusted``    the rest: references (torch), comparisons, messages;
* ``ratio``      total divided by the cheapest assignment's total (the target: at most 3).

The best of ``--repeat`` runs is shown; the runs go round the assignments in turn, so that
a busy spell of a shared machine slows them all (a ratio in one run is what to compare,
never a time from another day).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader import notebooks  # noqa: E402
from grader.course.samples import samples_for  # noqa: E402
from grader.paths import assignments  # noqa: E402
from grader.record import session as session_module  # noqa: E402
from grader.record.notebook import Options, grade_notebook, warm_up  # noqa: E402
from grader.record.source import load_assignment  # noqa: E402


class Meter:
    """Counts the requests a Session sends and the time spent waiting for them."""

    def __init__(self) -> None:
        self.requests = 0
        self.waiting = 0.0
        self.load = 0.0
        original = session_module.Session._request
        original_load = session_module.Session.load
        meter = self

        def request(self, payload, buffers):
            started = time.perf_counter()
            try:
                return original(self, payload, buffers)
            finally:
                meter.requests += 1
                meter.waiting += time.perf_counter() - started

        def load(self, items, config, timeout):
            started = time.perf_counter()
            try:
                return original_load(self, items, config, timeout)
            finally:
                meter.load += time.perf_counter() - started

        session_module.Session._request = request
        session_module.Session.load = load

    def reset(self) -> None:
        self.requests, self.waiting, self.load = 0, 0.0, 0.0


def measure(assignment: str, folder: Path, meter: Meter) -> dict:
    sample = next(s for s in samples_for(assignment) if s.student == "perfect")
    path = folder / assignment / sample.notebook_name
    notebooks.write_clean(sample.notebook, path)
    source = load_assignment(assignment)
    meter.reset()
    started = time.perf_counter()
    result = grade_notebook(path, "bench", source, source.notebooks[0], Options())
    total = time.perf_counter() - started
    return {"total": total, "load": meter.load, "crossings": meter.requests,
            "sandbox": meter.waiting - meter.load, "trusted": total - meter.waiting,
            "score": f"{result.score:g}/{result.max_score:g}"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per assignment (best shown)")
    args = parser.parse_args(argv)
    chosen = args.assignments or assignments()
    warm_up()
    meter = Meter()
    with tempfile.TemporaryDirectory(prefix="nnfs-bench-") as tmp:
        measure(chosen[0], Path(tmp), meter)  # the sandbox image and imports, once
        runs: dict[str, list[dict]] = {assignment: [] for assignment in chosen}
        for _ in range(max(1, args.repeat)):  # round after round: a busy spell of a shared
            for assignment in chosen:        # machine slows every assignment, not one
                runs[assignment].append(measure(assignment, Path(tmp), meter))
        rows = {assignment: min(found, key=lambda r: r["total"])
                for assignment, found in runs.items()}
    cheapest = min(r["total"] for r in rows.values())
    print(f"{'assignment':<17}{'total s':>8}{'load s':>8}{'crossings':>10}{'in sandbox s':>13}"
          f"{'trusted s':>10}{'ratio':>7}  score")
    for assignment, r in rows.items():
        print(f"{assignment:<17}{r['total']:8.2f}{r['load']:8.2f}{r['crossings']:10d}"
              f"{r['sandbox']:13.2f}{r['trusted']:10.2f}{r['total'] / cheapest:7.1f}  {r['score']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
