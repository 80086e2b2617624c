"""The functions test cells call · 测试单元格调用的检查函数.

A test cell holds only calls to these, with the student's names and literal data:

    check_layer("affine", affine_forward, affine_backward, seeds=[3, 4],
                shapes=[(1, 7, 2), (5, 3, 4)])

That keeps test cells declarative, so the same cell can run in the student's
kernel (nbgrader) or in the trusted grader with proxies for the student's names.
Each function returns None (nbgrader would read a returned number as a partial
score), prints one pass line, or raises a bilingual CheckFailure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from grader.checks import exercises
from grader.checks.specs import FunctionSpec, LayerSpec, LossSpec

__all__ = ["check", "check_layer", "check_loss", "check_function"]


def _spec(exercise: str, kind: type | None = None):
    spec = exercises.get(exercise)
    if kind is not None and not isinstance(spec, kind):
        raise TypeError(
            f"exercise {exercise!r} is a {type(spec).__name__}, not a {kind.__name__} · "
            f"练习 {exercise!r} 的类型是 {type(spec).__name__},不是 {kind.__name__}"
        )
    return spec


def check_layer(
    exercise: str,
    forward: Callable[..., Any],
    backward: Callable[..., Any],
    *,
    seeds: Sequence[int],
    shapes: Sequence[tuple],
    **params: Any,
) -> None:
    """Forward values and every gradient of a layer against PyTorch autograd."""
    __tracebackhide__ = True
    _spec(exercise, LayerSpec).run(forward, backward, seeds=seeds, shapes=shapes, **params)


def check_loss(
    exercise: str, loss_fn: Callable[..., Any], *, seeds: Sequence[int], shapes: Sequence[tuple]
) -> None:
    """A loss function returning ``(loss, dx)`` against PyTorch autograd."""
    __tracebackhide__ = True
    _spec(exercise, LossSpec).run(loss_fn, seeds=seeds, shapes=shapes)


def check_function(
    exercise: str,
    fn: Callable[..., Any],
    *,
    seeds: Sequence[int],
    shapes: Sequence[tuple],
    **params: Any,
) -> None:
    """A function's return value against its reference on seeded random inputs."""
    __tracebackhide__ = True
    _spec(exercise, FunctionSpec).run(fn, seeds=seeds, shapes=shapes, **params)


def check(exercise: str, *student: Any, **literal: Any) -> None:
    """Any exercise: the student's objects, then literal data (seeds, shapes, cases, …)."""
    __tracebackhide__ = True
    _spec(exercise).run(*student, **literal)
