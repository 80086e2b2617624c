"""Chinese prose uses full-width punctuation (STYLE.md), in notebooks and in messages."""

import pytest

from grader import exercises, notebooks
from grader import messages as M
from grader.paths import SOLUTIONS
from grader.punctuation import convert_prose

NOTEBOOKS = sorted(SOLUTIONS.glob("*/*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.parent.name)
def test_chinese_cells_use_full_width_punctuation(path):
    bad = []
    for cell in notebooks.read(path).cells:
        if cell.cell_type == "markdown" and notebooks.language_tag(cell) == "zh":
            for line in cell.source.splitlines():
                if convert_prose(line) != line:
                    bad.append(line)
    assert not bad, "ASCII punctuation in Chinese prose (fix: python -m grader.punctuation):\n" + "\n".join(
        bad[:10]
    )


def test_chinese_messages_use_full_width_punctuation():
    exercises.all_exercises()
    bad = [f"{key}: {entry.zh}" for key, entry in M.CATALOGUE.items()
           if convert_prose(entry.zh) != entry.zh]
    assert not bad, "\n".join(bad[:10])
