"""Reading damaged notebooks: every form is repaired and flagged, or rejected with a reason.

Fast unit tests of grader.record.intake; tests/test_grade_class.py grades such notebooks end to end.
"""

import json

import nbformat
import pytest

from grader.record.intake import MAX_CELLS, MAX_CODE_CHARS, Rejected, read_submission

V4 = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}}
CODE = {"cell_type": "code", "source": "x = 1", "metadata": {}, "outputs": [],
        "execution_count": None}


def _read(tmp_path, content):
    path = tmp_path / "hw.ipynb"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return read_submission(path)


@pytest.mark.parametrize("content, english, chinese", [
    ("", "empty file", "空文件"),
    ('{"cells": [', "not valid JSON", "不是有效的 JSON"),
    ("[" * 50_000 + "]" * 50_000, "nested too deeply", "不是 Jupyter notebook"),
    ('{"a": 1}', "not a Jupyter notebook", "不是 Jupyter notebook"),
    ('{"cells": [], "nbformat": 2}', "notebook format 2", "无法读取"),
    ('{"nbformat": 4, "cells": [{"cell_type": "code", "metadata": {"x": ' + "[" * 30_000
     + "]" * 30_000 + "}}]}", "nested too deeply", "不是 Jupyter notebook"),
])
def test_unreadable_notebooks_are_rejected_in_both_languages(tmp_path, content, english, chinese):
    with pytest.raises(Rejected) as info:
        _read(tmp_path, content)
    assert english in info.value.message and chinese in info.value.message


@pytest.mark.parametrize("cells", [
    5,
    {"a": 1},
    [7, CODE],
    [{**CODE, "source": 42}],
    [{**CODE, "metadata": ["x"]}],
    [{**CODE, "metadata": {"tags": "setup"}}],
    [{**CODE, "cell_type": "widget"}],
    [{**CODE, "outputs": None}],
    [{**CODE, "cell_type": "markdown", "attachments": ["x"]}],
])
def test_damaged_structure_is_repaired_and_flagged(tmp_path, cells):
    nb, flags = _read(tmp_path, json.dumps({**V4, "cells": cells}))
    assert "repaired_structure" in flags
    assert all(isinstance(c.source, str) and isinstance(c.metadata, dict) for c in nb.cells)


V3_CODE = {"cell_type": "code", "input": "x = 1", "language": "python", "metadata": {},
           "outputs": []}


@pytest.mark.parametrize("cell", [
    {**V3_CODE, "input": 12345},
    {**V3_CODE, "input": None},
    {**V3_CODE, "metadata": ["x"]},
    {"cell_type": "note", "source": "<script>alert(1)</script>", "metadata": {}},
    {"cell_type": "markdown", "source": None, "metadata": {}},
    {"cell_type": "markdown", "metadata": {}},
    {"metadata": {}, "source": "no kind"},
    {**V3_CODE, "outputs": "abc"},
    {**V3_CODE, "outputs": [{"output_type": "pyout", "png": 5}, 7]},
    {"cell_type": "heading", "level": "2", "source": "Title", "metadata": {}},
    {"cell_type": "markdown", "source": "x", "metadata": {}, "attachments": ["x"]},
])
def test_an_old_notebook_is_upgraded_then_repaired_like_a_new_one(tmp_path, cell):
    """Version 3 is upgraded first, so the same repairs hold for it: text sources, mapping
    metadata, and a kind of cell nbformat does not know becomes raw (shown as text)."""
    nb, flags = _read(tmp_path, json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {},
                                            "worksheets": [{"cells": [V3_CODE, cell]}]}))
    assert "nbformat3" in flags and len(nb.cells) == 2
    assert all(isinstance(c.source, str) and isinstance(c.metadata, dict) for c in nb.cells)
    assert all(c.cell_type in ("code", "markdown", "raw") for c in nb.cells)
    assert nb.cells[0].source == "x = 1"


def test_a_heading_level_cannot_make_a_small_old_notebook_huge(tmp_path):
    """The upgrade writes '#' * level: twenty headings at level ten million once turned an
    84 KB file into a 200 MB formgrader copy and 1.4 GB of memory."""
    heading = {"cell_type": "heading", "level": 10**7, "source": "Title", "metadata": {}}
    nb, _ = _read(tmp_path, json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {},
                                        "worksheets": [{"cells": [heading] * 20}]}))
    assert all(len(c.source) < 20 for c in nb.cells), nb.cells[0].source[:40]


def test_a_million_empty_worksheets_is_the_students_row(tmp_path):
    with pytest.raises(Rejected) as info:
        _read(tmp_path, json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {},
                                    "worksheets": [{"cells": []}] * (MAX_CELLS + 1)}))
    assert info.value.status == "too_large"


def test_a_decoy_cells_list_does_not_hide_an_old_notebook_s_size(tmp_path):
    """nbformat reads a version 3 notebook's worksheets, whatever else the file holds."""
    huge = {**V3_CODE, "input": "😀" * (MAX_CODE_CHARS + 1)}
    with pytest.raises(Rejected) as info:
        _read(tmp_path, json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {},
                                    "cells": [], "worksheets": [{"cells": [huge]}]}))
    assert info.value.status == "too_large"


