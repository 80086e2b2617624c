"""Shared test utilities: load a notebook's answers, expect a check to pass or fail."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from grader import notebooks
from grader.checks.compare import CheckFailure
from grader.paths import COURSE, SOLUTIONS


def _notebook(root: Path, assignment: str):
    paths = sorted((root / assignment).glob("*.ipynb"))
    assert paths, f"no notebook in {root / assignment}"
    return paths[0]


@functools.cache
def _solution_namespace(assignment: str) -> dict:
    path = _notebook(SOLUTIONS, assignment)
    return notebooks.exec_graded_code(notebooks.read(path), str(path))


def solution(assignment: str) -> dict:
    """The reference answers: setup + solution cells of solutions/<assignment> executed."""
    return dict(_solution_namespace(assignment))


def stubs(assignment: str) -> dict:
    """The blank release: setup + solution cells of course/<assignment> executed."""
    path = _notebook(COURSE, assignment)
    return notebooks.exec_graded_code(notebooks.read(path), str(path))


def passes(check: Callable[[], None]) -> None:
    check()


def fails(check: Callable[[], None], *, kind: str | None = None,
          contains: Iterable[str] = ()) -> CheckFailure:
    """Run ``check`` and require a CheckFailure whose message has every string in ``contains``.

    Every message is bilingual, so a test may name an English and a Chinese fragment.
    """
    with pytest.raises(CheckFailure) as info:
        check()
    failure = info.value
    message = failure.args[0]
    if kind is not None:
        assert failure.kind == kind, f"expected a {kind!r} failure, got {failure.kind!r}:\n{message}"
    for fragment in contains:
        assert fragment in message, f"{fragment!r} not in the failure message:\n{message}"
    return failure


def run_in(session, function, *args, **kwargs):
    """The outcome of ``function(*args, **kwargs)`` run in a session's sandbox as one step,
    the way every check calls a student's code (grader.checks.steps)."""
    from grader.checks.steps import Steps

    steps = Steps()
    ref = steps.call(function, *args, name=getattr(function, "__name__", "f"), **kwargs)
    return session.run_steps(steps)[ref]


def run_solution_notebook(assignment: str, *, warnings_off: bool = False) -> dict:
    """Every code cell of the solution notebook, run in order as a student runs it (the full
    run, not autograding's shortened one). The namespace, with what the cells printed as
    ``_printed`` and the notebook's markdown as ``_markdown``."""
    import contextlib
    import io
    import os
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    nb = notebooks.read(_notebook(SOLUTIONS, assignment))
    namespace: dict = {"__name__": "__main__"}
    out = io.StringIO()
    saved = os.environ.pop("NBGRADER_EXECUTION", None)  # the student's run: full training
    try:
        with contextlib.redirect_stdout(out), warnings.catch_warnings():
            if warnings_off:
                warnings.simplefilter("ignore")
            for cell in nb.cells:
                if cell.cell_type == "code":
                    exec(compile(cell.source, f"<{cell.id}>", "exec"), namespace)  # noqa: S102
    finally:
        if saved is not None:
            os.environ["NBGRADER_EXECUTION"] = saved
        import matplotlib.pyplot as plt

        plt.close("all")
    namespace["_markdown"] = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    namespace["_printed"] = out.getvalue()
    return namespace


def question_tests(assignment: str, questions: dict) -> tuple[Callable, Callable, Callable]:
    """The three tests every assignment's multiple-choice and numeric questions get, for a
    test module to bind to its own names (pytest collects them there)::

        (test_question_right_answers_pass, test_question_wrong_answers_fail_with_their_hint,
         test_question_left_blank_is_not_done) = question_tests(A, QUESTIONS)

    ``questions``: id -> (other forms of the right answer, {a wrong answer: a fragment of its
    hint}). The notebook's own answer passes with every other form; each wrong answer fails
    with its hint, in both languages; the release's blank answer is "not answered yet"."""
    from grader import check
    from grader.checks import messages as M

    each = pytest.mark.parametrize("question", sorted(questions))

    @each
    def right(question, capsys):
        check(question, solution(assignment)[f"answer_{question}"])
        for answer in questions[question][0]:
            check(question, answer)
        assert "✓" in capsys.readouterr().out

    @each
    def wrong(question):
        for answer, fragment in questions[question][1].items():
            failure = fails(lambda answer=answer: check(question, answer),
                            contains=[fragment, "not the right answer", "答案不正确"])
            assert all(line.strip() for line in failure.args[0].splitlines()[-2:])
            keys = [k for k in M.CATALOGUE
                    if k.startswith(question) and fragment in M.CATALOGUE[k].en]
            assert keys and all(M.CATALOGUE[k].zh.strip() for k in keys), fragment

    @each
    def blank(question):
        answer = stubs(assignment)[f"answer_{question}"]
        assert answer is None
        fails(lambda: check(question, answer), kind="not_done",
              contains=["not answered yet", "还没有作答"])

    return right, wrong, blank
