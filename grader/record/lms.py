"""Grades and feedback in the files an LMS imports · 导出为 LMS 可导入的文件.

``python -m grader export OUT --lms canvas|moodle`` (or ``grade … --lms …``) reads what a
class run wrote in ``OUT`` (``report.json``, ``collect.json``, ``feedback/``) and writes, in
``OUT/lms/``:

**Canvas** (Grades → Import, the gradebook CSV layout):

* ``canvas-grades.csv``: ``Student, ID, SIS User ID, SIS Login ID, Section``, then a column
  per assignment, named ``01_perceptron`` (Canvas creates that assignment) or
  ``01_perceptron (12345)`` when ``--assignment-id 01_perceptron=12345`` names the Canvas
  assignment to fill; the second row is ``Points Possible``. ``ID`` is the Canvas user id
  that Canvas's submission download puts in each file name; for a student who did not come
  from a Canvas download, ``ID`` is empty and ``SIS Login ID`` holds the student id (their
  folder's name), which Canvas matches when it is their login.
* ``canvas-feedback-<assignment>.zip``: each feedback page named like the student's upload
  (``<login>_<user id>_<submission id>_perceptron-feedback.html``), for the assignment's
  *Upload submissions* (re-upload) action, which attaches them as comments.

**Moodle** (the assignment's *Upload grading worksheet*, and the gradebook's CSV import):

* ``moodle-<assignment>.csv``: the grading worksheet of one assignment: ``Identifier``
  (``Participant <id>``, the participant id of Moodle's submission download),
  ``Full name``, ``Grade``, ``Maximum Grade``, ``Last modified (grade)``; only students
  whose files came from that download. The column names are those of a Moodle site in
  English (rename them for a site in another language).
* ``moodle-gradebook.csv``: ``Username`` and a column per assignment, for Grades → Import →
  CSV file with "Map from: Username" (when the student ids are Moodle usernames, e.g.
  JupyterHub home folders).
* ``moodle-feedback-<assignment>.zip``: feedback pages in folders named like Moodle's
  download (``<Full Name>_<id>_assignsubmission_file_/perceptron-feedback.html``), for
  *Upload multiple feedback files in a zip*.

A cell is **empty** when the student handed nothing in for the assignment, or when the
grader failed on it (status ``error``): the LMS then keeps whatever it had. With
``--missing-as-zero``, no submission is 0 (a grader failure stays empty).

A grade is the whole assignment's, as the gradebook of the run (``OUT/gradebook.db`` or
``--db-url``) has it, summed as nbgrader sums it: the written answers' grades given by hand
in formgrader, any autograded cell's score the instructor overrode there, the autograded
scores, and every extra credit; the maximum counts the autograded and the written answers'
points. Answers still waiting for a grade count 0 until they are graded, and the export
says how many wait: export again after grading them. Without a gradebook (or for a
submission it does not hold) the grade is the autograded score of ``report.json``, and the
export says so.
"""

from __future__ import annotations

import csv
import json
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from grader.checks import messages as M
from grader.record.outputs import NO_SCORE
from grader.record.owners import lms_upload
from grader.record.progress import number

__all__ = ["export", "LMSES", "CANVAS_COLUMNS", "MOODLE_WORKSHEET_COLUMNS", "ExportError"]

LMSES = ("canvas", "moodle")
CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_WORKSHEET_COLUMNS = ["Identifier", "Full name", "Grade", "Maximum Grade",
                            "Last modified (grade)"]