def test_a_valid_notebook_reads_without_flags_and_without_outputs(tmp_path):
    cell = {**CODE, "outputs": [{"output_type": "stream", "name": "stdout", "text": "hi"}]}
    nb, flags = _read(tmp_path, json.dumps({**V4, "cells": [cell]}))
    assert flags == [] and nb.cells[0].outputs == []


def test_gbk_and_stray_bytes(tmp_path):
    text = json.dumps({**V4, "cells": [{**CODE, "source": "# 感知机的学习算法，逐个样本更新权重"}]},
                      ensure_ascii=False)
    nb, flags = _read(tmp_path, text.encode("gb18030"))
    assert flags == ["encoding:gb18030"] and "感知机" in nb.cells[0].source
    nb, flags = _read(tmp_path, text.encode("utf-8").replace("权".encode(), b"\xff"))
    assert flags == ["encoding:invalid_bytes"] and "感知机" in nb.cells[0].source


# ------------------------------------------------ notebooks that could never be graded

def test_a_quarter_million_tiny_cells_is_the_students_row_not_a_grader_error(tmp_path):
    """56 MB of empty cells, under the size limit, once overflowed the sandbox's wire on
    every attempt ("grader error, grade it again"): now a too_large row with a reason."""
    tiny = {"cell_type": "code", "source": "", "metadata": {}, "outputs": [],
            "execution_count": None}
    with pytest.raises(Rejected) as info:
        _read(tmp_path, json.dumps({**V4, "cells": [tiny] * 250_000}))
    assert info.value.status == "too_large"
    assert "250000 cells" in info.value.message and "250000 个单元格" in info.value.message


@pytest.mark.parametrize("source", ["x = 1\n" * 400_000, "😀" * (MAX_CODE_CHARS + 1),
                                    ["y = 2\n"] * 400_000])
def test_too_much_code_is_rejected_with_a_reason(tmp_path, source):
    with pytest.raises(Rejected) as info:
        _read(tmp_path, json.dumps({**V4, "cells": [{**CODE, "source": source}]}))
    assert info.value.status == "too_large"
    assert "characters of code" in info.value.message and "个字符" in info.value.message


def test_the_limits_also_hold_for_old_notebooks_and_long_grade_ids(tmp_path):
    sheet = {"cells": [{"cell_type": "markdown", "source": ""}] * (MAX_CELLS + 1)}
    with pytest.raises(Rejected, match="cells"):
        _read(tmp_path, json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {},
                                    "worksheets": [sheet]}))
    long_id = {**CODE, "metadata": {"nbgrader": {"grade_id": "x" * (MAX_CODE_CHARS + 1)}}}
    with pytest.raises(Rejected, match="characters of code"):
        _read(tmp_path, json.dumps({**V4, "cells": [long_id]}))


def test_the_limits_are_far_above_the_course_and_below_the_wire():
    """Every instructor notebook is far under the limits, and a notebook at the limits
    (every character an emoji, escaped as 12 bytes) still fits one frame to the sandbox."""
    from grader.paths import SOLUTIONS
    from grader.record.intake import _all_cells, _code_chars
    from grader.record.program import build_program
    from grader.record.source import load_assignment
    from grader.runtime.wire import MAX_JSON

    for path in SOLUTIONS.glob("*/*.ipynb"):
        cells = _all_cells(json.loads(path.read_text(encoding="utf-8")), 4)
        assert len(cells) * 10 <= MAX_CELLS, path
        assert sum(_code_chars(c) for c in cells) * 20 <= MAX_CODE_CHARS, path
    book = load_assignment("01_perceptron").notebooks[0]
    per_cell = MAX_CODE_CHARS // MAX_CELLS - 8
    cells = [{**CODE, "id": f"c{i}", "source": "😀" * per_cell,
              "metadata": {"nbgrader": {"grade_id": f"g{i:07d}", "solution": True}}}
             for i in range(MAX_CELLS)]
    nb = nbformat.from_dict({**V4, "cells": cells})
    items, _ = build_program(nb, book)
    frame = json.dumps({"op": "load", "cells": items}, separators=(",", ":"))
    assert len(frame.encode()) < 0.9 * MAX_JSON, len(frame) / 2**20


def test_a_blank_release_looks_blank_and_one_answered_question_does_not():
    """A release's stubs (``raise NotImplementedError`` and a question's ``answer_… = None``)
    are "nothing filled in"; an answered question or a written function is work."""
    from grader import notebooks
    from grader.paths import COURSE, assignments
    from grader.record.intake import looks_blank

    for assignment in assignments():
        for path in sorted((COURSE / assignment).glob("*.ipynb")):
            nb = notebooks.read(path)
            assert looks_blank(nb), path
            answers = [c for c in nb.cells if notebooks.is_solution_cell(c)
                       and c.cell_type == "code" and "NotImplementedError" not in c.source]
            if answers:
                answered = notebooks.read(path)
                cell = next(c for c in answered.cells if notebooks.grade_id(c)
                            == notebooks.grade_id(answers[0]))
                cell.source = cell.source.replace("None", '"b"', 1)
                assert not looks_blank(answered), path
