"""``python -m grader demo``: the whole pipeline on the bundled samples · 完整流程演示.

1. build ``course/`` from ``solutions/``;
2. write the sample submissions (perfect, blank, partly wrong) in nbgrader's
   ``submitted/`` layout inside a grading folder that git ignores;
3. run nbgrader itself: generate_assignment (gradebook), autograde,
   generate_feedback, export;
4. print the grade table, with what each sample is expected to score.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from nbgrader.api import Gradebook

from grader.checks import messages as M
from grader import notebooks
from grader.course.build import build, run_nbgrader
from grader.paths import GRADING, REPO, SOLUTIONS, assignments
from grader.course.samples import Sample, write_submissions

__all__ = ["demo", "prepare_course_root", "autograde_all", "gradebook_scores", "expected_score"]

M.register(
    {
        "demo_build": ("[1/5] building course/ from solutions/", "[1/5] 由 solutions/ 生成 course/"),
        "demo_samples": ("[2/5] writing sample submissions to {path}", "[2/5] 把示例提交写入 {path}"),
        "demo_autograde": (
            "[3/5] autograding with nbgrader (every notebook runs in a kernel; a few minutes)",
            "[3/5] 用 nbgrader 自动评分（每个 notebook 都在内核中运行，需要几分钟）",
        ),
        "demo_read": ("[4/5] reading the gradebook", "[4/5] 读取成绩册"),
        "demo_table": (
            "[5/5] grade table (perfect = full marks, blank = 0, the others lose the points "
            "of their mistakes)",
            "[5/5] 成绩表（perfect 满分，blank 零分，其余样本只失去出错部分的分数）",
        ),
        "demo_done": (
            "Done in {seconds:.0f} s. Feedback: {feedback}  Grades: {csv}",
            "完成，用时 {seconds:.0f} 秒。反馈：{feedback}  成绩：{csv}",
        ),
        "demo_mismatch": (
            "Unexpected: {student}/{assignment} scored {score}, expected {expected}.",
            "意外：{student}/{assignment} 得分 {score}，预期 {expected}。",
        ),
    }
)


def prepare_course_root(root: Path, solutions: Path = SOLUTIONS) -> None:
    """An nbgrader course folder at ``root`` whose source is this repository's solutions."""
    root.mkdir(parents=True, exist_ok=True)
    policy = (REPO / "nbgrader_config.py").read_text(encoding="utf-8")
    overrides = f"""
# --- grading folder made by python -m grader ---
c.CourseDirectory.root = {str(root)!r}
c.CourseDirectory.source_directory = {str(solutions.resolve())!r}
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = {"sqlite:///" + str(root / "gradebook.db")!r}
"""
    (root / "nbgrader_config.py").write_text(policy + overrides, encoding="utf-8")


def autograde_all(root: Path, ids: list[str]) -> None:
    for ident in ids:
        run_nbgrader(["generate_assignment", ident, "--force"], cwd=root)
        run_nbgrader(["autograde", ident, "--force"], cwd=root)
        run_nbgrader(["generate_feedback", ident, "--force"], cwd=root)
    run_nbgrader(["export", "--to", str(root / "grades.csv")], cwd=root)


def gradebook_scores(root: Path) -> dict[tuple[str, str], tuple[float, float]]:
    """(student, assignment) -> (score, max_score) as nbgrader recorded them."""
    scores = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for assignment in gb.assignments:
            for submission in assignment.submissions:
                scores[(submission.student.id, assignment.name)] = (
                    float(submission.score),
                    float(submission.max_score),
                )
    return scores


def test_points(assignment: str, solutions: Path = SOLUTIONS) -> dict[str, float]:
    points = {}
    for path in sorted((solutions / assignment).glob("*.ipynb")):
        for cell in notebooks.read(path).cells:
            if notebooks.is_test_cell(cell):
                points[notebooks.grade_id(cell)] = float(notebooks.nbgrader_meta(cell)["points"])
    return points


def expected_score(sample: Sample, solutions: Path = SOLUTIONS) -> float:
    points = test_points(sample.assignment, solutions)
    return sum(p for ident, p in points.items() if ident not in sample.fails)


def _table(samples: list[Sample], scores, ids: list[str]) -> tuple[str, list[str]]:
    students = sorted({s.student for s in samples}, key=lambda s: (s != "perfect", s != "blank", s))
    expected = {(s.student, s.assignment): expected_score(s) for s in samples}
    width = max(len(a) for a in ids) + 2
    lines = ["student · 学生".ljust(18) + "".join(a.rjust(width + 6) for a in ids)]
    problems = []
    for student in students:
        row = student.ljust(18)
        for ident in ids:
            if (student, ident) not in scores:  # no grade: fine only if nothing was submitted
                row += f"{'—':>{width}}" + " " * 6
                if (student, ident) in expected:
                    problems.append(M.bilingual("demo_mismatch", student=student, assignment=ident,
                                                score="—", expected=expected[(student, ident)]))
                continue
            score, top = scores[(student, ident)]
            row += f"{score:>{width}.0f} / {top:<3.0f}"
            want = expected.get((student, ident))
            if want is not None and abs(score - want) > 1e-9:
                problems.append(M.bilingual("demo_mismatch", student=student, assignment=ident,
                                            score=score, expected=want))
        lines.append(row)
    return "\n".join(lines), problems


def demo(out: Path | None = None) -> int:
    start = time.monotonic()
    root = (out or GRADING / "demo").resolve()
    ids = assignments()

    def step(key: str, **values) -> None:
        print(M.bilingual(key, **values), flush=True)

    step("demo_build")
    build(ids)

    step("demo_samples", path=root / "submitted")
    for name in ("submitted", "autograded", "feedback", "release"):
        shutil.rmtree(root / name, ignore_errors=True)
    (root / "gradebook.db").unlink(missing_ok=True)
    prepare_course_root(root)
    samples = write_submissions(root / "submitted", ids)

    step("demo_autograde")
    autograde_all(root, ids)

    step("demo_read")
    table, problems = _table(samples, gradebook_scores(root), ids)

    step("demo_table")
    print()
    print(table)
    print()
    for problem in problems:
        print(problem)
    print(M.en("demo_done", seconds=time.monotonic() - start, feedback=root / "feedback",
               csv=root / "grades.csv"))
    print(M.zh("demo_done", seconds=time.monotonic() - start, feedback=root / "feedback",
               csv=root / "grades.csv"))
    return 1 if problems else 0
