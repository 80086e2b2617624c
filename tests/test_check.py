"""The shared check helper, proven on small layers (affine, ReLU) with a bug zoo."""

import numpy as np
import pytest

from grader import check_layer
from tests.support import fails

SEEDS = [3, 4]
SHAPES = [(1, 7, 2), (5, 3, 4), (4, 3, 3)]  # batch of one; a square W so transposes fit


def affine_forward(x, w, b):
    return x @ w + b, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def relu_forward(x):
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    return dout * (cache > 0)


def _affine(backward, forward=affine_forward, shapes=SHAPES):
    return lambda: check_layer("affine", forward, backward, seeds=SEEDS, shapes=shapes)


def test_affine_reference_passes(capsys):
    _affine(affine_backward)()
    out = capsys.readouterr()
    assert "6 checks passed" in out.out and "6 项检查通过" in out.out
    assert out.err == ""


def test_relu_reference_passes():
    check_layer("relu", relu_forward, relu_backward, seeds=SEEDS, shapes=[(1, 1), (4, 5), (2, 3, 4)])


def test_affine_float32_forward_is_accepted():
    def forward32(x, w, b):
        return (x.astype(np.float32) @ w.astype(np.float32)).astype(np.float64) + b, (x, w)

    # float32 arithmetic is off by ~1e-7 relative, inside the stated tolerance: an honest
    # student who computes in float32 is not penalised.
    _affine(affine_backward, forward=forward32)()


def test_stub_is_reported_as_not_done():
    def stub(dout, cache):
        raise NotImplementedError()

    fails(_affine(stub), kind="not_done", contains=["not written yet", "还没有完成"])


def test_transposed_dw_is_named():
    def bug(dout, cache):
        x, w = cache
        return dout @ w.T, dout.T @ x, dout.sum(axis=0)

    fails(_affine(bug), contains=["`dw`", "transposed", "转置"])


def test_db_not_summed_over_batch_is_named():
    def bug(dout, cache):
        x, w = cache
        return dout @ w.T, x.T @ dout, dout

    fails(_affine(bug, shapes=[(5, 3, 4)]), contains=["`db`", "axis=0", "批量"])


def test_dw_divided_by_batch_size_is_named():
    def bug(dout, cache):
        x, w = cache
        return dout @ w.T, x.T @ dout / x.shape[0], dout.sum(axis=0)

    fails(_affine(bug, shapes=[(5, 3, 4)]), contains=["`dw`", "N=5", "批量大小"])


def test_wrong_sign_is_named():
    def bug(dout, cache):
        x, w = cache
        return -dout @ w.T, x.T @ dout, dout.sum(axis=0)

    fails(_affine(bug), contains=["`dx`", "sign is flipped", "符号反了"])


def test_upstream_gradient_ignored_is_named():
    def bug(dout, cache):
        x, w = cache
        ones = np.ones_like(dout)
        return ones @ w.T, x.T @ ones, ones.sum(axis=0)

    fails(_affine(bug), contains=["`dx`", "`dout` is not used", "上游梯度"])


def test_relu_mask_from_clipped_output_is_named():
    def bug(dout, cache):
        out = np.maximum(cache, 0)
        return dout * (out >= 0)

    fails(lambda: check_layer("relu", relu_forward, bug, seeds=SEEDS, shapes=[(4, 5)]),
          contains=["`dx`", "mask", "掩码"])


def test_dout_modified_in_place_is_caught():
    def bug(dout, cache):
        dout[cache <= 0] = 0  # the cs231n shortcut that breaks fan-out
        return dout

    fails(lambda: check_layer("relu", relu_forward, bug, seeds=SEEDS, shapes=[(4, 5)]),
          kind="mutated", contains=["`dout`", "in place", "原地"])


def test_cache_modified_in_place_is_caught():
    def bug(dout, cache):
        cache[cache < 0] = 0
        return dout * (cache > 0)

    fails(lambda: check_layer("relu", relu_forward, bug, seeds=SEEDS, shapes=[(4, 5)]),
          kind="mutated", contains=["`cache`"])


def test_student_exception_shows_the_students_traceback():
    def bug(dout, cache):
        x, w = cache
        return dout @ w, x.T @ dout, dout.sum(axis=0)  # shapes do not align

    failure = fails(_affine(bug, shapes=[(5, 3, 4)]), kind="exception",
                    contains=["ValueError", "raised", "抛出了"])
    message = failure.args[0]
    assert "test_check.py" in message  # the student's frame
    assert "grader/checks/compare.py" not in message and "grader/checks/specs.py" not in message


def test_wrong_number_of_gradients_is_explained():
    def bug(dout, cache):
        x, w = cache
        return dout @ w.T, x.T @ dout

    fails(_affine(bug), contains=["3", "dx, dw, db", "返回"])


def test_forward_without_cache_is_explained():
    def forward(x, w, b):
        return x @ w + b

    fails(_affine(affine_backward, forward=forward), contains=["out, cache"])


def test_none_gradient_is_a_type_error():
    def bug(dout, cache):
        x, w = cache
        return dout @ w.T, x.T @ dout, None

    fails(_affine(bug), kind="type", contains=["`db`", "NoneType"])


def test_nan_gradient_is_reported_as_not_finite():
    def bug(dout, cache):
        x, w = cache
        dx = dout @ w.T
        dx[0, 0] = np.nan
        return dx, x.T @ dout, dout.sum(axis=0)

    fails(_affine(bug), contains=["`dx`", "NaN", "inf"])


