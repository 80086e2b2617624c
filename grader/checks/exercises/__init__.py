"""The registry of graded exercises · 练习注册表.

Each assignment has one module here (``perceptron``, ``mlp``, ``backprop``, …)
that registers its exercises: an id used everywhere (heading, stub, test cell,
failure message), a bilingual title, and how to check a student's answer.
Modules are discovered automatically, so adding an assignment touches no
shared file.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TypeVar

from grader.checks import messages as M

__all__ = ["REGISTRY", "LOAD_ERRORS", "register", "get", "all_exercises"]

REGISTRY: dict[str, object] = {}
LOAD_ERRORS: dict[str, str] = {}  # module -> error; one broken module must not break the others
_loaded = False

T = TypeVar("T")


def register(exercise: T) -> T:
    ident = exercise.id  # type: ignore[attr-defined]
    if ident in REGISTRY and REGISTRY[ident] is not exercise:
        raise ValueError(f"exercise id {ident!r} is registered twice")
    REGISTRY[ident] = exercise
    return exercise


def _load_all() -> None:
    global _loaded
    if _loaded:
        return
    for info in pkgutil.iter_modules(__path__):
        try:
            importlib.import_module(f"{__name__}.{info.name}")
        except Exception as exc:  # reported by get() and by tests/test_messages.py
            LOAD_ERRORS[info.name] = f"{type(exc).__name__}: {exc}"
    _loaded = True


def get(exercise_id: str):
    """The exercise registered under ``exercise_id``; a bilingual error if there is none."""
    _load_all()
    try:
        return REGISTRY[exercise_id]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        broken = "".join(f"\n  {name}: {error}" for name, error in LOAD_ERRORS.items())
        raise KeyError(
            M.bilingual("unknown_exercise", exercise=exercise_id, known=known) + broken
        ) from None


def all_exercises() -> dict[str, object]:
    _load_all()
    return dict(REGISTRY)