M.register(
    {
        "lms_no_report": (
            "{out} holds no report.json: grade the class there first (python -m grader grade "
            "SOURCE --out {out}).",
            "{out} 中没有 report.json：请先在那里为全班评分（python -m grader grade SOURCE --out {out}）。",
        ),
        "lms_bad_report": (
            "{path} cannot be read ({error}); grade the class again.",
            "无法读取 {path}（{error}）；请重新为全班评分。",
        ),
        "lms_bad_id": (
            "--assignment-id takes ASSIGNMENT=ID, e.g. 01_perceptron=12345 (got {value}).",
            "--assignment-id 的格式是 作业=ID，例如 01_perceptron=12345（收到的是 {value}）。",
        ),
        "lms_wrote": ("wrote {path}", "已写入 {path}"),
        "lms_hand_waiting": (
            "{count} written answers still wait for a grade by hand in formgrader ({points} "
            "points): they count 0 in these files. Grade them, then export again.",
            "还有 {count} 份文字作答等待在 formgrader 中人工评分（共 {points} 分）："
            "它们在这些文件中按 0 分计算。评完后请重新导出。",
        ),
        "lms_hand_review": (
            "{count} grades given by hand wait for review in formgrader (the student handed "
            "in again since): these files hold your earlier grades. Review them, then export "
            "again.",
            "有 {count} 个人工给出的分数在 formgrader 中等待复核（之后学生又重新提交了）：这些文件中是"
            "你之前给的分数。复核后请重新导出。",
        ),
        "lms_not_in_gradebook": (
            "{count} submissions are not in the gradebook ({some}): their grade here is the "
            "autograded part only. Run the same grade command with this gradebook (it puts "
            "back what it has graded), then export again.",
            "有 {count} 份提交不在成绩册中（{some}）：这里它们的成绩只含自动评分的部分。请用这个成绩册"
            "再次运行同样的 grade 命令（它会把已评分的结果重新写入），然后再导出。",
        ),
        "lms_no_gradebook": (
            "No gradebook at {url}: these files hold the autograded part only, without what "
            "is graded in formgrader (written answers: {points} points; overrides; extra "
            "credit). Give the run's --db-url.",
            "在 {url} 没有找到成绩册：这些文件只含自动评分的部分，不含在 formgrader 中评定的内容"
            "（文字作答共 {points} 分；改判；附加分）。请给出评分时的 --db-url。",
        ),
        "lms_bad_gradebook": (
            "The gradebook at {url} cannot be read ({error}); nothing was written.",
            "无法读取 {url} 处的成绩册（{error}）；没有写出任何文件。",
        ),
        "lms_not_matched": (
            "{count} students did not come from a {lms} download, so {lms} cannot match them "
            "by id: {students}",
            "{count} 名学生不是来自 {lms} 导出的下载，{lms} 无法按 id 匹配他们：{students}",
        ),
    }
)


class ExportError(ValueError):
    """A bilingual reason the export cannot be made."""


@dataclass
class _Class:
    """What the export needs from OUT."""

    rows: dict[tuple[str, str], dict] = field(default_factory=dict)  # (student, assignment)
    maxima: dict[str, float] = field(default_factory=dict)  # autograded
    hand_maxima: dict[str, float] = field(default_factory=dict)  # the written answers'
    recorded: dict[tuple[str, str], float] = field(default_factory=dict)  # the gradebook's
    students: dict[str, dict] = field(default_factory=dict)  # identities (collect.json)
    uploads: dict[tuple[str, str], str] = field(default_factory=dict)  # (student, a) -> origin

    @property
    def assignments(self) -> list[str]:
        return sorted({a for _, a in self.rows if a})

    @property
    def everyone(self) -> list[str]:
        return sorted({s for s, _ in self.rows} | set(self.students))

    def maximum(self, assignment: str) -> str:
        return number(self.maxima.get(assignment, 0) + self.hand_maxima.get(assignment, 0))

    def score(self, student: str, assignment: str, missing_as_zero: bool) -> str:
        return _score(self.rows.get((student, assignment)), missing_as_zero,
                      self.recorded.get((student, assignment)))


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, ValueError) as exc:
        raise ExportError(M.bilingual("lms_bad_report", path=path, error=exc)) from None


def _load(out: Path) -> _Class:
    report = out / "report.json"
    if not report.is_file():
        raise ExportError(M.bilingual("lms_no_report", out=out))
    data, found = _read(report), _Class()
    for row in data.get("submissions", []):
        assignment = row.get("assignment") or ""
        found.rows[(row["student"], assignment)] = row
        if assignment:
            found.maxima[assignment] = max(found.maxima.get(assignment, 0.0),
                                           float(row.get("max_score") or 0))
    found.students = dict(data.get("students") or {})
    collected = out / "collect.json"
    if collected.is_file():
        for item in _read(collected).get("collected", []):
            found.uploads.setdefault((item["student"], item["assignment"]), item["origin"])
        found.students = {**_read(collected).get("students", {}), **found.students}
    return found