def test_failure_message_names_seed_shapes_worst_element_and_tolerance():
    def bug(dout, cache):
        x, w = cache
        dw = x.T @ dout
        dw[1, 2] += 1.0
        return dout @ w.T, dw, dout.sum(axis=0)

    failure = fails(_affine(bug, shapes=[(5, 3, 4)]))
    message = failure.args[0]
    for fragment in ["seed=3", "x.shape=(5, 3)", "w.shape=(3, 4)", "(1, 2)", "Tolerance", "容差",
                     "1 of 12", "PyTorch"]:
        assert fragment in message, fragment


def test_warnings_inside_student_code_do_not_reach_stderr(capsys):
    def noisy_forward(x, w, b):
        np.log(np.zeros(1))
        import warnings

        warnings.warn("student warning", stacklevel=1)
        return affine_forward(x, w, b)

    _affine(affine_backward, forward=noisy_forward)()
    assert capsys.readouterr().err == ""


def test_student_prints_to_stderr_do_not_reach_stderr(capsys):
    import sys

    def chatty_backward(dout, cache):
        print("debugging", file=sys.stderr)
        return affine_backward(dout, cache)

    _affine(chatty_backward)()
    captured = capsys.readouterr()
    assert captured.err == "" and "debugging" in captured.out


@pytest.mark.parametrize("value", [42, "grad", [[1, 2]]])
def test_not_a_function_is_explained(value):
    fails(_affine(value), kind="type", contains=["function", "函数"])


def test_unknown_exercise_lists_the_known_ones():
    with pytest.raises(KeyError, match="affine"):
        check_layer("no_such_layer", affine_forward, affine_backward, seeds=[0], shapes=[(1, 1, 1)])


# ------------------------------------------- the step runner's in-place change detection

def _mutated(change, given, made_by_student=False):
    """What grader.runtime.steps.execute reports for one call of ``change`` on ``given``: an
    array the check supplies, or (``made_by_student``) one an earlier step returned."""
    from grader.runtime.steps import Ref, execute

    steps = [{"kind": "call", "target": change, "args": [given], "kwargs": {}}]
    if made_by_student:
        steps = [{"kind": "call", "target": lambda: given, "args": [], "kwargs": {}},
                 {"kind": "call", "target": change, "args": [Ref(0)], "kwargs": {}}]
    outcomes, _ = execute(steps)
    assert outcomes[-1]["status"] == "ok", outcomes[-1]
    return outcomes[-1].get("mutated", [])


def _write(index, value):
    def change(x):
        x[index] = value
    return change


class _Masked(np.ma.MaskedArray):  # bytes of a masked array fill the masked slots
    pass


class _Lying(np.ndarray):  # a student's array whose own methods say nothing changed
    def tobytes(self, *args, **kwargs):
        return b""

    def copy(self, *args, **kwargs):  # the "before" the runner keeps would be the "after"
        return self

    def __eq__(self, other):
        return np.ones(self.shape, dtype=bool)


def _nested():
    nested = np.empty(2, dtype=object)
    nested[0], nested[1] = np.zeros(2), np.ones(3)
    return nested


@pytest.mark.parametrize("given, change, changed", [
    (np.arange(6.0), _write(2, 7.0), True),               # a value written
    (np.arange(6.0), _write(2, 2.0), False),              # the same value written back
    (np.zeros(3), _write(0, -0.0), False),                # 0.0 and -0.0: equal values
    (np.array([np.nan, 1.0]), _write(0, -np.nan), False),  # another NaN: still NaN
    (np.array([np.nan, 1.0]), _write(0, 0.0), True),      # a NaN replaced
    (np.arange(4), _write(3, 0), True),                   # integers
    (np.array([1, None], dtype=object), _write(1, None), False),  # objects: the same ones
    (np.array([1, None], dtype=object), _write(1, 5), True),
    (np.array(["a", "b"]), _write(0, "c"), True),         # strings (no NaN to compare)
    (np.zeros(2**18), _write(-1, 1.0), True),             # large: compared by value only
    (np.zeros(2**18), _write(-1, -0.0), False),
])
def test_step_runner_reports_a_changed_argument_exactly_when_its_values_change(
        given, change, changed):
    assert _mutated(change, given) == ([0] if changed else [])


def _grow(nested):
    nested[1][0] = 5.0  # inside an object it holds: the array still holds the same objects


@pytest.mark.parametrize("make, change, changed", [
    (lambda: np.arange(6.0).reshape(2, 3).T, _write((0, 1), 9.0), True),  # not contiguous
    (lambda: np.arange(6.0).reshape(2, 3).T, _write((0, 1), 3.0), False),  # its own value
    (lambda: np.array([np.nan, "x"], dtype=object), lambda x: None, False),  # NaN inside
    (_nested, lambda x: None, False),  # arrays inside: no comparison of their values
    (_nested, _write(0, None), True),
    (_nested, _grow, False),
    (lambda: _Masked([1.0, 2.0], mask=[False, True]), _write(1, 7.0), True),  # under the mask
    (lambda: np.arange(3.0).view(_Lying), _write(0, 5.0), True),
    (lambda: np.arange(3.0).view(_Lying), lambda x: None, False),
])
def test_step_runner_judges_the_students_own_arrays_without_running_their_code(
        make, change, changed):
    assert _mutated(change, make(), made_by_student=True) == ([0] if changed else [])
