"""One-language copies of the course notebooks · 单语言版本的课程 notebook.

``python -m grader lang zh`` (or ``en``) writes ``course-zh/`` (``course-en/``): every
course notebook with the other language's prose cells dropped and the bilingual
headings of ``both`` cells ("## 2. Backpropagation · 反向传播") cut down to one
language ("## 2. 反向传播"). Code cells are copied untouched — setup, demos and,
above all, every graded cell (solution and test cells with their ids, nbgrader
metadata and checksums) — so a one-language copy grades exactly like the
bilingual notebook and can be handed in instead of it.

How a line of a ``both`` cell is cut (lines without " · " are shared and kept):
each " · "-separated segment is Chinese when it holds a CJK character outside
code spans and math, English when it holds a Latin letter, otherwise neutral
(a number, an identifier in backticks). The line keeps the neutral segments and
those of the wanted language, in their order, with the wanted language moved to
where the first dropped segment stood: "### Exercise 2.1 · `softmax` · 练习 2.1"
becomes "### 练习 2.1 · `softmax`". Markdown heading marks and a leading section
number ("## 3. ") are shared. A line with segments of the other language only
(the English title line of a two-line title) is dropped.

The copies are made from the release as generated, never from a changed notebook in
``course/`` (someone's half-done answers), and ``course-zh/`` is regenerated only while
it still holds what this command wrote (``grader.course.generated``).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from grader import notebooks
from grader.checks import messages as M
from grader.course import generated
from grader.course.build import release_files
from grader.paths import COURSE, REPO, SOLUTIONS

__all__ = ["LANGUAGES", "one_language", "cut_line", "segment_language", "write_copies", "default_out",
           "convert"]

LANGUAGES = ("en", "zh")

M.register(
    {
        "lang_not_from_changed": (
            "{path} differs from the release (someone's answers?): it is left as it is, and the "
            "copy is made from the release built afresh from solutions/.",
            "{path} 与发布版不同（可能写了答案）：它保持原样，单语言副本由 solutions/ 重新生成的发布版制作。",
        ),
    }
)

_SEPARATOR = re.compile(r"\s+·\s+")
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
_LATIN = re.compile(r"[A-Za-z]")
_CODE_OR_MATH = re.compile(r"`[^`]*`|\$\$.*?\$\$|\$[^$]*\$")
_HEADING = re.compile(r"^(\s*#{1,6}\s+)?(\d+(?:\.\d+)*\.?\s+(?=\S))?")


def segment_language(text: str) -> str | None:
    """"zh", "en", or None (neutral) for one segment of a bilingual line."""
    prose = _CODE_OR_MATH.sub(" ", text)
    if _CJK.search(prose):
        return "zh"
    if _LATIN.search(prose):
        return "en"
    return None


def cut_line(line: str, lang: str) -> str | None:
    """The line in language ``lang`` alone; None when it belongs to the other language only."""
    parts = _SEPARATOR.split(line.strip())
    if len(parts) < 2:
        return line
    match = _HEADING.match(parts[0])
    marks, number = (match.group(1) or ""), (match.group(2) or "")
    parts[0] = parts[0][match.end():]
    kinds = [segment_language(p) for p in parts]
    if lang not in kinds:
        if any(k is not None for k in kinds):
            return None  # e.g. the English line of a two-line title, in the Chinese copy
        return line
    wanted = [p for p, k in zip(parts, kinds) if k == lang]
    out: list[str] = []
    placed = False
    for part, kind in zip(parts, kinds):
        if kind is None:
            out.append(part)
        elif not placed:  # the first language segment, of either language, takes the wanted ones
            out.extend(wanted)
            placed = True
    return f"{marks}{number}" + " · ".join(p for p in out if p)


def _cut_cell(source: str, lang: str) -> str:
    lines = []
    for line in source.split("\n"):
        cut = cut_line(line, lang)
        if cut is not None:
            lines.append(cut)
    return "\n".join(lines).strip("\n")


def one_language(nb: NotebookNode, lang: str) -> NotebookNode:
    """A copy of ``nb`` for readers of ``lang`` only; code cells are left exactly as they are."""
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {lang!r}")
    other = "zh" if lang == "en" else "en"
    out = copy.deepcopy(nb)
    cells = []
    for cell in out.cells:
        tag = notebooks.language_tag(cell)
        if cell.cell_type != "markdown" or tag is None:
            cells.append(cell)
        elif tag == other:
            continue
        elif tag == "both":
            cell.source = _cut_cell(cell.source, lang)
            if cell.source.strip():
                cells.append(cell)
        else:
            cells.append(cell)
    out.cells = cells
    meta = out.metadata.setdefault("nnfs", {})
    meta["language"] = lang
    meta["generated"] = (
        f"Generated by `python -m grader lang {lang}` from the bilingual course notebook; "
        "it grades exactly like the bilingual one. Edit solutions/, not this file. · "
        f"本文件由 `python -m grader lang {lang}` 从双语课程 notebook 生成,评分与双语版本完全相同;"
        "请修改 solutions/ 而不是本文件。"
    )
    return out


def default_out(lang: str) -> Path:
    return REPO / f"course-{lang}"


def lang_command(lang: str) -> str:
    return f"python -m grader lang {lang}"


def convert(data: bytes, lang: str) -> bytes:
    """One release file for readers of ``lang``: notebooks cut down, other files as they are."""
    nb = nbformat.reads(data.decode("utf-8"), as_version=4)
    return notebooks.dumps_clean(one_language(nb, lang)).encode("utf-8")


def write_copies(lang: str, out: Path | None = None, course: Path = COURSE,
                 assignments: list[str] | None = None, backup: bool = False,
                 solutions: Path = SOLUTIONS) -> list[Path]:
    """Write ``out/<assignment>/<notebook>`` for every notebook of the release.

    The notebooks come from the release as generated (:func:`release_files`), never from a
    changed file in ``course/``; ``out/<assignment>/`` is replaced only while it holds what
    this command generated (see :mod:`grader.course.generated`, ``backup``).
    """
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {lang!r}")
    out = Path(out) if out is not None else default_out(lang)
    release, changed = release_files(Path(course), Path(solutions), assignments)
    for rel in changed:
        print(M.bilingual("lang_not_from_changed", path=Path(course) / rel), flush=True)
    files = {rel: convert(data, lang) if rel.endswith(".ipynb") else data
             for rel, data in release.items()}
    folders = sorted({rel.split("/", 1)[0] for rel in files})
    generated.replace(out, files, folders, lang_command(lang), backup=backup)
    return [out / rel for rel in files if rel.endswith(".ipynb")]
