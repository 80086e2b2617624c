"""Collect a class's submissions from wherever they came from · 收集全班的提交.

Accepted inputs:

* nbgrader's ``submitted/`` layout: ``<student>/<assignment>/<notebook>.ipynb``;
* a plain folder of student folders: ``<student>/<notebook>.ipynb`` (the assignment
  is recognised from the notebook's name, or from its graded cells when it was renamed);
* the zip an LMS exports:
  - Canvas: ``<login>_<userid>_<submissionid>_<original name>.ipynb`` (``_LATE_`` may
    follow the login; re-uploads get ``-1``, ``-2`` … before ``.ipynb``);
  - Moodle: ``<Full Name>_<id>_assignsubmission_file_/<original name>.ipynb``;
  - a zip a student uploaded (either LMS) is opened, one level deep.

Every file in the input ends up either in the collected tree or in the report of
what could not be mapped, with a bilingual reason. Nothing is moved or deleted:
files are copied into a staging folder. Symbolic links are not followed, large zip
members are not read, and two students with one name (an LMS export names folders by
full name) are kept apart by their LMS ids.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import re
import shutil
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader.checks import messages as M
from grader.paths import SOLUTIONS

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
        "collect_ignored": (
            "a hidden or checkpoint file (.ipynb_checkpoints, .DS_Store, …); not graded",
            "隐藏文件或检查点文件（.ipynb_checkpoints、.DS_Store 等）；不评分",
        ),
        "collect_symlink": (
            "a symbolic link; links are not followed (they could point at anyone's files)",
            "符号链接；不会跟随链接（它可能指向任何人的文件）",
        ),
        "collect_too_large": (
            "{size} MB, more than the {limit} MB a submitted file may have; not extracted",
            "{size} MB，超过了提交文件的上限 {limit} MB；未解压",
        ),
        "collect_same_name": (
            "{count} different students share the name {student}; their LMS ids keep them "
            "apart: {ids}",
            "{count} 位不同的学生同名 {student}；用他们在 LMS 中的 id 区分：{ids}",
        ),
        "collect_renamed": (
            "renamed notebook: {origin} is graded as {name} (recognised by its cells)",
            "notebook 被改名：{origin} 按其单元格识别为 {name} 评分",
        ),
    }
)

_CANVAS = re.compile(
    r"^(?P<login>[^_/]+?)(?P<late>_LATE)?_(?P<userid>\d+)_(?P<subid>\d+)_(?P<name>.+)$",
    re.IGNORECASE,
)
_MOODLE_DIR = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_(?:file|onlinetext)_?$")
_REUPLOAD = re.compile(r"-\d+(?=\.ipynb$)")
MAX_FILE_MB = 200  # larger members of an LMS zip are reported, not read into memory


@dataclass
class Collected:
    student: str
    assignment: str
    notebook: str
    path: Path  # the staged copy
    origin: str  # where it came from, for the report
    renamed_from: str = ""  # the student's file name, when it was not the released one
    late: bool = False  # the LMS marked it late (Canvas's _LATE_)


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


@functools.lru_cache(maxsize=8)
def cell_index(solutions: Path = SOLUTIONS) -> dict[str, frozenset[str]]:
    """notebook file name -> the grade ids of its nbgrader cells (to recognise a notebook by
    its content: a renamed copy here, another assignment's notebook in grader.record.grade)."""
    found = {}
    for path in sorted(solutions.glob("*/*.ipynb")):
        try:
            found[path.name] = frozenset(_grade_ids(path.read_bytes()))
        except ValueError:
            found[path.name] = frozenset()
    return found


def best_match(ids: set[str], known: dict[str, frozenset[str]]) -> str | None:
    """The key of ``known`` sharing most grade ids with ``ids``, if it shares any."""
    overlaps = {name: len(ids & cells) for name, cells in known.items()}
    best = max(overlaps, key=overlaps.get, default=None)
    return best if best is not None and overlaps[best] > 0 else None


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


def _recognise(payload: Path | _Member, cells: dict[str, frozenset[str]]) -> str | None:
    """The released notebook whose graded cells this file carries most of, if any."""
    try:
        ids = _grade_ids(payload.read_bytes())
    except (ValueError, AttributeError, OSError, RuntimeError, EOFError, zipfile.BadZipFile):
        return None  # not JSON, not a notebook, not readable: not recognised
    return best_match(ids, cells)


def safe_student_id(raw: str) -> str:
    """A folder-safe student id: letters, digits, ``.``, ``-``, ``_`` (accents kept as letters)."""
    text = unicodedata.normalize("NFKC", raw).strip()
    text = re.sub(r"\s+", "_", text)
    text = re.sub(r"[^\w.\-]", "", text)
    return text.strip("._") or "unknown"


def _canonical_name(name: str) -> str:
    return _REUPLOAD.sub("", name)


def _ignored(rel: PurePosixPath) -> bool:
    """Jupyter's checkpoints, macOS resource forks, hidden files: never a submission."""
    return any(part.startswith(".") or part in ("__MACOSX", "__pycache__") for part in rel.parts)


def _member_name(info: zipfile.ZipInfo) -> str:
    """A zip member's name: zips made on Windows use code pages (GBK for Chinese names)
    and backslashes, where the format asks for UTF-8 and slashes."""
    name = info.filename
    if not info.flag_bits & 0x800:  # not marked UTF-8: Python decoded it as cp437
        raw = name.encode("cp437", errors="replace")
        for encoding in ("utf-8", "gb18030"):
            try:
                name = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    return name.replace("\\", "/")


def _entries_from_folder(root: Path, result: Collection) -> list[tuple[PurePosixPath, Path]]:
    entries = []
    for path in sorted(root.rglob("*")):
        rel = PurePosixPath(path.relative_to(root).as_posix())
        if _ignored(rel):
            if path.is_file():
                result.unmapped.append(Unmapped(str(rel), M.bilingual("collect_ignored")))
            continue
        if path.is_symlink():
            result.unmapped.append(Unmapped(str(rel), M.bilingual("collect_symlink")))
        elif path.is_file():
            entries.append((rel, path))
    return entries


def _map(rel: PurePosixPath, payload: Path | _Member, index: dict[str, str],
         cells: dict[str, frozenset[str]]):
    """Where one file belongs (a :class:`_Mapped`), or a bilingual reason it belongs nowhere.

    A notebook whose name is not a released one (``Copy of perceptron.ipynb``, ``hw1.ipynb``)
    is recognised by its graded cells; in an nbgrader layout the folder names the assignment
    even when the file is not recognised (grading then says what is wrong with it).
    """
    parts = rel.parts
    name = parts[-1]
    assignments = set(index.values())
    if not name.endswith(".ipynb"):
        return M.bilingual("collect_not_notebook")
    hint, lms, late = None, "", False
    if len(parts) >= 3 and parts[-2] in assignments:  # nbgrader: <student>/<assignment>/<nb>
        student, original, hint = parts[-3], name, parts[-2]
    else:
        canvas = _CANVAS.match(name)
        moodle = _MOODLE_DIR.match(parts[-2]) if len(parts) >= 2 else None
        if moodle:
            student, original, lms = moodle.group("name"), name, moodle.group("id")
        elif canvas and (_canonical_name(canvas.group("name")) in index or len(parts) == 1):
            student, original = canvas.group("login"), canvas.group("name")
            lms, late = canvas.group("userid"), bool(canvas.group("late"))
        elif len(parts) >= 2:
            student, original = parts[-2], name
        else:
            return M.bilingual("collect_no_student")
    canonical = _canonical_name(original)
    student = safe_student_id(student)
    if canonical in index and (hint is None or index[canonical] == hint):
        return _Mapped(student, lms, index[canonical], canonical, late=late)
    recognised = _recognise(payload, cells)
    if recognised and (hint is None or index[recognised] == hint):
        return _Mapped(student, lms, index[recognised], recognised, original, late=late)
    if hint is not None:
        return _Mapped(student, lms, hint, canonical, late=late)
    return M.bilingual("collect_unknown_notebook", name=canonical)


def collect(source: Path, staging: Path, solutions: Path = SOLUTIONS) -> Collection:
    """Copy every submitted notebook under ``staging/<student>/<assignment>/<notebook>``."""
    index = notebook_index(solutions)
    cells = cell_index(Path(solutions).resolve())
    result = Collection()
    staging.mkdir(parents=True, exist_ok=True)
    with _opened(source, result) as entries:
        stamps: dict[tuple[str, str], Path | _Member] = {}
        mapped: list[tuple[str, Path | _Member, _Mapped]] = []
        for rel, payload in entries:
            if _is_timestamp(rel, index):  # nbgrader's submission time, kept beside the notebook
                stamps[(safe_student_id(rel.parts[-3]), rel.parts[-2])] = payload
                continue
            where = _map(rel, payload, index, cells)
            if isinstance(where, str):
                result.unmapped.append(Unmapped(str(rel), where))
            else:
                mapped.append((str(rel), payload, where))
        _separate_namesakes(mapped, result)
        chosen: dict[tuple[str, str, str], tuple[str, Path | _Member, _Mapped]] = {}
        for origin, payload, where in mapped:
            key = (where.student, where.assignment, where.notebook)
            if key in chosen:
                renamed = {chosen[key][0]: bool(chosen[key][2].renamed_from),
                           origin: bool(where.renamed_from)}
                kept = max(chosen[key][0], origin,
                           key=lambda o: (_upload_order(o)[0], not renamed[o], o))
                note = M.bilingual("collect_duplicate", student=key[0], assignment=key[1],
                                   name=key[2], kept=kept)
                result.notes.append(note)
                if kept == chosen[key][0]:
                    result.unmapped.append(Unmapped(origin, note))
                    continue
                result.unmapped.append(Unmapped(chosen[key][0], note))
            chosen[key] = (origin, payload, where)
        for (student, assignment, name), (origin, payload, where) in sorted(chosen.items()):
            target = staging / student / assignment / name
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                if isinstance(payload, Path):
                    shutil.copyfile(payload, target)
                else:
                    target.write_bytes(payload.read_bytes())
            except (zipfile.BadZipFile, OSError, RuntimeError, EOFError) as exc:
                target.unlink(missing_ok=True)
                result.unmapped.append(Unmapped(origin, M.bilingual("collect_bad_zip", error=exc)))
                continue
            result.submissions.append(Collected(student, assignment, name, target, origin,
                                                where.renamed_from, where.late))
            if where.renamed_from:
                result.notes.append(M.bilingual("collect_renamed", origin=origin, name=name))
        for (student, assignment), payload in stamps.items():
            target = staging / student / assignment / "timestamp.txt"
            if target.parent.is_dir():
                with contextlib.suppress(zipfile.BadZipFile, OSError, RuntimeError, EOFError):
                    target.write_bytes(payload.read_bytes())
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


@dataclass
class _Mapped:
    student: str
    lms_id: str  # the LMS's numeric user id (Canvas, Moodle), "" where there is none
    assignment: str
    notebook: str
    renamed_from: str = ""
    late: bool = False


def _separate_namesakes(mapped: list, result: Collection) -> None:
    """Two students named 王伟 in one Moodle course are two students: add their LMS ids."""
    ids: dict[str, set[str]] = {}
    for _, _, where in mapped:
        ids.setdefault(where.student, set()).add(where.lms_id)
    for student, found in ids.items():
        if len(found - {""}) > 1:
            result.notes.append(M.bilingual("collect_same_name", count=len(found - {""}),
                                            student=student, ids=", ".join(sorted(found))))
    for _, _, where in mapped:
        if len(ids[where.student] - {""}) > 1:
            where.student = f"{where.student}_{where.lms_id}" if where.lms_id else where.student


def _upload_order(origin: str) -> tuple[int, str]:
    """Later re-uploads (``-2`` after ``-1`` after none) win; ties by name."""
    match = re.search(r"-(\d+)\.ipynb$", origin)
    return (int(match.group(1)) if match else 0, origin)


class _Member:
    """A file inside the zip, read only when needed (one at a time: never the whole zip)."""

    def __init__(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo):
        self.archive, self.info = archive, info

    def read_bytes(self) -> bytes:
        return self.archive.read(self.info)


class _opened:
    """Iterate (relative path, payload) over a folder or a zip, reporting what is unreadable.

    A zip a student uploaded inside their folder (Moodle) or as their file (Canvas) is
    opened too, one level deep: its notebooks count as if uploaded one by one.
    """

    def __init__(self, source: Path, result: Collection):
        self.source, self.result, self.zips = Path(source), result, []

    def __enter__(self):
        if self.source.is_dir():
            entries = _entries_from_folder(self.source, self.result)
        else:
            archive = self._open(self.source, str(self.source))
            entries = self._members(archive, PurePosixPath(), "") if archive else []
        flat = []
        for rel, payload in entries:
            if rel.suffix.lower() != ".zip":
                flat.append((rel, payload))
                continue
            inner = self._open(payload, str(rel))
            if inner is not None:
                canvas = _CANVAS.match(rel.name)
                prefix = rel.name[: canvas.start("name")] if canvas else ""
                flat += self._members(inner, rel.parent, prefix, origin=f"{rel}!")
        return flat

    def _open(self, payload, origin: str) -> zipfile.ZipFile | None:
        try:
            if isinstance(payload, _Member):
                payload = io.BytesIO(payload.read_bytes())
            archive = zipfile.ZipFile(payload)
        except (zipfile.BadZipFile, OSError, RuntimeError, EOFError) as exc:
            self.result.unmapped.append(Unmapped(origin, M.bilingual("collect_bad_zip", error=exc)))
            return None
        self.zips.append(archive)
        return archive

    def _members(self, archive: zipfile.ZipFile, parent: PurePosixPath, prefix: str,
                 origin: str = "") -> list:
        """Members of a zip; a nested zip's members keep only their file names, placed
        where the zip was (its inner folders name no student)."""
        entries = []
        for info in archive.infolist():
            if info.is_dir():
                continue
            name = _member_name(info)
            rel = PurePosixPath(name)
            if rel.is_absolute() or ".." in rel.parts:
                self.result.unmapped.append(Unmapped(origin + name,
                                                     M.bilingual("collect_unsafe_path")))
                continue
            if _ignored(rel):
                self.result.unmapped.append(Unmapped(origin + name, M.bilingual("collect_ignored")))
                continue
            if info.file_size > MAX_FILE_MB * 2**20:  # a zip bomb must not fill the memory
                self.result.unmapped.append(Unmapped(origin + name, M.bilingual(
                    "collect_too_large", size=f"{info.file_size / 2**20:.0f}",
                    limit=MAX_FILE_MB)))
                continue
            if origin:  # nested: never a zip inside a zip inside a zip
                if rel.suffix.lower() != ".ipynb":
                    self.result.unmapped.append(Unmapped(origin + name,
                                                         M.bilingual("collect_not_notebook")))
                    continue
                rel = parent / (prefix + rel.name)
            entries.append((rel, _Member(archive, info)))
        return entries

    def __exit__(self, *exc):
        for archive in self.zips:
            archive.close()
        return False
