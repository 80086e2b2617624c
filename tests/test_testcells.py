"""grader.record.testcells: the instructor's test cells, read as declarative calls."""

from __future__ import annotations

import nbformat
import pytest

from grader import notebooks
from grader.paths import SOLUTIONS
from grader.record.sandbox import bwrap_available
from grader.record.testcells import NotDeclarative, parse_test_cell, visible_source

needs_bwrap = pytest.mark.skipif(not bwrap_available()[0],
                                 reason="bubblewrap cannot run here: " + bwrap_available()[1])


def _cell(source: str, points=2):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "test_x",
                                 "points": points}
    return cell


def test_test_cell_is_parsed_with_hidden_calls_marked():
    cell = _cell('from grader import check_layer\n'
                 'check_layer("affine", f, b, seeds=[1], shapes=[(1, 2, 3)])\n'
                 '### BEGIN HIDDEN TESTS\n'
                 'grader.check("affine", f, b, seeds=[-2], shapes=[(4, 5, 6)], p=None)\n'
                 '### END HIDDEN TESTS\n')
    test = parse_test_cell(cell)
    assert [c.hidden for c in test.calls] == [False, True]
    assert test.calls[0].student_names() == ["f", "b"]
    assert test.calls[1].kwargs["seeds"].value == [-2]
    assert "BEGIN HIDDEN" not in test.visible and "seeds=[-2]" not in test.visible


@pytest.mark.parametrize("source", [
    "assert f(1) == 2",
    "check_layer('affine', f, b, seeds=[1], shapes=[(1, 2)])\nx = 1",
    "check_layer('affine', f(1), b, seeds=[1], shapes=[(1, 2)])",
    "check_layer(*args)",
    "import os\ncheck('affine', f)",
    "print_it('affine', f)",
    "check(f, 'affine')",
])
def test_free_form_test_cells_are_refused(source):
    with pytest.raises(NotDeclarative):
        parse_test_cell(_cell(source))


def test_every_instructor_test_cell_is_declarative():
    for path in sorted(SOLUTIONS.glob("*/*.ipynb")):
        for cell in notebooks.read(path).cells:
            if notebooks.is_test_cell(cell):
                parse_test_cell(cell)  # raises NotDeclarative with the reason


def test_visible_source_drops_hidden_block():
    text = "a()\n### BEGIN HIDDEN TESTS\nb()\n### END HIDDEN TESTS\nc()"
    assert visible_source(text) == "a()\nc()"