def _written(row: dict) -> list[tuple[str, str, float, bool]]:
    """(notebook, answer cell, points, answered) of each written answer of a report row."""
    return [(Path(nb.get("notebook") or "").stem, w["grade_id"], float(w.get("points") or 0),
             bool(w.get("answered")))
            for nb in row.get("notebooks") or [] for w in nb.get("written") or []]


def _add_gradebook(klass: _Class, db_url: str | None, out: Path, say) -> None:
    """Each row's score as the gradebook has it, each maximum plus the written answers'
    points (see the module docstring); says what still waits."""
    wanted = {key: [(nb, ident, points) for nb, ident, points, _ in _written(row)]
              for key, row in klass.rows.items()
              if key[1] and row.get("status") not in NO_SCORE
              and "gradebook_failed" not in (row.get("flags") or [])}  # report.json is newer
    if not wanted:
        return
    url = db_url or f"sqlite:///{out / 'gradebook.db'}"
    local = url.split("sqlite:///", 1)[1] if url.startswith("sqlite:///") else None
    if local is not None and not Path(local).is_file():  # the autograded part alone, and why
        points = sum(p for row in klass.rows.values() for _, _, p, _ in _written(row))
        say(M.bilingual("lms_no_gradebook", url=local, points=number(points)))
        return  # (opening it would create an empty gradebook there)
    for key, row in klass.rows.items():
        assignment = key[1]
        if assignment:
            hand = sum(points for _, _, points, _ in _written(row))
            klass.hand_maxima[assignment] = max(klass.hand_maxima.get(assignment, 0.0), hand)
    from grader.record.gradebook import recorded_totals

    try:
        grades = recorded_totals(url, wanted)
    except Exception as exc:  # a wrong --db-url, a server down: one clear line, nothing written
        from grader.record.batch import _hide_password

        raise ExportError(M.bilingual("lms_bad_gradebook", url=_hide_password(url),
                                      error=f"{type(exc).__name__}: "
                                            + " ".join(str(exc).split())[:200])) from None
    waiting, points, review = 0, 0.0, 0
    for key, (score, still, still_points, to_review) in grades.items():
        klass.recorded[key] = score
        waiting, points, review = waiting + still, points + still_points, review + to_review
    if waiting:
        say(M.bilingual("lms_hand_waiting", count=waiting, points=number(points)))
    if review:
        say(M.bilingual("lms_hand_review", count=review))
    absent = sorted(f"{student}/{assignment}" for student, assignment in wanted
                    if (student, assignment) not in grades)
    if absent:
        say(M.bilingual("lms_not_in_gradebook", count=len(absent),
                        some=", ".join(absent[:5]) + (", …" if len(absent) > 5 else "")))


def _score(row: dict | None, missing_as_zero: bool, recorded: float | None = None) -> str:
    if row is None:
        return "0" if missing_as_zero else ""
    if row.get("status") in NO_SCORE:
        return ""
    return number(recorded if recorded is not None else float(row.get("score") or 0))


def parse_assignment_ids(values: list[str] | None) -> dict[str, str]:
    ids = {}
    for value in values or []:
        assignment, equals, ident = value.partition("=")
        if not equals or not assignment.strip() or not ident.strip():
            raise ExportError(M.bilingual("lms_bad_id", value=value))
        ids[assignment.strip()] = ident.strip()
    return ids


