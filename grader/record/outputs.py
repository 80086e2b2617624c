"""What a class run writes for the instructor · 评分输出文件.

One layout, whichever command wrote it (``grade``, ``demo``; a shard writes the same
files with ``.shard-K-of-N`` in their names):

* ``grades.csv``: one row per student × assignment (a submission): ``student, assignment,
  score, max_score, percent, by_hand_points, blank_answers, status, flags, reason``.
  ``score`` and ``max_score`` are the autograded part; ``by_hand_points`` are the points of
  the written answers, which wait for a grade by hand in formgrader, and ``blank_answers``
  how many of those the student left blank. The same columns whatever was graded, so files
  of several runs or shards can be stacked.
* ``exercises.csv``: one row per student × exercise (long format, for a pivot table):
  ``student, assignment, notebook, exercise, title, title_zh, test_cell, score, points,
  result``; ``exercise`` is the notebook's number (``1.3``), ``title`` its name.
* ``totals.csv``: one row per student, a column per assignment (its score) and ``total``; a
  cell is **empty** when the student handed nothing in for that assignment, or when the
  grader failed on it (status ``error``), never 0.
* ``report.json`` (everything, for the instructor only: it may name hidden seeds) and
  ``collect.json`` (where every input file went, and who each student is in the LMS).

Student-chosen text is escaped for spreadsheets and JSON alike.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict
from pathlib import Path

from grader.record.collect import Collection
from grader.record.progress import number
from grader.record.results import SubmissionResult
from grader.record.source import AssignmentSource
from grader.record.vocabulary import ExerciseName, names_of

__all__ = ["write_csv", "write_exercises", "write_totals", "write_report", "write_collect_report",
           "write_json", "GRADES_COLUMNS", "EXERCISE_COLUMNS", "totals", "exercise_names",
           "NO_SCORE"]

GRADES_COLUMNS = ["student", "assignment", "score", "max_score", "percent", "by_hand_points",
                  "blank_answers", "status", "flags", "reason"]
EXERCISE_COLUMNS = ["student", "assignment", "notebook", "exercise", "title", "title_zh",
                    "test_cell", "score", "points", "result"]
#: statuses whose score is not a grade: the grader failed, not the student
NO_SCORE = ("error",)


def exercise_names(sources: dict[str, AssignmentSource]) -> dict[str, dict[str, ExerciseName]]:
    """{assignment: {test cell: its exercise's name}}."""
    return {assignment: names_of(source) for assignment, source in sources.items()}


def _text_cell(value: str) -> str:
    """Student-chosen text (ids, file names in flags and reasons) never runs as a spreadsheet
    formula: a leading = + - @ is escaped the way spreadsheets expect (OWASP CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _reason(result: SubmissionResult) -> str:
    messages = [nb.message for nb in result.notebooks if nb.message]
    return " | ".join(" ".join(m.split("\n")) for m in messages)[:1000]


def _open(path: Path):
    # backslashreplace: a stray undecodable byte never stops the file (it is shown as \udcff)
    return open(path, "w", newline="", encoding="utf-8", errors="backslashreplace")


def write_csv(path: Path, results: list[SubmissionResult],
              sources: dict[str, AssignmentSource] | None = None) -> None:
    """``grades.csv``: a row per submission (see the module docstring)."""
    with _open(path) as handle:
        writer = csv.writer(handle)
        writer.writerow(GRADES_COLUMNS)
        for result in results:
            percent = 100 * result.score / result.max_score if result.max_score else 0.0
            writer.writerow([_text_cell(result.student), result.assignment, number(result.score),
                             number(result.max_score), f"{percent:.1f}",
                             number(result.by_hand_points), result.blank_answers, result.status,
                             _text_cell(";".join(result.flags)), _text_cell(_reason(result))])


def write_exercises(path: Path, results: list[SubmissionResult],
                    names: dict[str, dict[str, ExerciseName]]) -> None:
    """``exercises.csv``: a row per student and exercise, in the notebook's order."""
    with _open(path) as handle:
        writer = csv.writer(handle)
        writer.writerow(EXERCISE_COLUMNS)
        for result in results:
            known = names.get(result.assignment, {})
            for book in result.notebooks:
                for cell in book.cells:
                    name = known.get(cell.grade_id)
                    graded = result.status not in NO_SCORE
                    writer.writerow([
                        _text_cell(result.student), result.assignment, _text_cell(book.notebook),
                        name.number if name else "",
                        name.title.en if name else cell.grade_id,
                        name.title.zh if name else cell.grade_id, cell.grade_id,
                        number(cell.score) if graded else "", number(cell.points),
                        cell.status if graded else "not graded"])


def totals(results: list[SubmissionResult], students: list[str] | None = None,
           missing_as_zero: bool = False) -> tuple[list[str], dict[str, dict[str, float | None]]]:
    """(assignments, {student: {assignment: score or None}}): None where nothing was handed
    in, or the grader failed (0 with ``missing_as_zero``). ``students`` adds students of the
    class with no row at all."""
    assignments = sorted({r.assignment for r in results if r.assignment})
    table: dict[str, dict[str, float | None]] = {}
    for student in sorted({r.student for r in results} | set(students or [])):
        table[student] = dict.fromkeys(assignments, 0.0 if missing_as_zero else None)
    for result in results:
        if result.assignment and result.status not in NO_SCORE:
            table[result.student][result.assignment] = result.score
    return assignments, table


def write_totals(path: Path, results: list[SubmissionResult],
                 students: list[str] | None = None) -> None:
    """``totals.csv``: a row per student, a column per assignment, then ``total``."""
    assignments, table = totals(results, students)
    with _open(path) as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", *assignments, "total"])
        for student, scores in table.items():
            got = [s for s in scores.values() if s is not None]
            writer.writerow([_text_cell(student),
                             *["" if scores[a] is None else number(scores[a]) for a in assignments],
                             number(sum(got)) if got else ""])


def write_report(path: Path, results: list[SubmissionResult], mode: str,
                 graded: int = 0, reused: int = 0,
                 names: dict[str, dict[str, ExerciseName]] | None = None,
                 collection: Collection | None = None) -> None:
    """Everything, for the instructor (may name hidden seeds): not for students."""
    data = {"sandbox": mode, "graded": graded, "reused": reused,
            "exercises": {assignment: {ident: {"exercise": name.number, "title": name.title.en,
                                               "title_zh": name.title.zh,
                                               "exercises": list(name.exercises),
                                               "points": name.points}
                                       for ident, name in found.items()}
                          for assignment, found in (names or {}).items()},
            "students": {s: asdict(i) for s, i in (collection.students if collection else {}).items()},
            "submissions": [
                {"student": r.student, "assignment": r.assignment, "score": r.score,
                 "max_score": r.max_score, "by_hand_points": r.by_hand_points,
                 "blank_answers": r.blank_answers, "status": r.status, "flags": r.flags,
                 "timestamp": r.timestamp, "notebooks": [asdict(nb) for nb in r.notebooks]}
                for r in results]}
    write_json(path, data)


def write_collect_report(path: Path, collection: Collection, source: Path) -> None:
    data = {
        "source": str(source),
        "collected": [{"student": s.student, "assignment": s.assignment, "notebook": s.notebook,
                       "origin": s.origin, "renamed_from": s.renamed_from, "flags": s.flags}
                      for s in collection.submissions],
        "empty": [asdict(e) for e in collection.empty],
        "unmapped": [asdict(u) for u in collection.unmapped],
        "students": {s: asdict(i) for s, i in collection.students.items()},
        "notes": collection.notes,
    }
    write_json(path, data)


def write_json(path: Path, data: object) -> None:
    """Readable JSON (Chinese as itself); a lone surrogate, which UTF-8 cannot hold, is written
    as its JSON escape, so the file is always valid JSON and always written."""
    text = json.dumps(data, indent=1, ensure_ascii=False)
    path.write_bytes(text.encode("utf-8", errors="backslashreplace"))
