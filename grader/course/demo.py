"""``python -m grader demo``: the whole pipeline on the bundled samples · 完整流程演示.

1. build ``course/`` from ``solutions/``;
2. write the sample submissions (perfect, blank, partly wrong; :mod:`grader.course.samples`)
   in nbgrader's ``submitted/`` layout inside a grading folder that git ignores;
3. grade them with the grade of record (:func:`grader.record.batch.grade`, the solutions'
   seeds as nbgrader uses them): a progress line per submission with an ETA, then the
   summary; ``grades.csv``, ``feedback/``, ``report.html``, … in the grading folder;
4. print the grade table (it fits 100 columns), checking that every sample got the score
   it is written to get. With ``--compare``, nbgrader's own in-kernel autograde runs too
   (in ``nbgrader/`` of the grading folder) and its score is shown beside each.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from nbgrader.api import Gradebook

from grader import notebooks
from grader.checks import messages as M
from grader.course.build import build, run_nbgrader_steps
from grader.course.samples import Sample, write_submissions
from grader.paths import GRADING, REPO, SOLUTIONS, assignments
from grader.record.terminal import short_number

__all__ = ["demo", "prepare_course_root", "autograde_all", "gradebook_scores", "expected_score",
           "grade_table"]

M.register(
    {
        "demo_build": ("[1/4] building course/ from solutions/", "[1/4] 由 solutions/ 生成 course/"),
        "demo_samples": ("[2/4] writing {count} sample submissions to {path}",
                         "[2/4] 把 {count} 份示例提交写入 {path}"),
        "demo_grade": (
            "[3/4] grading them with the grade of record (sandboxed, as `python -m grader grade`)",
            "[3/4] 用正式评分程序为它们评分（在沙箱中，与 `python -m grader grade` 相同）",
        ),
        "demo_table": (
            "[4/4] grade table (perfect = full marks, blank = 0, the others lose the points "
            "of their mistakes; — = not submitted)",
            "[4/4] 成绩表（perfect 满分，blank 零分，其余样本只失去出错部分的分数；— 表示未提交）",
        ),
        "demo_compare": (
            "      in brackets: nbgrader's own in-kernel autograde of the same notebook",
            "      括号中：nbgrader 自己在内核中自动评分的结果",
        ),
        "demo_nbgrader": (
            "running nbgrader's own autograde for --compare (every notebook in a kernel; a few "
            "minutes) …",
            "为 --compare 运行 nbgrader 自己的自动评分（每个 notebook 都在内核中运行，需要几分钟）……",
        ),
        "demo_columns": ("columns: {legend}", "各列：{legend}"),
        "demo_done": (
            "Done in {seconds} s. Feedback: {feedback}  Grades: {csv}  Class report: {report}",
            "完成，用时 {seconds} 秒。反馈：{feedback}  成绩：{csv}  全班报告：{report}",
        ),
        "demo_mismatch": (
            "Unexpected: {student}/{assignment} scored {score}, expected {expected}.",
            "意外：{student}/{assignment} 得分 {score}，预期 {expected}。",
        ),
        "demo_disagree": (
            "nbgrader and the grade of record disagree on {student}/{assignment}: {nbgrader} "
            "against {trusted}.",
            "nbgrader 与正式评分对 {student}/{assignment} 的结果不一致：{nbgrader} 对 {trusted}。",
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
    """nbgrader's own pipeline on the class in ``root/submitted``: generate, autograde and
    feedback for each assignment, then the grades export (one process for all of it)."""
    steps = [[command, ident, "--force"] for ident in ids
             for command in ("generate_assignment", "autograde", "generate_feedback")]
    run_nbgrader_steps([*steps, ["export", "--to", str(root / "grades.csv")]], cwd=root)


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



def grade_table(samples: list[Sample], scores: dict[tuple[str, str], tuple[float, float]],
                ids: list[str], nbgrader: dict[tuple[str, str], tuple[float, float]] | None = None,
                solutions: Path = SOLUTIONS) -> tuple[str, list[str]]:
    """The table (a row per sample student, a column per assignment, headed by its number)
    and the problems: a sample that did not get its expected score, or (with ``nbgrader``)
    a score nbgrader's own autograde disagrees with."""
    students = sorted({s.student for s in samples}, key=lambda s: (s != "perfect", s != "blank", s))
    expected = {(s.student, s.assignment): expected_score(s, solutions) for s in samples}
    width = 12 if nbgrader is not None else 9
    lines = ["student · 学生" + " " * 4 + "".join(a.split("_", 1)[0].rjust(width) for a in ids)]
    problems = []
    for student in students:
        row = student[:17].ljust(18)
        for ident in ids:
            key = (student, ident)
            if key not in scores:  # no grade: fine only if nothing was submitted
                row += "—".rjust(width)
                if key in expected:
                    problems.append(M.bilingual("demo_mismatch", student=student,
                                                assignment=ident, score="—",
                                                expected=short_number(expected[key])))
                continue
            score, top = scores[key]
            cell = f"{short_number(score)}/{short_number(top)}"
            if nbgrader is not None:
                other = nbgrader.get(key)
                cell += f" ({short_number(other[0])})" if other else " (—)"
                if other is None or abs(other[0] - score) > 1e-9:
                    problems.append(M.bilingual(
                        "demo_disagree", student=student, assignment=ident,
                        nbgrader=short_number(other[0]) if other else "—", trusted=short_number(score)))
            want = expected.get(key)
            if want is not None and abs(score - want) > 1e-9:
                cell += "!"
                problems.append(M.bilingual("demo_mismatch", student=student, assignment=ident,
                                            score=short_number(score), expected=short_number(want)))
            row += cell.rjust(width)
        lines.append(row)
    legend = "  ".join(f"{a.split('_', 1)[0]} {a.split('_', 1)[-1]}" for a in ids)
    lines += ["", *M.bilingual("demo_columns", legend=legend).split("\n")]
    return "\n".join(lines), problems


