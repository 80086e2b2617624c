"""What the student's code did, and comparing what it returned · 学生代码的运行结果与比较.

Everything here is shared by all exercises: a failure type whose message is the
whole story in two languages (:meth:`Case.failure` builds one for a case), the failures
of a step on the student's code (an exception, not written yet, an input changed in
place), and array comparison that names the tensor, the worst element and, where it can
tell, the kind of mistake.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.checks import messages as M

__all__ = [
    "CheckFailure",
    "Case",
    "Tolerance",
    "compare_array",
    "compare_value",
    "report_pass",
    "as_tuple",
    "mutated_failure",
    "wrong_type",
]




class CheckFailure(AssertionError):
    """A failed check. Its message is complete and bilingual; no grader traceback is needed."""

    def __init__(self, message: str, *, kind: str = "wrong", exercise: str = ""):
        super().__init__(message)
        self.kind = kind  # "wrong", "not_done", "exception", "mutated", "type"
        self.exercise = exercise

    def __str__(self) -> str:  # the message starts on its own line under "CheckFailure:"
        return "\n" + self.args[0]

    def _render_traceback_(self) -> list[str]:
        """What IPython shows instead of a traceback (and nbgrader's Validate dialog, once per
        failing cell): the grader's frames help nobody. The first line counts the checks of
        this kernel so far, the next names the exercise; long lines are wrapped, because the
        Validate dialog clips what does not fit its width."""
        if not hasattr(self, "_tally"):  # IPython may render one failure more than once
            TALLY["failed"] += 1
            self._tally = (TALLY["passed"], TALLY["failed"])
        tally = M.text("validate_tally", passed=self._tally[0], failed=self._tally[1])
        return [f"\x1b[31mCheckFailure\x1b[0m · {tally.en}", f"{' ' * 15}{tally.zh}",
                *(part for line in self.args[0].splitlines() for part in wrap_line(line))]


#: checks passed and failed in this process so far (the first line of a rendered failure)
TALLY = {"passed": 0, "failed": 0}
WRAP_COLUMNS = 86  # what nbgrader's Validate dialog shows of a line in a 1400-pixel window

M.register(
    {
        "validate_tally": (
            "checks in this kernel so far: {passed} passed, {failed} failed",
            "本内核到目前为止的检查：{passed} 项通过，{failed} 项未通过",
        ),
    }
)


def _columns(char: str) -> int:
    import unicodedata

    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def wrap_line(line: str, width: int = WRAP_COLUMNS) -> list[str]:
    """``line`` in pieces of at most ``width`` columns (a CJK character takes two), broken at
    a space where there is one, continued under its own indentation plus two spaces."""
    if sum(_columns(c) for c in line) <= width:
        return [line]
    indent = " " * (len(line) - len(line.lstrip(" ")) + 2)
    pieces, current, used, first = [], "", 0, True
    for char in line:
        used += _columns(char)
        current += char
        if used > width:
            cut = current.rfind(" ", len(indent) if not first else 0, len(current) - 1)
            if cut <= len(indent):  # no space to break at (Chinese): break before this char
                cut = len(current) - 1
            pieces.append(current[:cut].rstrip())
            current = indent + current[cut:].lstrip(" ")
            used = sum(_columns(c) for c in current)
            first = False
    if current.strip():
        pieces.append(current)
    return pieces


@dataclass(frozen=True)
class Tolerance:
    rtol: float = 1e-6
    atol: float = 1e-8

    def close(self, actual: np.ndarray, expected: np.ndarray) -> np.ndarray:
        return np.isclose(actual, expected, rtol=self.rtol, atol=self.atol, equal_nan=False)


@dataclass
class Case:
    """One concrete test case: which exercise, and what reproduces it."""

    exercise: str  # exercise id, e.g. "affine"
    title: M.Text  # e.g. "Exercise 3.2 · affine layer" in both languages
    seed: int | None = None
    inputs: Mapping[str, Any] = field(default_factory=dict)
    description: str | None = None  # used instead of seed + shapes when given
    redact: bool = False  # hide inputs (hidden tests seen by the trusted grader)
    data: dict[str, Any] = field(default_factory=dict)  # what else an exercise keeps per case

    def reproduce_lines(self) -> list[str]:
        if self.redact:
            return []
        if self.description is not None:
            return [M.bilingual("reproduce_case", indent="  ", case=self.description)]
        parts = [f"{k}.shape={_shape_str(v)}" for k, v in self.inputs.items()]
        shapes = M.Text(", ".join(parts), "，".join(parts))  # each language its own comma
        return [M.bilingual("reproduce", indent="  ", seed=self.seed, inputs=shapes)]

    def header(self, key: str, **values: Any) -> str:
        """The first line of a failure: the exercise, then what went wrong (``key`` in the catalogue)."""
        what = M.text(key, **values)
        return f"✗ {self.title.en}: {what.en}\n✗ {self.title.zh}：{what.zh}"

    def failure(self, header: str, *lines: str, kind: str = "wrong", **values: Any) -> CheckFailure:
        """A failure of this case: the header (``header`` with ``values``), ``lines`` (already
        bilingual), then what reproduces the case."""
        return CheckFailure("\n".join([self.header(header, **values), *lines,
                                       *self.reproduce_lines()]), kind=kind, exercise=self.exercise)


def _shape_str(value: Any) -> str:
    shape = getattr(value, "shape", None)
    return str(tuple(shape)) if shape is not None else repr(value)


def as_tuple(value: Any) -> tuple:
    """A backward that returns one gradient may return it bare or in a 1-tuple."""
    if isinstance(value, tuple):
        return value
    if isinstance(value, list) and value and all(isinstance(v, np.ndarray) for v in value):
        return tuple(value)
    return (value,)


# --------------------------------------------------------------------------- calling


def require_callable(case: Case, function_name: str, function: Any) -> None:
    """The student's name must be a function (a check calls it)."""
    __tracebackhide__ = True
    if not callable(function):
        raise CheckFailure(
            M.bilingual("not_callable", exercise=case.title, function=function_name,
                        found=type(function).__name__),
            kind="type", exercise=case.exercise)


