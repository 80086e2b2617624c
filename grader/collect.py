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

import re
import shutil
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from . import messages as M
from .paths import SOLUTIONS

__all__ = ["Collected", "Unmapped", "collect", "notebook_index"]

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


@dataclass
class Unmapped:
    origin: str
    reason: str  # bilingual


@dataclass
class Collection:
    submissions: list[Collected] = field(default_factory=list)
    unmapped: list[Unmapped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def notebook_index(solutions: Path = SOLUTIONS) -> dict[str, str]:
    """notebook file name -> assignment id, from ``solutions/``."""
    index = {}
    for path in sorted(solutions.glob("*/*.ipynb")):
        index[path.name] = path.parent.name
    return index


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


def _map(rel: PurePosixPath, index: dict[str, str], assignments: set[str]):
    """(student, assignment, notebook name) for one file, or a bilingual reason it has none."""
    parts = rel.parts
    name = parts[-1]
    if not name.endswith(".ipynb"):
        return M.bilingual("collect_not_notebook")
    # nbgrader layout: <student>/<assignment>/<notebook>
    if len(parts) >= 3 and parts[-2] in assignments:
        canonical = _canonical_name(name)
        return safe_student_id(parts[-3]), parts[-2], canonical
    canvas = _CANVAS.match(name)
    moodle = _MOODLE_DIR.match(parts[-2]) if len(parts) >= 2 else None
    if moodle:
        student, original = moodle.group("name"), name
    elif canvas and _canonical_name(canvas.group("name")) in index:
        student, original = canvas.group("login"), canvas.group("name")
    elif len(parts) >= 2:
        student, original = parts[-2], name
    else:
        return M.bilingual("collect_no_student")
    canonical = _canonical_name(original)
    if canonical not in index:
        return M.bilingual("collect_unknown_notebook", name=canonical)
    return safe_student_id(student), index[canonical], canonical


def collect(source: Path, staging: Path, solutions: Path = SOLUTIONS) -> Collection:
    """Copy every submitted notebook under ``staging/<student>/<assignment>/<notebook>``."""
    index = notebook_index(solutions)
    assignments = set(index.values())
    result = Collection()
    staging.mkdir(parents=True, exist_ok=True)
    with _opened(source, result) as entries:
        chosen: dict[tuple[str, str, str], tuple[str, bytes | Path]] = {}
        for rel, payload in entries:
            mapped = _map(rel, index, assignments)
            if isinstance(mapped, str):
                result.unmapped.append(Unmapped(str(rel), mapped))
                continue
            key = mapped
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
            result.submissions.append(Collected(student, assignment, name, target, origin))
    return result


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