def _clear_old_layout(root: Path) -> None:
    """A grading folder made by the nbgrader-only demo of earlier versions is replaced: its
    gradebook and feedback would mix with the grade of record's."""
    if (root / "release").is_dir() or (root / "nbgrader_config.py").is_file():
        for name in ("submitted", "autograded", "feedback", "release"):
            shutil.rmtree(root / name, ignore_errors=True)
        for name in ("gradebook.db", "grades.csv", "nbgrader_config.py"):
            (root / name).unlink(missing_ok=True)


def demo(out: Path | None = None, compare: bool = False, jobs: int | None = None) -> int:
    from grader.record.batch import grade
    from grader.record.config import load_limits
    from grader.record.notebook import Options

    start = time.monotonic()
    root = (out or GRADING / "demo").resolve()
    ids = assignments()

    def step(key: str, **values) -> None:
        print(M.bilingual(key, **values), flush=True)

    step("demo_build")
    build(ids)

    root.mkdir(parents=True, exist_ok=True)
    _clear_old_layout(root)
    shutil.rmtree(root / "submitted", ignore_errors=True)
    samples = write_submissions(root / "submitted", ids)
    step("demo_samples", count=len(samples), path=root / "submitted")

    step("demo_grade")
    limits, by_notebook = load_limits()
    options = Options(limits=limits, limits_by_notebook=by_notebook, hidden_seeds=None)
    results = grade(root / "submitted", root, options=options, jobs=jobs)
    scores = {(r.student, r.assignment): (r.score, r.max_score) for r in results}

    theirs = None
    if compare:
        step("demo_nbgrader")
        other = root / "nbgrader"
        for name in ("submitted", "autograded", "feedback", "release"):
            shutil.rmtree(other / name, ignore_errors=True)
        (other / "gradebook.db").unlink(missing_ok=True)
        prepare_course_root(other)
        write_submissions(other / "submitted", ids)
        autograde_all(other, ids)
        theirs = gradebook_scores(other)

    step("demo_table")
    if compare:
        step("demo_compare")
    table, problems = grade_table(samples, scores, ids, theirs)
    print()
    print(table)
    print()
    for problem in problems:
        print(problem)
    print(M.bilingual("demo_done", seconds=f"{time.monotonic() - start:.0f}",
                      feedback=root / "feedback", csv=root / "grades.csv",
                      report=root / "report.html"))
    return 1 if problems else 0
