"""One-language copies of the course notebooks · 单语言版本的课程 notebook.

``python -m grader lang zh`` (or ``en``) writes ``course-zh/`` (``course-en/``): every
course notebook with the other language's prose cells dropped and the bilingual
headings of ``both`` cells ("## 2. Backpropagation · 反向传播") cut down to one
language ("## 2. 反向传播"). Code cells are copied untouched — setup, demos and,
above all, every graded cell (solution and test cells with their ids, nbgrader
metadata and checksums) — so a one-language copy grades exactly like the
bilingual notebook and can be handed in instead of it.

How a line of a ``both`` cell is cut: see :mod:`grader.languages`.

The copies are made from the release as generated, never from a changed notebook in
``course/`` (someone's half-done answers), and ``course-zh/`` is regenerated only while
it still holds what this command wrote (``grader.course.generated``).
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from grader import notebooks
from grader.checks import messages as M
from grader.course import generated
from grader.course.build import release_files
from grader.languages import LANGUAGES, cut_line, one_language, segment_language
from grader.paths import COURSE, REPO, SOLUTIONS

__all__ = ["LANGUAGES", "one_language", "cut_line", "segment_language", "write_copies", "default_out",
           "convert"]

M.register(
    {
        "lang_not_from_changed": (
            "{path} differs from the release (someone's answers?): it is left as it is, and the "
            "copy is made from the release built afresh from solutions/.",
            "{path} 与发布版不同（可能写了答案）：它保持原样，单语言副本由 solutions/ 重新生成的发布版制作。",
        ),
    }
)

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
