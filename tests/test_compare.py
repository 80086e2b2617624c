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
