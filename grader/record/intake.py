"""Reading a submitted notebook, whatever state it arrives in · 读取任何状态下提交的 notebook.

Students' notebooks come truncated by a failed upload, saved by an old Jupyter
(nbformat 3), re-encoded by a Windows editor (GBK), with cells copied so that two
share an id, or with hundreds of megabytes of plots in their outputs. Each case is
either repaired and flagged (the notebook is graded) or rejected with a bilingual
reason that becomes the submission's row: never an exception that stops the batch.
"""

from __future__ import annotations

import json
import re
import warnings
from collections import Counter
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from grader import notebooks
from grader.checks import messages as M
from grader.record.terminal import error_line

__all__ = ["Rejected", "read_submission", "grade_ids", "MAX_NOTEBOOK_MB", "HUGE_OUTPUTS_MB",
           "MAX_CELLS", "MAX_CODE_CHARS"]

MAX_NOTEBOOK_MB = 200  # larger files are not even parsed (a grader must not run out of memory)
HUGE_OUTPUTS_MB = 5  # outputs above this are stripped and flagged (they are never graded)
# A notebook the sandbox could never be sent is the student's to fix, not a grader error to
# retry forever: the code cells travel to the sandbox in one JSON frame of at most
# grader.runtime.wire.MAX_JSON (32 MiB), where a character takes up to 12 bytes (an emoji
# is escaped as two \uXXXX) and a cell some 100 bytes of framing. 5,000 cells and 2 million
# characters of code (about 25 MB at worst) fit; the largest instructor notebook has about
# 200 cells and 40,000 characters of code (tests/test_intake.py checks both margins).
MAX_CELLS = 5_000
MAX_CODE_CHARS = 2_000_000

M.register(
    {
        "intake_empty_file": (
            "✗ {notebook} is an empty file (0 bytes): the upload or the save did not finish.",
            "✗ {notebook} 是空文件（0 字节）：上传或保存没有完成。",
        ),
        "intake_too_large": (
            "✗ {notebook} is {size} MB, more than the {limit} MB a notebook may have; it was "
            "not opened. Clear the outputs (Edit → Clear Outputs of All Cells), save and "
            "submit again.",
            "✗ {notebook} 有 {size} MB，超过了 notebook 的上限 {limit} MB，因此没有打开。"
            "请清除输出（Edit → Clear Outputs of All Cells），保存后重新提交。",
        ),
        "intake_not_json": (
            "✗ {notebook} is cut off or corrupt (it is not valid JSON: {error}). The upload "
            "may have been interrupted: open it in JupyterLab, save, and submit again.",
            "✗ {notebook} 被截断或已损坏（不是有效的 JSON：{error}）。上传可能中断了："
            "请在 JupyterLab 中打开、保存后重新提交。",
        ),
        "intake_not_notebook": (
            "✗ {notebook} is JSON but not a Jupyter notebook ({error}).",
            "✗ {notebook} 是 JSON 文件，但不是 Jupyter notebook（{error}）。",
        ),
        "intake_old_format": (
            "✗ {notebook} uses notebook format {version}, which cannot be read; save it from "
            "a current JupyterLab.",
            "✗ {notebook} 使用的是无法读取的 notebook 格式 {version}；请用新版 JupyterLab 重新保存。",
        ),
        "intake_other_assignment": (
            "✗ This is the notebook of assignment {other}, not of {assignment}: its graded "
            "cells belong to {other}. Submit the {assignment} notebook.",
            "✗ 这是作业 {other} 的 notebook，而不是 {assignment} 的：其中的评分单元格属于 "
            "{other}。请提交 {assignment} 的 notebook。",
        ),
        "intake_no_cells": (
            "✗ {notebook} has none of the assignment's cells (its graded cells were deleted "
            "or it is a different notebook). Start again from the released notebook.",
            "✗ {notebook} 中没有这份作业的任何单元格（评分单元格被删除了，或者这是另一个 notebook）。"
            "请从发布的 notebook 重新开始。",
        ),
        "intake_blank": (
            "No solution cell was filled in: every one still raises NotImplementedError.",
            "没有填写任何解答单元格：每一个都仍然抛出 NotImplementedError。",
        ),
        "intake_too_many_cells": (
            "✗ {notebook} has {count} cells, more than the {limit} a notebook may have (the "
            "course's notebooks have at most about 150); it was not graded. Start again from "
            "the released notebook and copy your solutions into it.",
            "✗ {notebook} 有 {count} 个单元格，超过了 notebook 的上限 {limit} 个"
            "（课程的 notebook 最多大约 150 个）；没有评分。请从发布的 notebook 重新开始，"
            "并把你的解答复制进去。",
        ),
        "intake_too_much_code": (
            "✗ {notebook} has {count} characters of code, more than the {limit} a notebook may "
            "have; it was not graded. Remove the data or output pasted into code cells and "
            "submit again.",
            "✗ {notebook} 中的代码有 {count} 个字符，超过了 notebook 的上限 {limit} 个；没有评分。"
            "请删除粘贴到代码单元格中的数据或输出，然后重新提交。",
        ),
        "intake_empty_submission": (
            "✗ Nothing to grade: the submission folder is empty{files}.",
            "✗ 没有可评分的内容：提交的文件夹是空的{files}。",
        ),
    }
)