def _csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # utf-8-sig: Excel and both LMSes read the names as UTF-8
    with open(path, "w", newline="", encoding="utf-8-sig", errors="replace") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _safe(value: str) -> str:
    """A cell that never runs as a spreadsheet formula (OWASP CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _feedback_pages(out: Path, student: str, assignment: str) -> list[Path]:
    folder = out / "feedback" / student / assignment
    return sorted(folder.glob("*.html")) if folder.is_dir() else []


def _zip(path: Path, members: list[tuple[str, Path]]) -> Path | None:
    if not members:
        return None
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, page in members:
            archive.write(page, name)
    return path


def _canvas(klass: _Class, out: Path, target: Path, missing_as_zero: bool,
            assignment_ids: dict[str, str], feedback: bool) -> tuple[list[Path], list[str]]:
    assignments = klass.assignments
    columns = [f"{a} ({assignment_ids[a]})" if a in assignment_ids else a for a in assignments]
    rows = [["Points Possible", "", "", "", "", *[klass.maximum(a) for a in assignments]]]
    unmatched = []
    for student in klass.everyone:
        identity = klass.students.get(student, {})
        canvas = identity.get("lms") == "canvas" and identity.get("lms_id")
        if not canvas:
            unmatched.append(student)
        rows.append([_safe(identity.get("name") or student), identity.get("lms_id", "") if canvas
                     else "", "", "" if canvas else _safe(student), "",
                     *[klass.score(student, a, missing_as_zero) for a in assignments]])
    written = [_csv(target / "canvas-grades.csv", [*CANVAS_COLUMNS, *columns], rows)]
    if feedback:
        for assignment in assignments:
            members = []
            for student in klass.everyone:
                upload = lms_upload(klass.uploads.get((student, assignment), ""))
                if upload is None or upload.lms != "canvas":
                    continue
                members += [(f"{upload.prefix}{page.stem}-feedback.html", page)
                            for page in _feedback_pages(out, student, assignment)]
            made = _zip(target / f"canvas-feedback-{assignment}.zip", members)
            written += [made] if made else []
    return written, unmatched


def _moodle(klass: _Class, out: Path, target: Path, missing_as_zero: bool,
            feedback: bool) -> tuple[list[Path], list[str]]:
    assignments = klass.assignments
    now = time.strftime("%Y-%m-%d %H:%M:%S")
    written: list[Path] = []
    matched: set[str] = set()
    for assignment in assignments:
        rows, members = [], []
        for student in klass.everyone:
            upload = lms_upload(klass.uploads.get((student, assignment), ""))
            if upload is None or upload.lms != "moodle":
                continue
            matched.add(student)
            rows.append([f"Participant {upload.lms_id}", _safe(upload.name),
                         klass.score(student, assignment, missing_as_zero),
                         klass.maximum(assignment), now])
            if feedback:
                members += [(f"{upload.prefix}/{page.stem}-feedback.html", page)
                            for page in _feedback_pages(out, student, assignment)]
        if rows:
            written.append(_csv(target / f"moodle-{assignment}.csv", MOODLE_WORKSHEET_COLUMNS,
                                rows))
        made = _zip(target / f"moodle-feedback-{assignment}.zip", members) if feedback else None
        written += [made] if made else []
    gradebook = [[_safe(student), *[klass.score(student, a, missing_as_zero)
                                    for a in assignments]] for student in klass.everyone]
    written.append(_csv(target / "moodle-gradebook.csv", ["Username", *assignments], gradebook))
    return written, [s for s in klass.everyone if s not in matched]


def export(out: Path, lms: str, *, missing_as_zero: bool = False,
           assignment_ids: dict[str, str] | None = None, feedback: bool = True,
           db_url: str | None = None, say=print) -> list[Path]:
    """Write ``OUT/lms/`` for ``lms`` (canvas or moodle); the files written. ``db_url``: the
    gradebook of the run (default ``OUT/gradebook.db``), for the grades given by hand."""
    out = Path(out)
    klass = _load(out)
    _add_gradebook(klass, db_url, out, say)
    target = out / "lms"
    if lms == "canvas":
        written, unmatched = _canvas(klass, out, target, missing_as_zero, assignment_ids or {},
                                     feedback)
    elif lms == "moodle":
        written, unmatched = _moodle(klass, out, target, missing_as_zero, feedback)
    else:  # argparse's choices keep this from happening on the command line
        raise ExportError(f"unknown LMS {lms!r} (canvas, moodle)")
    for path in written:
        say(M.bilingual("lms_wrote", path=path))
    if unmatched:
        from grader.record.terminal import printable

        shown = ", ".join(printable(s, 40) for s in unmatched[:10]) + \
            (f", … +{len(unmatched) - 10}" if len(unmatched) > 10 else "")
        say(M.bilingual("lms_not_matched", count=len(unmatched), lms=lms.capitalize(),
                        students=shown))
    return written
