"""Collect a class's submissions from wherever they came from · 收集全班的提交.

Accepted inputs:

* nbgrader's ``submitted/`` layout: ``<student>/<assignment>/<notebook>.ipynb``;
* a plain folder of student folders: ``<student>/<notebook>.ipynb`` (the assignment
  is recognised from the notebook's name);
* the zip an LMS exports:
  - Canvas: ``<login>_<userid>_<submissionid>_<original name>.ipynb`` (``_LATE_`` may
    follow the login; re-uploads get ``-1``, ``-2`` … before ``.ipynb``);
  - Moodle: ``<Full Name>_<id>_assignsubmission_file_/<original name>.ipynb``.

Every file in the input ends up either in the collected tree or in the report of
what could not be mapped, with a bilingual reason. Nothing is moved or deleted:
files are copied into a staging folder.
"""

from __future__ import annotations

import json
import re
import shutil
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from . import messages as M
from .paths import SOLUTIONS

__all__ = ["Collected", "Collection", "Empty", "Unmapped", "collect", "notebook_index"]

M.register(
    {
        "collect_not_notebook": (
            "not a notebook (only .ipynb files are graded)",
            "不是 notebook（只评分 .ipynb 文件）",
        ),
        "collect_unknown_notebook": (
            "no assignment has a notebook named {name}",
            "没有任何作业包含名为 {name} 的 notebook",
        ),
        "collect_no_student": (
            "cannot tell which student this file belongs to",
            "无法判断这个文件属于哪位学生",
        ),
        "collect_duplicate": (
            "a second file for {student}/{assignment}/{name}; the newest upload ({kept}) is graded",
            "{student}/{assignment}/{name} 有多个文件；评分的是最新上传的 {kept}",
        ),
        "collect_bad_zip": (
            "not a readable zip file: {error}",
            "不是可读取的 zip 文件：{error}",
        ),
        "collect_unsafe_path": (
            "a path that would leave the staging folder; skipped",
            "路径会跳出暂存目录，已跳过",
        ),
        "collect_renamed": (
            "renamed notebook: {origin} is graded as {name} (recognised by its cells)",
            "notebook 被改名：{origin} 按其单元格识别为 {name} 评分",
        ),
    }
)

_CANVAS = re.compile(
    r"^(?P<login>[^_/]+?)(?:_LATE)?_(?P<userid>\d+)_(?P<subid>\d+)_(?P<name>.+)$", re.IGNORECASE
)
_MOODLE_DIR = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_(?:file|onlinetext)_?$")
_REUPLOAD = re.compile(r"-\d+(?=\.ipynb$)")


@dataclass
class Collected:
    student: str
    assignment: str
    notebook: str
    path: Path  # the staged copy
    origin: str  # where it came from, for the report
    renamed_from: str = ""  # the student's file name, when it was not the released one


@dataclass
class Empty:
    """A student folder with nothing gradable in it: still a row in the grades."""

    student: str
    assignment: str | None  # known from an nbgrader layout, else None
    origin: str
    files: list[str] = field(default_factory=list)  # what was there instead (not notebooks)


@dataclass
class Unmapped:
    origin: str
    reason: str  # bilingual


