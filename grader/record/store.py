"""One result file per graded submission: what makes re-runs idempotent · 评分结果存储.

``results/<assignment>/<student>.json`` holds a submission's result and the fingerprint
of everything the result depends on: the submitted files, the instructor's notebook,
the grader's code, the limits and the seed secret. A later run grades a submission
again only if that fingerprint changed (or ``--force``). A file is written only after
the submission's gradebook row and feedback, and atomically (write, then rename), so a
run killed at any moment leaves each submission either fully recorded or not at all:
started again, it finishes the rest, with no lost and no doubled rows.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path

from grader.record.results import CellResult, NotebookResult, SubmissionResult, WrittenAnswer

__all__ = ["ResultStore", "digest_files", "grader_digest"]

FORMAT = 1


def digest_files(paths: list[Path], extra: str = "") -> str:
    h = hashlib.sha256(extra.encode())
    for path in sorted(paths):
        h.update(path.name.encode() + b"\0")
        h.update(path.read_bytes() if path.is_file() else b"<missing>")
    return h.hexdigest()


@functools.cache
def grader_digest() -> str:
    """The grader's own code: a fixed grader may grade differently, so results are redone."""
    package = Path(__file__).resolve().parent
    return digest_files(sorted(package.rglob("*.py")))[:16]


def result_from_dict(data: dict) -> SubmissionResult:
    books = []
    for nb in data.get("notebooks", []):
        cells = [CellResult(**c) for c in nb.get("cells", [])]
        written = [WrittenAnswer(**w) for w in nb.get("written", [])]
        books.append(NotebookResult(**{k: v for k, v in nb.items() if k not in ("cells", "written")},
                                    cells=cells, written=written))
    return SubmissionResult(data["student"], data["assignment"], books, data.get("timestamp"))


class ResultStore:
    def __init__(self, root: Path):
        self.root = root

    def path(self, student: str, assignment: str) -> Path:
        return self.root / (assignment or "_unknown") / f"{student}.json"

    def load(self, student: str, assignment: str, fingerprint: str) -> SubmissionResult | None:
        """The stored result if it was made from exactly these inputs, else None."""
        path = self.path(student, assignment)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT or data.get("fingerprint") != fingerprint:
                return None
            return result_from_dict(data["result"])
        except (OSError, ValueError, KeyError, TypeError):  # absent, torn or old: grade again
            return None

    def save(self, result: SubmissionResult, fingerprint: str) -> None:
        path = self.path(result.student, result.assignment)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"format": FORMAT, "fingerprint": fingerprint, "result": asdict(result)}
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        # backslashreplace: a lone surrogate (an undecodable byte in a name) is written as its
        # JSON escape instead of stopping the run
        with os.fdopen(descriptor, "w", encoding="utf-8", errors="backslashreplace") as handle:
            json.dump(data, handle, ensure_ascii=False)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
