"""Student variants, graded by both graders · 学生答案的变体，由两个评分程序评分.

``tests/variants/<assignment>/<name>.py`` each start from the *perfect* sample of one
assignment and change some solution cells, in the format of ``tests/hostile_corpus.py``:

    # variant: correct                 or: wrong
    # what: einsum instead of @, a loop over the batch (free text)
    # assignment: 03_backprop
    # zero: test_affine, test_mlp_loss_and_grads   cells that must score 0 (wrong variants;
    #                                               every other cell keeps its points)
    # message: transposed, 转置                    fragments every failing cell's message
    #                                               must contain (wrong variants, optional)
    # %% id=affine
    def affine_forward(x, w, b): ...

:func:`kernel_verdicts` grades a variant the way the student's kernel does (every check
call of every test cell, hidden ones with the solutions' seeds, steps run locally);
``tests/test_variants.py`` grades the same variants with the grade of record (sandbox,
fixed seeds) and requires one verdict.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from grader import notebooks
from grader.checks.compare import CheckFailure
from grader.record.evaluate import check_functions
from grader.record.source import load_assignment
from tests import hostile_corpus

HERE = Path(__file__).parent / "variants"


@dataclass
class Variant:
    case: hostile_corpus.Case
    kind: str  # correct | wrong
    what: str
    messages: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.case.assignment}/{self.case.name}"


def load(path: Path) -> Variant:
    case = hostile_corpus.load(path)
    meta = {}
    for line in path.read_text(encoding="utf-8").split("# %%", 1)[0].splitlines():
        key, _, value = line.lstrip("# ").partition(":")
        meta[key.strip()] = value.strip()
    kind = meta.get("variant", "")
    if kind not in ("correct", "wrong"):
        raise ValueError(f"{path}: '# variant:' must be correct or wrong, not {kind!r}")
    if kind == "wrong" and not case.zero:
        raise ValueError(f"{path}: a wrong variant names the cells it must lose ('# zero:')")
    messages = [m.strip() for m in meta.get("message", "").split(",") if m.strip()]
    return Variant(case, kind, meta.get("what", ""), messages)


def corpus(assignment: str | None = None) -> list[Variant]:
    folders = [HERE / assignment] if assignment else sorted(p for p in HERE.iterdir() if p.is_dir())
    return [load(p) for folder in folders for p in sorted(folder.glob("*.py"))]


def notebook(variant: Variant):
    """The variant as a submitted notebook: (file name, notebook)."""
    return hostile_corpus.build(variant.case, {})


def kernel_verdicts(variant: Variant) -> dict[str, tuple[bool, str]]:
    """{test cell: (passed, failure message)} as the student's kernel sees it."""
    _, nb = notebook(variant)
    namespace = notebooks.exec_graded_code(nb, f"<{variant.name}>")
    checks = check_functions()
    verdicts = {}
    for book in load_assignment(variant.case.assignment).notebooks:
        for test in book.tests:
            verdicts[test.grade_id] = (True, "")
            for call in test.calls:
                try:
                    args = [namespace[a.name] if a.name else a.value for a in call.args]
                    kwargs = {k: namespace[a.name] if a.name else a.value
                              for k, a in call.kwargs.items()}
                    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        checks[call.function](*args, **kwargs)
                except KeyError as missing:  # a name the variant no longer defines
                    verdicts[test.grade_id] = (False, f"not defined: {missing}")
                    break
                except CheckFailure as failure:
                    verdicts[test.grade_id] = (False, failure.args[0])
                    break
    return verdicts
