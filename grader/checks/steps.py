"""Calls on the student's code, written down first and run together · 先记录、再一起运行的学生代码调用.

A check does not call a student's function directly. It writes the calls it wants into
:class:`Steps` (call this function on these inputs, take item 1 of what it returned,
call that object's ``backward`` ...), runs them all at once, then judges each step's
outcome in order::

    steps = Steps()
    result = steps.call(affine_forward, x, w, b, name="affine_forward", arg_names=("x", "w", "b"))
    grads = steps.call(affine_backward, dout, steps.item(result, 1), name="affine_backward")
    done = steps.run()
    out, cache = done.value(case, result)   # the student's exception becomes a CheckFailure

Where the steps run is the executor's business (:data:`EXECUTOR`): in the student's
kernel they run right here (:class:`LocalExecutor`); in the grade of record they travel
to the sandbox in one message and only their results come back. Both run them with
the same code (:func:`grader.runtime.steps.execute`), and the check, the order of
judging and every message are the same in both places: one verdict.

What every run guarantees, step by step:

* what the check supplies (arrays, also inside lists and dicts) is copied before each
  call, so every call receives it as the check wrote it; what an earlier step made (a
  cache, a node) is passed as itself. Either way the outcome says which array arguments
  the call changed in place;
* ``unchanged=[ref, ...]`` also compares the arguments of those earlier steps after
  this one (a backward pass that changes what its forward pass kept in the cache);
* a fetched value is taken when its step ends (a later step cannot change it);
* the first step that raises ends the run: later steps are marked not run. Checks judge
  in order and stop at the first problem, so they never look past it;
* warnings are recorded, never printed (nbgrader scores a cell 0 when stderr is written).
"""

from __future__ import annotations

import builtins
import warnings
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from grader.runtime.steps import OPERATORS, Ref, execute

__all__ = ["Ref", "Steps", "Step", "Outcome", "Done", "Executor", "LocalExecutor", "EXECUTOR"]


@dataclass
class Step:
    kind: str  # call | method | attr | item | op
    target: Any  # the student's object, a Ref, or (op) the operator's name
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    name: str = ""  # how messages name it: "affine_forward", "Value.__mul__"
    arg_names: tuple[str, ...] = ()  # names of the arguments (of a method: after its name)
    fetch: bool = True
    unchanged: tuple[int, ...] = ()

    def as_item(self) -> dict:
        return {"kind": self.kind, "target": self.target, "args": self.args,
                "kwargs": self.kwargs, "fetch": self.fetch, "unchanged": self.unchanged}

    def arg_name(self, position: int) -> str:
        """The name of argument ``position`` of :attr:`args`, for a message."""
        if self.kind == "method":
            position -= 1  # args[0] is the method's name
        if 0 <= position < len(self.arg_names):
            return self.arg_names[position]
        return f"argument {position + 1}"


class Steps:
    """A list of calls to make on the student's code, with references between them."""

    def __init__(self) -> None:
        self.items: list[Step] = []

    def _add(self, step: Step) -> Ref:
        self.items.append(step)
        return Ref(len(self.items) - 1)

    def call(self, function: Any, *args: Any, name: str, arg_names: Sequence[str] = (),
             fetch: bool = True, unchanged: Sequence[Ref] = (), **kwargs: Any) -> Ref:
        """``function(*args, **kwargs)``; ``function`` may be the student's or a Ref."""
        return self._add(Step("call", function, args, kwargs, name, tuple(arg_names), fetch,
                              tuple(r.index for r in unchanged)))

    def method(self, obj: Any, method: str, *args: Any, name: str, fetch: bool = True,
               arg_names: Sequence[str] = (), unchanged: Sequence[Ref] = (),
               **kwargs: Any) -> Ref:
        """``obj.method(*args, **kwargs)``."""
        return self._add(Step("method", obj, (method, *args), kwargs, name, tuple(arg_names),
                              fetch, tuple(r.index for r in unchanged)))

    def attr(self, obj: Any, attribute: str, *, name: str = "", fetch: bool = True) -> Ref:
        """``obj.attribute``."""
        return self._add(Step("attr", obj, (attribute,), {}, name or attribute, (), fetch))

    def item(self, obj: Any, index: Any, *, name: str = "", fetch: bool = False) -> Ref:
        """``obj[index]``: a part of what a step returned, to pass on."""
        return self._add(Step("item", obj, (index,), {}, name or f"[{index!r}]", (), fetch))

    def op(self, operator: str, *operands: Any, name: str, fetch: bool = True) -> Ref:
        """An operator on the student's objects (``mul``, ``neg``, ... see OPERATORS)."""
        if operator not in OPERATORS:
            raise ValueError(f"unknown operator {operator!r}")
        return self._add(Step("op", operator, operands, {}, name, (), fetch))

    def run(self) -> Done:
        """Run every step with the current executor (see :data:`EXECUTOR`)."""
        return EXECUTOR.get().run(self)


