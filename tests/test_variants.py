"""Correct answers written differently keep every point, wrong behaviours lose theirs, and
the student's kernel and the grade of record agree on every cell (tests/variants/)."""

from __future__ import annotations

import functools

import pytest

from grader import notebooks
from grader.record.batch import grade
from grader.record.notebook import Options
from grader.record.sandbox import Limits, bwrap_available
from tests import variants_corpus

VARIANTS = variants_corpus.corpus()
IDS = [v.name for v in VARIANTS]


@pytest.fixture(scope="module")
def of_record(tmp_path_factory):
    """Every variant graded in one class by the trusted grader (fixed seeds, like the kernel)."""
    if not bwrap_available()[0]:
        pytest.skip("bubblewrap cannot run here: " + bwrap_available()[1])
    root = tmp_path_factory.mktemp("variants")
    for variant in VARIANTS:
        name, nb = variants_corpus.notebook(variant)
        student = variant.name.replace("/", "__")
        notebooks.write_clean(nb, root / "in" / student / variant.case.assignment / name)
    results = grade(root / "in", root / "out", options=Options(limits=Limits(cell_seconds=60)),
                    quiet=True, jobs=2)
    return {(r.student, r.assignment): r for r in results}


BY_NAME = {v.name: v for v in VARIANTS}


@functools.cache
def _kernel_verdicts(name: str) -> dict[str, tuple[bool, str]]:
    """The kernel's verdicts on one variant, computed once for the two tests that read them."""
    return variants_corpus.kernel_verdicts(BY_NAME[name])


def _expected_zero(variant) -> set[str]:
    return set(variant.case.zero) if variant.kind == "wrong" else set()


@pytest.mark.parametrize("variant", VARIANTS, ids=IDS)
def test_the_kernel_scores_each_variant_as_it_deserves(variant):
    verdicts = _kernel_verdicts(variant.name)
    failed = {cell for cell, (passed, _) in verdicts.items() if not passed}
    assert failed == _expected_zero(variant), {c: verdicts[c][1][:600] for c in failed}
    for cell in failed:
        for fragment in variant.messages:
            assert fragment in verdicts[cell][1], (cell, fragment, verdicts[cell][1][:800])


@pytest.mark.slow
@pytest.mark.parametrize("variant", VARIANTS, ids=IDS)
def test_the_grade_of_record_gives_the_kernels_verdict(of_record, variant):
    result = of_record[(variant.name.replace("/", "__"), variant.case.assignment)]
    cells = {c.grade_id: c for nb in result.notebooks for c in nb.cells}
    failed = {ident for ident, c in cells.items() if c.score < c.points}
    kernel = _kernel_verdicts(variant.name)
    assert failed == {c for c, (passed, _) in kernel.items() if not passed}, \
        {c: cells[c].detail[:600] for c in failed}
    for ident in failed:
        assert cells[ident].score == 0, (ident, cells[ident].score)
        for fragment in variant.messages:
            assert fragment in cells[ident].detail, (ident, fragment, cells[ident].detail[:800])
