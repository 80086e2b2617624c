"""Assignment 04 · 计算图与自动微分: a scalar engine, a tensor engine and modules on it, checked
against autograd.

The student's classes are used only through their public API: the constructors
``Value(float)`` and ``Tensor(array, requires_grad=...)``, Python operators, methods
(``exp``, ``relu``, ``sum``, ``backward``, ``parameters``, ``step``, …) and the attributes
``.data`` and ``.grad``, read back as plain floats or arrays. Nothing private (``_prev``,
``_backward``) is touched.

Every check writes the student's program down as :class:`~grader.checks.steps.Steps`
(``Value(x)`` is a call, ``a * b`` an operator step, ``a.tanh()`` a method step, ``.data``
and ``.grad`` attribute steps; a node is a :class:`~grader.checks.steps.Ref` to what an
earlier step made), so that one check call is one message to the grading sandbox and
runs with the same code in the student's kernel. Expressions are written once and traced
(:class:`~.common.Traced`): the same ``lambda a, b: a * b`` runs on float64 torch tensors
for the reference and on traced nodes for the student's engine. The modules:

* :mod:`.programs` — scalar operations, programs (random and fixed), known mistakes;
* :mod:`.common` — tracing, reading results, the case loop;
* :mod:`.scalar` — 4.1–4.3, ``Value``;
* :mod:`.tensor` — 4.4–4.7, ``unbroadcast``, ``Tensor``, cross-entropy, the MLP's loss;
* :mod:`.nets` — networks of Linear and ReLU layers with known weights, in torch and as steps;
* :mod:`.modules` — 4.8–4.9, ``Linear``, ``ReLU``, ``Sequential``, ``SGD``;
* :mod:`.training` — 4.10, ``train_step``;
* :mod:`.questions` — Questions 4.1–4.4, auto-graded by salted digests.

Every reference comes from torch: no NumPy answer is needed here.
"""

from __future__ import annotations

from grader.checks.exercises.autodiff import (
    messages,  # noqa: F401  (registers the catalogue)
    questions,  # noqa: F401  (registers Q4.1-4.4)
)
from grader.checks.exercises.autodiff.common import Traced
from grader.checks.exercises.autodiff.modules import ModulesExercise, SgdExercise
from grader.checks.exercises.autodiff.programs import (
    ALL_OPS,
    ARITH_OPS,
    CORE_OPS,
    FUNC_OPS,
    OPS,
    Program,
    random_program,
)
from grader.checks.exercises.autodiff.scalar import ValueExercise, torch_run
from grader.checks.exercises.autodiff.tensor import (
    CrossEntropyExercise,
    MlpLossExercise,
    TensorOpsExercise,
    UnbroadcastExercise,
)
from grader.checks.exercises.autodiff.training import TrainStepExercise

__all__ = [
    "ALL_OPS", "ARITH_OPS", "CORE_OPS", "FUNC_OPS", "OPS", "Program", "random_program",
    "torch_run", "Traced", "ValueExercise", "UnbroadcastExercise", "TensorOpsExercise",
    "CrossEntropyExercise", "MlpLossExercise", "ModulesExercise", "SgdExercise",
    "TrainStepExercise",
]
