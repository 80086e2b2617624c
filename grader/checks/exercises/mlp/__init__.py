"""Assignment 02 · 从异或到多层感知机: activations, output layers, losses, MLP forward, XOR.

Every expected value is a PyTorch expression in float64, computed while a case is prepared
(:meth:`~grader.checks.specs.Exercise.prepare`); what the known mistakes return is computed
there too, from the inputs and torch, never from a NumPy answer. Every check call runs its
calls on the student's code as :class:`~grader.checks.steps.Steps`: one message to the
sandbox in the grade of record, the same code in the student's kernel.

Numerical warnings: for activations, softmax and log-softmax a correct answer never
overflows, so any RuntimeWarning raised by the student's code (overflow, invalid
value, division by zero) fails the check with a bilingual explanation, even when
the returned values happen to be right (``1 / (1 + np.exp(-z))`` at z = -1000).
The modules:

* :mod:`.common` — tensors of a case's inputs, warnings and non-finite answers as
  failures, :class:`~.common.ValueSpec` (values against a torch expression);
* :mod:`.messages` — the catalogue: headers, the known mistakes' hints, the questions' hints;
* :mod:`.activations` — 2.2–2.7, an activation and its derivative, parametric ReLU;
* :mod:`.networks` — 2.8–2.11, softmax, log-softmax, the dense layer, the MLP's forward pass;
* :mod:`.losses` — 2.12–2.15, MSE, cross-entropy, entropy, KL divergence;
* :mod:`.xor` — 2.1 two affine maps collapse into one, 2.16 XOR with two hidden units;
* :mod:`.questions` — Questions 2.1–2.3, auto-graded by salted digests.
"""

from __future__ import annotations

from grader.checks.exercises.mlp import (  # noqa: F401  (each module registers its own)
    activations,
    losses,
    messages,
    networks,
    questions,
    xor,
)
from grader.checks.exercises.mlp.activations import ActivationSpec, PreluSpec
from grader.checks.exercises.mlp.common import ASSIGNMENT, ValueSpec
from grader.checks.exercises.mlp.xor import CollapseSpec, XorSpec

__all__ = ["ASSIGNMENT", "ActivationSpec", "PreluSpec", "ValueSpec", "CollapseSpec", "XorSpec"]