def step_failure(case: Case, done: Any, index: int) -> CheckFailure:
    """The bilingual failure for step ``index`` of a run of :class:`grader.checks.steps.Steps`:
    the student's exception, "not done yet", or an input changed in place."""
    step, outcome = done.steps.items[index], done.outcomes[index]
    error = outcome.error or {}
    if outcome.status == "error" and error.get("not_done"):
        return CheckFailure(M.bilingual("not_done", exercise=case.title, function=step.name),
                            kind="not_done", exercise=case.exercise)
    if outcome.status == "error":
        frames = str(error.get("frames", "")).rstrip("\n")
        lines = [M.bilingual("student_exception", exercise=case.title, function=step.name,
                             error=str(error.get("type", "Exception"))[:100]),
                 "\n".join("    " + line for line in frames.splitlines()),
                 *case.reproduce_lines()]
        return CheckFailure("\n".join(line for line in lines if line), kind="exception",
                            exercise=case.exercise)
    if outcome.mutated_earlier:
        earlier, position = outcome.mutated_earlier[0]
        name = done.steps.items[earlier].arg_name(position)
    else:
        name = step.arg_name(outcome.mutated[0]) if outcome.mutated else "?"
    return mutated_failure(case, step.name, name)


def mutated_failure(case: Case, function: str, name: str) -> CheckFailure:
    """``function`` changed ``name`` in place (an input, a cache, a parameter)."""
    return case.failure("hdr_modified", M.bilingual("mutated_input", indent="  ",
                                                    function=function, name=name),
                        kind="mutated")


def wrong_type(case: Case, name: str, expected: str, found: str) -> CheckFailure:
    """``name`` is not what the check can compare (``expected``, in words); it is ``found``."""
    return case.failure("hdr_wrong_type", M.bilingual("wrong_type", indent="  ", name=name,
                                                      expected=expected, found=found),
                        kind="type", name=name)


# ------------------------------------------------------------------------- comparing


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _to_array(case: Case, name: str, actual: Any, expected: np.ndarray) -> np.ndarray:
    __tracebackhide__ = True
    try:
        array = np.asarray(actual)
    except Exception:  # ragged lists and other oddities
        array = np.asarray(None, dtype=object)
    if array.dtype == object or not np.issubdtype(array.dtype, np.number) and array.dtype != bool:
        found = type(actual).__name__ if actual is None or array.dtype == object else str(array.dtype)
        raise wrong_type(case, name, f"a float array of shape {tuple(expected.shape)}", found)
    return array.astype(np.float64) if array.dtype == bool else array