@dataclass
class Collection:
    submissions: list[Collected] = field(default_factory=list)
    unmapped: list[Unmapped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    empty: list[Empty] = field(default_factory=list)


def notebook_index(solutions: Path = SOLUTIONS) -> dict[str, str]:
    """notebook file name -> assignment id, from ``solutions/``."""
    index = {}
    for path in sorted(solutions.glob("*/*.ipynb")):
        index[path.name] = path.parent.name
    return index


def _cell_index(solutions: Path) -> dict[str, set[str]]:
    """notebook file name -> the grade ids of its nbgrader cells (to recognise renamed copies)."""
    found = {}
    for path in sorted(solutions.glob("*/*.ipynb")):
        try:
            found[path.name] = _grade_ids(path.read_bytes())
        except ValueError:
            found[path.name] = set()
    return found


def _grade_ids(payload: bytes) -> set[str]:
    text = payload.decode("utf-8", errors="replace")
    data = json.loads(text)
    cells = data.get("cells") or [c for w in data.get("worksheets", []) for c in w.get("cells", [])]
    ids = set()
    for cell in cells:
        meta = (cell.get("metadata") or {}).get("nbgrader") or {} if isinstance(cell, dict) else {}
        if isinstance(meta, dict) and isinstance(meta.get("grade_id"), str):
            ids.add(meta["grade_id"])
    return ids


def _recognise(payload: bytes | Path, cells: dict[str, set[str]]) -> str | None:
    """The released notebook whose graded cells this file carries most of, if any."""
    try:
        raw = payload.read_bytes() if isinstance(payload, Path) else payload
        ids = _grade_ids(raw)
    except (ValueError, AttributeError, OSError):  # not JSON, not a notebook: not recognised
        return None
    overlaps = {name: len(ids & known) for name, known in cells.items()}
    best = max(overlaps, key=overlaps.get, default=None)
    return best if best is not None and overlaps[best] > 0 else None


def safe_student_id(raw: str) -> str:
    """A folder-safe student id: letters, digits, ``.``, ``-``, ``_`` (accents kept as letters)."""
    text = unicodedata.normalize("NFKC", raw).strip()
    text = re.sub(r"\s+", "_", text)
    text = re.sub(r"[^\w.\-]", "", text)
    return text.strip("._") or "unknown"


def _canonical_name(name: str) -> str:
    return _REUPLOAD.sub("", name)


def _entries_from_folder(root: Path) -> list[tuple[PurePosixPath, Path]]:
    return [
        (PurePosixPath(p.relative_to(root).as_posix()), p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__MACOSX" not in p.parts and p.name != ".DS_Store"
    ]


def _map(rel: PurePosixPath, payload: bytes | Path, index: dict[str, str],
         cells: dict[str, set[str]]):
    """(student, assignment, notebook name, renamed from) for one file, or why it has none.

    A notebook whose name is not a released one (``Copy of perceptron.ipynb``, ``hw1.ipynb``)
    is recognised by its graded cells; in an nbgrader layout the folder names the assignment
    even when the file is not recognised (grading then says what is wrong with it).
    """
    parts = rel.parts
    name = parts[-1]
    assignments = set(index.values())
    if not name.endswith(".ipynb"):
        return M.bilingual("collect_not_notebook")
    hint = None
    if len(parts) >= 3 and parts[-2] in assignments:  # nbgrader: <student>/<assignment>/<nb>
        student, original, hint = parts[-3], name, parts[-2]
    else:
        canvas = _CANVAS.match(name)
        moodle = _MOODLE_DIR.match(parts[-2]) if len(parts) >= 2 else None
        if moodle:
            student, original = moodle.group("name"), name
        elif canvas and (_canonical_name(canvas.group("name")) in index or len(parts) == 1):
            student, original = canvas.group("login"), canvas.group("name")
        elif len(parts) >= 2:
            student, original = parts[-2], name
        else:
            return M.bilingual("collect_no_student")
    canonical = _canonical_name(original)
    if canonical in index and (hint is None or index[canonical] == hint):
        return safe_student_id(student), index[canonical], canonical, ""
    recognised = _recognise(payload, cells)
    if recognised and (hint is None or index[recognised] == hint):
        return safe_student_id(student), index[recognised], recognised, original
    if hint is not None:
        return safe_student_id(student), hint, canonical, ""
    return M.bilingual("collect_unknown_notebook", name=canonical)


def collect(source: Path, staging: Path, solutions: Path = SOLUTIONS) -> Collection:
    """Copy every submitted notebook under ``staging/<student>/<assignment>/<notebook>``."""
    index = notebook_index(solutions)
    cells = _cell_index(solutions)
    result = Collection()
    staging.mkdir(parents=True, exist_ok=True)
    with _opened(source, result) as entries:
        chosen: dict[tuple[str, str, str], tuple[str, bytes | Path]] = {}
        renamed: dict[tuple[str, str, str], str] = {}
        stamps: dict[tuple[str, str], bytes | Path] = {}
        for rel, payload in entries:
            if _is_timestamp(rel, index):  # nbgrader's submission time, kept beside the notebook
                stamps[(safe_student_id(rel.parts[-3]), rel.parts[-2])] = payload
                continue
            mapped = _map(rel, payload, index, cells)
            if isinstance(mapped, str):
                result.unmapped.append(Unmapped(str(rel), mapped))
                continue
            *key_parts, original = mapped
            key = tuple(key_parts)
            if original:
                renamed[key] = original
            if key in chosen:
                kept = max(chosen[key][0], str(rel), key=_upload_order)
                result.notes.append(
                    M.bilingual("collect_duplicate", student=key[0], assignment=key[1],
                                name=key[2], kept=kept)
                )
                if kept == chosen[key][0]:
                    result.unmapped.append(Unmapped(str(rel), result.notes[-1]))
                    continue
                result.unmapped.append(Unmapped(chosen[key][0], result.notes[-1]))
            chosen[key] = (str(rel), payload)
        for (student, assignment, name), (origin, payload) in sorted(chosen.items()):
            target = staging / student / assignment / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(payload, Path):
                shutil.copyfile(payload, target)
            else:
                target.write_bytes(payload)
            result.submissions.append(Collected(student, assignment, name, target, origin,
                                                renamed.get((student, assignment, name), "")))
            if renamed.get((student, assignment, name)):
                result.notes.append(M.bilingual("collect_renamed", origin=origin, name=name))
        for (student, assignment), payload in stamps.items():
            target = staging / student / assignment / "timestamp.txt"
            if target.parent.is_dir():
                target.write_bytes(payload.read_bytes() if isinstance(payload, Path) else payload)
        if Path(source).is_dir():
            result.empty = _empties(Path(source), result, set(index.values()))
    return result


def _is_timestamp(rel: PurePosixPath, index: dict[str, str]) -> bool:
    return len(rel.parts) >= 3 and rel.name == "timestamp.txt" and rel.parts[-2] in set(
        index.values())


def _empties(root: Path, result: Collection, assignments: set[str]) -> list[Empty]:
    """Student folders (and nbgrader assignment folders) from which nothing was collected."""
    got = {(s.student, s.assignment) for s in result.submissions}
    students = {s.student for s in result.submissions}
    empty = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if folder.name.startswith(".") or folder.name == "__MACOSX":
            continue
        student = safe_student_id(_MOODLE_DIR.sub(r"\g<name>", folder.name))
        inner = [p for p in sorted(folder.iterdir()) if p.is_dir() and p.name in assignments]
        for sub in inner:  # nbgrader layout: <student>/<assignment>/
            if (student, sub.name) not in got:
                empty.append(Empty(student, sub.name, f"{folder.name}/{sub.name}", _files(sub)))
        if not inner and student not in students:
            empty.append(Empty(student, None, folder.name, _files(folder)))
    return empty


def _files(folder: Path) -> list[str]:
    return [p.relative_to(folder).as_posix() for p in sorted(folder.rglob("*")) if p.is_file()]


def _upload_order(origin: str) -> tuple[int, str]:
    """Later re-uploads (``-2`` after ``-1`` after none) win; ties by name."""
    match = re.search(r"-(\d+)\.ipynb$", origin)
    return (int(match.group(1)) if match else 0, origin)


class _opened:
    """Iterate (relative path, payload) over a folder or a zip, reporting unreadable zips."""

    def __init__(self, source: Path, result: Collection):
        self.source, self.result, self.zip = Path(source), result, None

    def __enter__(self):
        if self.source.is_dir():
            return _entries_from_folder(self.source)
        try:
            self.zip = zipfile.ZipFile(self.source)
        except (zipfile.BadZipFile, OSError) as exc:
            self.result.unmapped.append(
                Unmapped(str(self.source), M.bilingual("collect_bad_zip", error=exc))
            )
            return []
        entries = []
        for info in self.zip.infolist():
            if info.is_dir() or "__MACOSX" in info.filename:
                continue
            rel = PurePosixPath(info.filename)
            if rel.is_absolute() or ".." in rel.parts:
                self.result.unmapped.append(Unmapped(info.filename, M.bilingual("collect_unsafe_path")))
                continue
            try:
                entries.append((rel, self.zip.read(info)))
            except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
                self.result.unmapped.append(
                    Unmapped(info.filename, M.bilingual("collect_bad_zip", error=exc))
                )
        return entries

    def __exit__(self, *exc):
        if self.zip is not None:
            self.zip.close()
        return False
