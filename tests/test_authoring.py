import pytest

from grader import notebooks
from grader.course.authoring import notebook_to_text, text_to_notebook
from grader.paths import SOLUTIONS

SOURCES = sorted(SOLUTIONS.glob("*/*.ipynb"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.parent.name)
def test_text_form_round_trips(path):
    nb = notebooks.read(path)
    again = text_to_notebook(notebook_to_text(nb))
    assert [c.source for c in again.cells] == [c.source for c in nb.cells]
    assert [c.cell_type for c in again.cells] == [c.cell_type for c in nb.cells]
    assert [c.metadata.get("nbgrader") for c in again.cells] == [
        c.metadata.get("nbgrader") for c in nb.cells
    ]
    assert [notebooks.language_tag(c) for c in again.cells] == [
        notebooks.language_tag(c) for c in nb.cells
    ]


def test_markers_make_nbgrader_cells():
    nb = text_to_notebook(
        "# %% [markdown] en\n# Hello\n\n# %% [markdown] zh\n# 你好\n\n# %% setup\nimport numpy\n\n"
        "# %% solution id=f\ndef f():\n    pass\n\n# %% tests id=test_f points=3\ncheck('f', f)\n"
    )
    md_en, md_zh, setup, sol, test = nb.cells
    assert md_en.metadata.tags == ["en"] and md_zh.metadata.tags == ["zh"]
    assert setup.metadata.tags == ["setup"]
    assert sol.metadata.nbgrader["solution"] and not sol.metadata.nbgrader["grade"]
    assert test.metadata.nbgrader["points"] == 3 and test.metadata.nbgrader["locked"]


def test_unknown_marker_word_is_an_error():
    with pytest.raises(ValueError, match="unknown word"):
        text_to_notebook("# %% solutoin id=f\npass\n")
