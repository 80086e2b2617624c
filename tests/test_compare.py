"""grader.checks.compare: exact comparisons take plain data only."""

import numpy as np
import pytest

from grader.checks.compare import Case, CheckFailure, compare_value, is_plain
from grader.checks.messages import Text

CASE = Case("demo", Text("Exercise 0 · demo", "练习 0 · 示例"), seed=1)


class Anything:
    def __eq__(self, other):
        return True


class Sneaky(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__


@pytest.mark.parametrize("value", [3, 2.5, True, None, "a", np.int64(4), np.arange(3),
                                   (1, [2, 3.0]), np.array([True, False])])
def test_plain_values_are_plain(value):
    assert is_plain(value)


@pytest.mark.parametrize("value", [Anything(), Sneaky(3), [1, Anything()],
                                   np.array([Anything()], dtype=object), {"a": 1}])
def test_objects_that_choose_their_own_equality_are_not_plain(value):
    assert not is_plain(value)


@pytest.mark.parametrize("value", [Anything(), Sneaky(3), (3, Anything())])
def test_an_object_that_equals_anything_fails_an_exact_comparison(value):
    with pytest.raises(CheckFailure) as info:
        compare_value(CASE, "mistakes", 3, value)
    assert info.value.kind == "type"
    assert "wrong type" in info.value.args[0] and "类型不对" in info.value.args[0]


def test_the_right_plain_value_passes_and_a_wrong_one_fails():
    compare_value(CASE, "labels", np.array([1, -1]), np.array([1, -1]))
    compare_value(CASE, "labels", [1, -1], (1, -1))
    with pytest.raises(CheckFailure):
        compare_value(CASE, "labels", np.array([1, -1]), np.array([1, 1]))


# ------------------------------------------------------------------ diagnoses

from grader.checks.compare import Tolerance, compare_array  # noqa: E402


def _failure(expected, actual, name="dx", **kwargs):
    with pytest.raises(CheckFailure) as info:
        compare_array(CASE, name, expected, actual, **kwargs)
    return info.value.args[0]


def test_a_gradient_computed_in_float32_fails_everywhere_with_the_float32_explanation():
    rng = np.random.default_rng(0)
    expected = rng.standard_normal((4, 3))
    message = _failure(expected, expected.astype(np.float32))
    assert "float32" in message and "float64" in message
    assert "times the expected value" not in message


def test_a_value_off_at_the_last_digits_is_never_called_one_times_the_expected_value():
    expected = np.array([0.0323604, 1.5, -2.25])
    message = _failure(expected, expected * (1 + 3e-6), name="out", tol=Tolerance(1e-9, 1e-12))
    assert "1 times" not in message and "1 倍" not in message


def test_an_output_of_the_wrong_shape_gets_no_gradient_hint():
    message = _failure(np.zeros((3, 4)), np.zeros((3, 5)), name="out")
    assert "gradient" not in message.split("\n", 2)[-1] and "梯度" not in message


def test_a_gradient_with_an_extra_batch_axis_is_told_to_sum_over_the_batch():
    message = _failure(np.zeros(4), np.ones((5, 4)), name="db")
    assert "axis=0" in message


def test_finite_differences_fail_in_the_students_kernel_too():
    """The gradient rule is part of every comparison: one verdict, in every grader."""
    expected = np.linspace(-1, 1, 6)
    message = _failure(expected, expected + 1e-10)
    assert "1e-15" in message and "float64" in message
