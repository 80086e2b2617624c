"""The trusted grade equals nbgrader's in-kernel grade, cell by cell, for every sample.

Every sample submission of every assignment (perfect, blank and the partly wrong
ones in ``samples/``) is autograded twice: by ``nbgrader autograde`` (the notebook
runs top to bottom in a kernel) and by ``python -m grader grade`` (solution cells in
a sandbox, the instructor's test cells in the trusted process). Both must give every
autograded cell the same score (answers graded by hand wait for the instructor in both;
tests/test_gradebook.py checks the grade of record leaves them so).
"""

from __future__ import annotations

import pytest
from nbgrader.api import Gradebook

from grader.paths import COURSE, assignments
from grader.record.batch import grade

pytestmark = pytest.mark.slow


def _ready() -> list[str]:
    return [a for a in assignments() if list((COURSE / a).glob("*.ipynb"))]


@pytest.fixture(scope="module")
def both(nbgrader_graded):
    root, samples, _ = nbgrader_graded  # nbgrader autograde ran once for the whole session
    ids = _ready()
    in_kernel = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for ident in ids:
            for submission in gb.find_assignment(ident).submissions:
                for nb in submission.notebooks:
                    for g in nb.grades:
                        if g.cell_type == "markdown":
                            continue  # an answer graded by hand: the instructor's, in both
                        in_kernel[(submission.student.id, ident, g.name)] = float(g.score)
    trusted, flags = {}, {}
    for result in grade(root / "submitted", root / "trusted", jobs=2, quiet=True):
        flags[(result.student, result.assignment)] = result.flags
        for nb in result.notebooks:
            for cell in nb.cells:
                trusted[(result.student, result.assignment, cell.grade_id)] = cell.score
    return samples, in_kernel, trusted, flags


def test_every_sample_scores_the_same_cell_by_cell(both):
    samples, in_kernel, trusted, _ = both
    assert samples and in_kernel
    assert set(trusted) == set(in_kernel)
    differ = {k: (in_kernel[k], trusted[k]) for k in in_kernel if in_kernel[k] != trusted[k]}
    assert not differ, differ


def test_honest_samples_raise_no_flag_for_the_instructor(both):
    """Flags ask an instructor to look (a process started, a protected file opened, ...):
    the bundled samples are honest work, so only informational flags may appear."""
    from grader.record.notebook import INFO_FLAGS

    _, _, _, flags = both
    assert flags
    raised = {key: [f for f in found if not f.startswith(INFO_FLAGS)]
              for key, found in flags.items()}
    assert not {key: found for key, found in raised.items() if found}
