"""What a class run writes for the instructor · 评分输出文件.

``grades.csv`` (a row per submission), ``report.json`` (everything, for the instructor
only: it may name hidden seeds) and ``collect.json`` (where every input file went).
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

__all__ = ["write_csv", "write_report", "write_collect_report", "write_json", "cell_columns"]


def cell_columns(sources: dict[str, AssignmentSource]) -> list[str]:
    columns: list[str] = []
    for source in sources.values():
        for book in source.notebooks:
            for test in book.tests:
                if test.grade_id not in columns:
                    columns.append(test.grade_id)
    return columns


def _text_cell(value: str) -> str:
    """Student-chosen text (ids, file names in flags and reasons) never runs as a spreadsheet
    formula: a leading = + - @ is escaped the way spreadsheets expect (OWASP CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _reason(result: SubmissionResult) -> str:
    messages = [nb.message for nb in result.notebooks if nb.message]
    return " | ".join(" ".join(m.split("\n")) for m in messages)[:1000]


def write_csv(path: Path, results: list[SubmissionResult],
              sources: dict[str, AssignmentSource]) -> None:
    """A row per submission: totals, status, flags, the reason, then one column per exercise."""
    columns = cell_columns(sources)
    # backslashreplace: a stray undecodable byte never stops the file (it is shown as \udcff)
    with open(path, "w", newline="", encoding="utf-8", errors="backslashreplace") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "assignment", "score", "max_score", "status", "flags",
                         "percent", "reason", *columns])
        for result in results:
            scores = {c.grade_id: c.score for nb in result.notebooks for c in nb.cells}
            percent = 100 * result.score / result.max_score if result.max_score else 0.0
            writer.writerow([_text_cell(result.student), result.assignment, number(result.score),
                             number(result.max_score), result.status,
                             _text_cell(";".join(result.flags)), f"{percent:.1f}",
                             _text_cell(_reason(result)),
                             *[number(scores[c]) if c in scores else "" for c in columns]])


def write_report(path: Path, results: list[SubmissionResult], mode: str,
                 graded: int = 0, reused: int = 0) -> None:
    """Everything, for the instructor (may name hidden seeds): not for students."""
    data = {"sandbox": mode, "graded": graded, "reused": reused, "submissions": [
        {"student": r.student, "assignment": r.assignment, "score": r.score,
         "max_score": r.max_score, "status": r.status, "flags": r.flags,
         "notebooks": [asdict(nb) for nb in r.notebooks]} for r in results]}
    write_json(path, data)


def write_collect_report(path: Path, collection: Collection, source: Path) -> None:
    data = {
        "source": str(source),
        "collected": [{"student": s.student, "assignment": s.assignment, "notebook": s.notebook,
                       "origin": s.origin, "renamed_from": s.renamed_from, "flags": s.flags}
                      for s in collection.submissions],
        "empty": [asdict(e) for e in collection.empty],
        "unmapped": [asdict(u) for u in collection.unmapped],
        "notes": collection.notes,
    }
    write_json(path, data)


def write_json(path: Path, data: object) -> None:
    """Readable JSON (Chinese as itself); a lone surrogate, which UTF-8 cannot hold, is written
    as its JSON escape, so the file is always valid JSON and always written."""
    text = json.dumps(data, indent=1, ensure_ascii=False)
    path.write_bytes(text.encode("utf-8", errors="backslashreplace"))