class Rejected(Exception):
    """The notebook cannot be graded; ``message`` (bilingual) says why, ``status`` classifies."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def _decode(raw: bytes) -> tuple[str, list[str]]:
    """Text of the file. A notebook must be UTF-8, but Windows editors save GBK: a file with
    many undecodable bytes is read as GB18030; a few stray bytes become U+FFFD (flagged)."""
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    replaced = raw.decode("utf-8", errors="replace")
    if replaced.count("\ufffd") > 8:
        try:
            return raw.decode("gb18030"), ["encoding:gb18030"]
        except UnicodeDecodeError:
            pass
    return replaced, ["encoding:invalid_bytes"]


def read_submission(path: Path, max_mb: float = MAX_NOTEBOOK_MB) -> tuple[NotebookNode, list[str]]:
    """A version-4 notebook with its outputs stripped, and flags for what was repaired."""
    name = path.name
    size = path.stat().st_size
    if size == 0:
        raise Rejected("unreadable", M.bilingual("intake_empty_file", notebook=name))
    if size > max_mb * 2**20:
        raise Rejected("too_large", M.bilingual("intake_too_large", notebook=name,
                                                size=f"{size / 2**20:.0f}", limit=f"{max_mb:g}"))
    text, flags = _decode(path.read_bytes())
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Rejected("unreadable", M.bilingual(
            "intake_not_json", notebook=name,
            error=f"{exc.msg}, line {exc.lineno} column {exc.colno}")) from None
    except RecursionError:
        raise Rejected("unreadable", M.bilingual("intake_not_notebook", notebook=name,
                                                 error="nested too deeply")) from None
    if not isinstance(data, dict) or not ({"cells", "worksheets"} & data.keys()):
        raise Rejected("unreadable", M.bilingual("intake_not_notebook", notebook=name,
                                                 error="no cells"))
    version = data.get("nbformat")
    if version not in (3, 4):
        raise Rejected("unreadable", M.bilingual("intake_old_format", notebook=name,
                                                 version=version))
    _check_size(data, name, version)
    try:
        if version == 3:  # upgraded here, so that every notebook is repaired as version 4
            flags.append("nbformat3")
            data, text = _upgraded(data, name), ""
        text = _inspect(data, text, flags)
    except RecursionError:
        raise Rejected("unreadable", M.bilingual("intake_not_notebook", notebook=name,
                                                 error="nested too deeply")) from None
    del data
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nbformat's notes on repaired ids and upgrades
            nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat's validation of a damaged structure
        raise Rejected("unreadable", M.bilingual("intake_not_notebook", notebook=name,
                                                 error=error_line(exc, 200))) from None
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell.outputs = []  # never graded, and never copied into feedback
    counts = Counter(notebooks.grade_id(c) for c in nb.cells if notebooks.grade_id(c))
    flags += [f"duplicate_grade_id:{notebooks.shown_id(ident)}"
              for ident, n in counts.items() if n > 1]
    given = [notebooks.nbgrader_meta(c).get("grade_id") for c in nb.cells]
    odd = [notebooks.shown_id(ident) for ident in given
           if ident not in (None, "") and not notebooks.plain_id(ident)]
    flags += [f"odd_grade_id:{shown}" for shown in dict.fromkeys(odd)]
    return nb, flags


def _all_cells(data: dict, version: int) -> list:
    """The cells nbformat will read: a version 4 notebook's, or every worksheet's of a version
    3 one (whatever else the file holds: a decoy ``cells`` list must not hide them)."""
    if version == 4:
        return data["cells"] if isinstance(data.get("cells"), list) else []
    worksheets = data.get("worksheets")
    return [cell for sheet in worksheets if isinstance(sheet, dict)
            and isinstance(sheet.get("cells"), list) for cell in sheet["cells"]] \
        if isinstance(worksheets, list) else []


def _code_chars(cell: object) -> int:
    """Characters of a code cell that would travel to the sandbox: its source and its id."""
    if not isinstance(cell, dict) or cell.get("cell_type") != "code":
        return 0
    source = cell.get("source", cell.get("input", ""))  # nbformat 3 calls it input
    parts = [source] if isinstance(source, str) else source if isinstance(source, list) else []
    meta = cell.get("metadata")
    nbgrader = meta.get("nbgrader") if isinstance(meta, dict) else None
    grade_id = nbgrader.get("grade_id") if isinstance(nbgrader, dict) else None
    return sum(len(part) for part in parts if isinstance(part, str)) + (
        len(grade_id) if isinstance(grade_id, str) else 0)


def _check_size(data: dict, name: str, version: int) -> None:
    """Reject a notebook with more cells or code than the sandbox can ever be sent (the
    student's doing: a row with a reason, not a grader error graded again and again)."""
    cells = _all_cells(data, version)
    sheets = data.get("worksheets") if version == 3 else None
    parts = max(len(cells), len(sheets) if isinstance(sheets, list) else 0)  # empty sheets too
    if parts > MAX_CELLS:
        raise Rejected("too_large", M.bilingual("intake_too_many_cells", notebook=name,
                                                count=parts, limit=MAX_CELLS))
    if len(cells) > MAX_CELLS:
        raise Rejected("too_large", M.bilingual("intake_too_many_cells", notebook=name,
                                                count=len(cells), limit=MAX_CELLS))
    code = sum(_code_chars(cell) for cell in cells)
    if code > MAX_CODE_CHARS:
        raise Rejected("too_large", M.bilingual("intake_too_much_code", notebook=name,
                                                count=code, limit=MAX_CODE_CHARS))


def _upgraded(data: dict, name: str) -> dict:
    """A version 3 notebook as version 4 (nbformat's own upgrade), its cells given the shape
    the upgrade needs first (a mapping for metadata, text for the source)."""
    worksheets = data.get("worksheets")
    for cell in _all_cells(data, 3):
        if not isinstance(cell, dict):
            continue
        if not isinstance(cell.get("metadata"), dict):
            cell["metadata"] = {}
        for key in ("input", "source"):
            if key in cell and not _is_text(cell[key]):
                cell[key] = ""
        if not isinstance(cell.get("cell_type"), str):
            cell["cell_type"] = "raw"
        if cell["cell_type"] == "code":
            cell["outputs"] = []  # never graded (and dropped below for version 4 as well)
        if cell["cell_type"] == "heading":
            # the upgrade writes '#' * level: a level of ten million is a 10 MB line (and
            # more than a gigabyte of memory) made from a few bytes of the file
            level = cell.get("level")
            ok = isinstance(level, int) and not isinstance(level, bool) and 1 <= level <= 6
            cell["level"] = level if ok else 1
        if not isinstance(cell.get("attachments", {}), dict):
            del cell["attachments"]
    data = {"nbformat": 3, "nbformat_minor": 0,
            "metadata": data.get("metadata") if isinstance(data.get("metadata"), dict) else {},
            "worksheets": [{"cells": [c for c in _all_cells(data, 3) if isinstance(c, dict)]}]
            if isinstance(worksheets, list) else []}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            upgraded = nbformat.reads(json.dumps(data), as_version=4)
        return json.loads(json.dumps(upgraded))
    except Exception as exc:  # a structure even the upgrade cannot read
        raise Rejected("unreadable", M.bilingual(
            "intake_not_notebook", notebook=name,
            error=f"{type(exc).__name__}: {str(exc)[:200]}")) from None


def _is_text(value: object) -> bool:
    return isinstance(value, str) or (isinstance(value, list)
                                      and all(isinstance(part, str) for part in value))


def _inspect(data: dict, text: str, flags: list[str]) -> str:
    """Flags for copied cells and huge outputs; the text, repaired if it had to be (and
    written out anew when ``text`` is empty: an upgraded notebook)."""
    cells = [c for c in data.get("cells") or [] if isinstance(c, dict)] \
        if isinstance(data.get("cells"), list) else []
    ids = [c.get("id") for c in cells if isinstance(c.get("id"), str)]
    if len(ids) != len(set(ids)):
        flags.append("duplicate_cell_ids")  # nbformat renames the copies while reading
    outputs = sum(len(json.dumps(c.get("outputs", []))) for c in cells)
    if outputs > HUGE_OUTPUTS_MB * 2**20:
        flags.append(f"huge_outputs:{outputs / 2**20:.0f}MB")
    if _repair(data) and text:
        flags.append("repaired_structure")
        return json.dumps(data)
    return text or json.dumps(data)


def _repair(data: dict) -> bool:
    """Give every cell the shape the schema promises (nbformat reads invalid notebooks with
    only a logged warning, then fails further on): other tools and hand edits leave lists,
    numbers or nulls where cells, text and mappings belong. Returns whether anything changed.
    """
    cells = data.get("cells")
    if not isinstance(cells, list):
        data["cells"] = []
        return True
    kept = [c for c in cells if isinstance(c, dict)]
    changed = len(kept) != len(cells)
    for cell in kept:
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(part, str) for part in source):
            source = "".join(source)
        if not isinstance(source, str):
            source, changed = "", True
        cell["source"] = source
        if not isinstance(cell.get("metadata"), dict):
            cell["metadata"], changed = {}, True
        if not isinstance(cell.get("attachments", {}), dict):
            del cell["attachments"]
            changed = True
        tags = cell["metadata"].get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            cell["metadata"]["tags"], changed = [], True
        if cell.get("cell_type") not in ("code", "markdown", "raw"):
            cell["cell_type"], changed = "raw", True
        if cell["cell_type"] == "code":
            if not isinstance(cell.get("outputs"), list):
                cell["outputs"], changed = [], True
            cell.setdefault("execution_count", None)
    data["cells"] = kept
    if not isinstance(data.get("metadata"), dict):
        data["metadata"], changed = {}, True
    return changed


def grade_ids(nb: NotebookNode) -> set[str]:
    return {ident for ident in (notebooks.grade_id(c) for c in nb.cells) if ident}


#: A question's answer cell as released: ``answer_q1_1 = None  # YOUR ANSWER HERE · …``.
_UNANSWERED = re.compile(r"\s*answer_\w+\s*=\s*None\s*(#[^\n]*)?\s*")


def looks_blank(nb: NotebookNode) -> bool:
    """Every solution cell still holds the release's stub: ``raise NotImplementedError``, or
    ``answer_… = None`` in a question's answer cell."""
    texts = [_text(c.source) for c in nb.cells
             if notebooks.is_solution_cell(c) and c.cell_type == "code"]
    return bool(texts) and all("NotImplementedError" in t or _UNANSWERED.fullmatch(t)
                               for t in texts)


def _text(source) -> str:
    return source if isinstance(source, str) else "".join(source)