@dataclass
class Outcome:
    """What happened in one step."""

    status: str = "skipped"  # ok | error | skipped (an earlier step raised)
    value: Any = None  # when fetched, as it was when the step ended
    error: dict | None = None  # type, bases, msg, frames, not_done
    mutated: list[int] = field(default_factory=list)  # positions in Step.args changed in place
    mutated_earlier: list[tuple[int, int]] = field(default_factory=list)  # (step, position)
    warnings: list[warnings.WarningMessage] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict) -> Outcome:
        return cls(status=data.get("status", "skipped"), value=data.get("value"),
                   error=data.get("error"), mutated=list(data.get("mutated", ())),
                   mutated_earlier=[tuple(p) for p in data.get("mutated_earlier", ())],
                   warnings=[_warning(w) for w in data.get("warnings", ())])


def _warning(item: Sequence[Any]) -> warnings.WarningMessage:
    name, message, filename, lineno = (list(item) + ["", "", "", 0])[:4]
    category = getattr(builtins, str(name), None)
    if not (isinstance(category, type) and issubclass(category, Warning)):
        category = UserWarning
    return warnings.WarningMessage(category(str(message)), category, str(filename),
                                   lineno if type(lineno) is int else 0)


class Done:
    """The outcomes of a run of :class:`Steps`, to be judged in order."""

    def __init__(self, steps: Steps, outcomes: list[Outcome]):
        self.steps = steps
        self.outcomes = outcomes

    def __getitem__(self, ref: Ref) -> Outcome:
        return self.outcomes[ref.index]

    def value(self, case: Any, ref: Ref, record_warnings: list | None = None) -> Any:
        """The step's value, or the bilingual CheckFailure for what went wrong in it."""
        __tracebackhide__ = True
        from grader.checks.compare import step_failure

        outcome = self.outcomes[ref.index]
        if outcome.status == "skipped":  # the step it needed raised: that is the story
            failing = next((i for i, o in enumerate(self.outcomes) if o.status == "error"),
                           ref.index)
            raise step_failure(case, self, failing)
        if outcome.status != "ok" or outcome.mutated or outcome.mutated_earlier:
            raise step_failure(case, self, ref.index)
        if record_warnings is not None:
            record_warnings.extend(outcome.warnings)
        return outcome.value


class Executor:
    """Runs :class:`Steps` somewhere and returns their outcomes."""

    def run(self, steps: Steps) -> Done:  # pragma: no cover - interface
        raise NotImplementedError


class LocalExecutor(Executor):
    """Runs the steps in this process: the student's own kernel."""

    def run(self, steps: Steps) -> Done:
        outcomes, _ = execute([s.as_item() for s in steps.items])
        return Done(steps, [Outcome.from_dict(o) for o in outcomes])


#: Where steps run: here by default; the grade of record sets its sandbox executor.
EXECUTOR: ContextVar[Executor] = ContextVar("executor", default=LocalExecutor())  # noqa: B039 - stateless
