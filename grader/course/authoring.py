"""A plain-text form of a solutions notebook, for writing and reviewing it · notebook 的纯文本形式.

``solutions/<id>/<name>.ipynb`` stays the single source of truth. This module
converts it to and from a "percent" text file so that a notebook can be
written, diffed and reviewed as text:

    # %% [markdown] en            prose in English (every line starts with "# ")
    # %% [markdown] zh            its Chinese twin, right after it
    # %% [markdown] both          a heading or formula shared by both languages
    # %%                          an ordinary code cell (a demo or a plot)
    # %% setup                    code the graded functions need (imports, helpers, data);
                                  the trusted grader runs these with the solution cells
    # %% solution id=perceptron_predict
    # %% tests id=test_perceptron_predict points=2
    # %% [markdown] both answer id=answer_q3_5 points=2
                                  an answer graded by hand (an nbgrader manually graded
                                  markdown cell; the text is the model answer)

``python -m grader author notes.py solutions/01_perceptron/perceptron.ipynb``
writes the notebook; ``python -m grader unpack NOTEBOOK`` prints the text form.
The round trip is exact (tests/test_authoring.py).
"""

from __future__ import annotations

import re

import nbformat
from nbformat import NotebookNode

from grader.notebooks import KERNELSPEC, grade_id, is_solution_cell, is_test_cell, language_tag

__all__ = ["text_to_notebook", "notebook_to_text"]

_MARKER = re.compile(r"^# %%(?: (?P<rest>.*))?$")


def _parse_marker(rest: str) -> tuple[str, dict[str, str]]:
    words = rest.split()
    kind = "code"
    options: dict[str, str] = {}
    for word in words:
        if word == "[markdown]":
            kind = "markdown"
        elif "=" in word:
            key, value = word.split("=", 1)
            options[key] = value
        elif word in ("en", "zh", "both"):
            options["lang"] = word
        elif word in ("solution", "tests"):
            kind = word
        elif word == "setup":
            options["setup"] = "1"
        elif word == "answer":
            options["answer"] = "1"
        else:
            raise ValueError(f"unknown word {word!r} in cell marker '# %% {rest}'")
    return kind, options


def _markdown_source(lines: list[str]) -> str:
    out = []
    for line in lines:
        if line == "#":
            out.append("")
        elif line.startswith("# "):
            out.append(line[2:])
        else:
            raise ValueError(f"markdown line does not start with '# ': {line!r}")
    return "\n".join(out)


def text_to_notebook(text: str) -> NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    blocks: list[tuple[str, dict[str, str], list[str]]] = []
    for line in text.splitlines():
        match = _MARKER.match(line)
        if match:
            kind, options = _parse_marker(match.group("rest") or "")
            blocks.append((kind, options, []))
        elif blocks:
            blocks[-1][2].append(line)
        elif line.strip():
            raise ValueError("text before the first '# %%' marker")
    for index, (kind, options, lines) in enumerate(blocks):
        while lines and not lines[-1].strip():
            lines.pop()
        if kind == "markdown":
            cell = nbformat.v4.new_markdown_cell(_markdown_source(lines))
            lang = options.get("lang")
            if lang:
                cell.metadata["tags"] = [lang]
            cell.id = f"md-{index:03d}-{lang or 'x'}"
            if options.get("answer"):  # graded by hand: nbgrader's manually graded answer
                cell.id = options["id"]
                cell.metadata["nbgrader"] = {
                    "grade": True, "grade_id": options["id"], "locked": False,
                    "points": int(options.get("points", 1)), "schema_version": 3,
                    "solution": True, "task": False,
                }
        else:
            cell = nbformat.v4.new_code_cell("\n".join(lines))
            cell.id = f"code-{index:03d}"
            if options.get("setup"):
                cell.metadata["tags"] = ["setup"]
            if kind in ("solution", "tests"):
                ident = options["id"]
                cell.id = ident
                cell.metadata["nbgrader"] = {
                    "grade": kind == "tests",
                    "grade_id": ident,
                    "locked": kind == "tests",
                    "schema_version": 3,
                    "solution": kind == "solution",
                    "task": False,
                }
                if kind == "tests":
                    cell.metadata["nbgrader"]["points"] = int(options.get("points", 1))
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def notebook_to_text(nb: NotebookNode) -> str:
    parts = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            lang = language_tag(cell)
            header = "# %% [markdown]" + (f" {lang}" if lang else "")
            if is_solution_cell(cell):
                points = cell.metadata["nbgrader"].get("points", 1)
                points = int(points) if float(points).is_integer() else points
                header += f" answer id={grade_id(cell)} points={points}"
            body = "\n".join("# " + line if line else "#" for line in cell.source.split("\n"))
        else:
            if is_test_cell(cell):
                points = cell.metadata["nbgrader"].get("points", 1)
                points = int(points) if float(points).is_integer() else points
                header = f"# %% tests id={grade_id(cell)} points={points}"
            elif is_solution_cell(cell):
                header = f"# %% solution id={grade_id(cell)}"
            elif "setup" in cell.metadata.get("tags", []):
                header = "# %% setup"
            else:
                header = "# %%"
            body = cell.source
        parts.append(header + ("\n" + body if body else ""))
    return "\n\n".join(parts) + "\n"