def compare_array(
    case: Case,
    name: str,
    expected: np.ndarray,
    actual: Any,
    *,
    tol: Tolerance = Tolerance(),
    batch_size: int | None = None,
    alternatives: Iterable[tuple[str, np.ndarray]] = (),
    header_key: str = "hdr_mismatch",
) -> None:
    """Raise a CheckFailure unless ``actual`` matches ``expected`` in shape and values.

    ``alternatives`` are (hint key, array) pairs: what a known wrong implementation
    would have returned. When the student's answer matches one, its hint is shown.
    """
    __tracebackhide__ = True
    expected = np.asarray(expected, dtype=np.float64)
    array = _to_array(case, name, actual, expected)
    alternatives = list(alternatives)

    if array.shape != expected.shape:
        hint = _diagnose_shape(name, expected, array)
        raise case.failure("hdr_wrong_shape",
                           M.bilingual("wrong_shape", indent="  ", name=name,
                                       found=tuple(array.shape), expected=tuple(expected.shape)),
                           *([hint] if hint else []), name=name)

    low_precision = array.dtype.kind == "f" and array.dtype.itemsize < 8
    array = array.astype(np.float64)
    bad_finite = ~np.isfinite(array) & np.isfinite(expected)
    if bad_finite.any():
        index = tuple(int(i) for i in np.argwhere(bad_finite)[0])
        raise case.failure("hdr_not_finite", M.bilingual("not_finite", indent="  ", name=name,
                                                         count=int(bad_finite.sum()), index=index),
                           name=name)

    ok = tol.close(array, expected) | (np.isnan(array) & np.isnan(expected))
    if ok.all():
        # One rule everywhere (the student's kernel, Validate, grader check, the grade of
        # record): a gradient must be as exact as float64 allows (grader.checks.policy).
        from grader.checks.policy import strict_gradients

        strict_gradients(case, name, expected, array, tol)
        return

    error = np.where(ok, 0.0, np.abs(array - expected))
    worst = np.unravel_index(int(np.argmax(error)), error.shape) if error.ndim else ()
    worst_index = tuple(int(i) for i in worst)
    lines = [
        case.header(header_key, name=name),
        M.bilingual(
            "wrong_values",
            indent="  ",
            name=name,
            shape=tuple(expected.shape),
            count=int((~ok).sum()),
            total=int(ok.size),
        ),
        M.bilingual(
            "worst_element",
            indent="  ",
            index=worst_index,
            expected=_fmt(float(expected[worst])),
            found=_fmt(float(array[worst])),
        ),
    ]
    hint = _diagnose_values(expected, array, tol, batch_size, alternatives, low_precision)
    if hint:
        lines.append(hint)
    lines += case.reproduce_lines()
    lines.append(M.bilingual("tolerance", indent="  ", rtol=tol.rtol, atol=tol.atol))
    raise CheckFailure("\n".join(lines), exercise=case.exercise)


_PLAIN = (type(None), bool, int, float, complex, str, bytes)


