"""Chinese prose uses full-width punctuation (STYLE.md), in notebooks and in messages."""

import pytest

from grader import notebooks
from grader.checks import exercises
from grader.checks import messages as M
from grader.course.punctuation import convert_prose
from grader.paths import SOLUTIONS

NOTEBOOKS = sorted(SOLUTIONS.glob("*/*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.parent.name)
def test_chinese_cells_use_full_width_punctuation(path):
    bad = []
    for cell in notebooks.read(path).cells:
        if cell.cell_type == "markdown" and notebooks.language_tag(cell) == "zh":
            for line in cell.source.splitlines():
                if convert_prose(line) != line:
                    bad.append(line)
    assert not bad, ("ASCII punctuation in Chinese prose (fix: python -m grader.course.punctuation):\n"
                     + "\n".join(bad[:10]))


def _import_every_module():
    """Modules register their messages on import: load them all."""
    import importlib
    import pkgutil

    import grader

    exercises.all_exercises()
    # every module of every sub-package (grader.record.collect, …), not only the top level
    for info in pkgutil.walk_packages(grader.__path__, "grader."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)


def test_chinese_messages_use_full_width_punctuation():
    _import_every_module()
    bad = [f"{key}: {entry.zh}" for key, entry in M.CATALOGUE.items()
           if convert_prose(entry.zh) != entry.zh]
    assert not bad, "\n".join(bad[:10])