def is_plain(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` is plain data: numbers, strings, NumPy arrays and scalars, and
    tuples and lists of them, of exactly those types. Only plain data is compared exactly:
    an object of the student's own type (a subclass included) answers ``==`` as it likes."""
    kind = type(value)
    if kind in _PLAIN:
        return True
    if isinstance(value, np.generic):
        return kind.__module__ == "numpy"
    if kind is np.ndarray:
        return value.dtype != object
    if kind in (tuple, list) and depth < 20:
        return all(is_plain(item, depth + 1) for item in value)
    return False


def as_number(case: Case, name: str, value: Any) -> float:
    """A number the student returned, as a float; a CheckFailure for anything else. Judging
    code uses this instead of ``float(value)``: an object of the student's own type would
    answer ``float()`` (and ``<=``, ``==``) however it likes."""
    __tracebackhide__ = True
    plain = is_plain(value) and not isinstance(value, (str, bytes, type(None), tuple, list))
    if plain and np.ndim(value) == 0 and np.asarray(value).dtype.kind in "biuf":
        return float(value)
    raise wrong_type(case, name, "a number", type(value).__name__)


def compare_value(case: Case, name: str, expected: Any, actual: Any) -> None:
    """Exact comparison for non-float results (labels, counts, booleans)."""
    __tracebackhide__ = True
    if not is_plain(actual):
        raise wrong_type(case, name, _short(expected), type(actual).__name__)
    same = False
    try:
        same = bool(np.array_equal(np.asarray(actual), np.asarray(expected)))
        same = same and np.asarray(actual).shape == np.asarray(expected).shape
    except Exception:
        same = False
    if not same:
        raise case.failure("hdr_wrong", M.bilingual("wrong_value", indent="  ", name=name,
                                                    expected=_short(expected),
                                                    found=_short(actual)),
                           name=name)


def _short(value: Any, limit: int = 160) -> str:
    if isinstance(value, np.ndarray):
        text = np.array2string(value, threshold=20, precision=4)
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ------------------------------------------------------------------------ diagnosing


def _diagnose_shape(name: str, expected, actual) -> str | None:
    if expected.ndim == 2 and actual.shape == expected.shape[::-1]:
        return M.bilingual("hint_transposed", indent="  ")
    gradient = name.lstrip("`").startswith("d") or "grad" in name
    if not gradient:
        return None  # the gradient hints below are about a variable's shape
    if actual.ndim == expected.ndim + 1 and actual.shape[1:] == expected.shape:
        return M.bilingual("hint_missing_batch_sum", indent="  ")
    if actual.size > expected.size:
        return M.bilingual("hint_shape_broadcast", indent="  ")
    if actual.size == 1 and expected.size > 1:
        return M.bilingual("hint_summed_to_scalar", indent="  ", shape=tuple(expected.shape))
    return None


def _diagnose_values(expected, actual, tol, batch_size, alternatives,
                     low_precision: bool = False) -> str | None:
    scale = float(np.max(np.abs(expected), initial=0.0))
    if low_precision or (scale and float(np.max(np.abs(actual - expected))) <= 1e-6 * scale
                         and np.allclose(actual, expected.astype(np.float32), rtol=1e-6,
                                         atol=1e-6 * scale)):
        return M.bilingual("hint_float32", indent="  ")  # before any mutant: it explains all
    loose = Tolerance(tol.rtol * 10, tol.atol * 10)
    if expected.ndim == 2 and expected.shape[0] == expected.shape[1]:
        alternatives = [("hint_transposed", expected.T), *alternatives]
    for key, alternative in alternatives:
        alternative = np.asarray(alternative, dtype=np.float64)
        if alternative.shape == actual.shape and loose.close(actual, alternative).all():
            return M.bilingual(key, indent="  ")
    if not np.any(expected):
        return None
    factor = float(np.vdot(actual, expected) / np.vdot(expected, expected))
    if not math.isfinite(factor) or abs(factor) < 1e-12:
        return None
    if not loose.close(actual, factor * expected).all():
        return None
    if abs(factor + 1) < 1e-6:
        return M.bilingual("hint_wrong_sign", indent="  ")
    if batch_size and batch_size > 1:
        for scale in (batch_size, 1 / batch_size):
            if abs(factor - scale) < 1e-6 * max(1.0, scale):
                return M.bilingual(
                    "hint_batch_scale", indent="  ", n=batch_size, factor=_fmt(factor)
                )
    # Any wrong single number is "some multiple" of the right one: name a factor only
    # when it is one a student plausibly dropped or added (2, 1/2), and never "1 times".
    if actual.size == 1 and not any(abs(factor - f) < 1e-6 for f in (2.0, 0.5, -2.0, -0.5)):
        return None
    if abs(factor - 1.0) < 1e-4 or _fmt(factor) == "1":
        return None
    return M.bilingual("hint_constant_factor", indent="  ", factor=_fmt(factor))


# -------------------------------------------------------------------------- reporting


def report_pass(title: M.Text, count: int) -> None:
    """Print the success line. Printing (stdout) never costs points in nbgrader."""
    key = "passed_one" if count == 1 else "passed"  # "all 1 checks" reads badly in both
    print(M.bilingual(key, exercise=title, count=count))
    TALLY["passed"] += 1


def describe(values: Sequence[Any] | Mapping[str, Any]) -> str:
    if isinstance(values, Mapping):
        return ", ".join(f"{k}={_short(v, 60)}" for k, v in values.items())
    return ", ".join(_short(v, 60) for v in values)
