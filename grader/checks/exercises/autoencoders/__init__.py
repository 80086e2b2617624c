"""Assignment 06 · 自编码器: autoencoders, sparse / contractive penalties and the VAE.

Every expected value and gradient comes from PyTorch autograd in float64; no backward
formula is written in this package. The contractive penalty is computed the long way in
torch: the encoder Jacobian is built with ``torch.autograd.grad(..., create_graph=True)``
and its squared norm is differentiated again, so the closed form the student writes is
checked against a definition, not against another closed form.

Known wrong answers (the bug zoo) are recognised through ``mutants``: what the mistake
returns, computed in ``prepare`` by running the torch reference with a flag that makes the
mistake (a path ``detach``-ed, a factor changed, two arguments swapped); autograd then gives
the mistake's gradients. Every check call runs all its cases as one list of steps (one
message to the grading sandbox). The modules:

* :mod:`.common` — data, the flagged references, :class:`ScalarSpec` and
  :class:`MultiOutputLayerSpec`;
* :mod:`.tools` — 6.0, the student's own layers and gradient checker from assignment 03;
* :mod:`.codes` — 6.1 to 6.5, the loss, the autoencoder and the penalties on the code;
* :mod:`.vae` — 6.6 to 6.9, the variational autoencoder;
* :mod:`.questions` — the notebook's auto-graded questions.
"""

from __future__ import annotations

from grader.checks.exercises.autoencoders import (  # noqa: F401  (each module registers its own)
    codes,
    messages,
    questions,
    tools,
    vae,
)
from grader.checks.exercises.autoencoders.common import (
    ASSIGNMENT,
    MultiOutputLayerSpec,
    ScalarSpec,
)
from grader.checks.exercises.autoencoders.vae import VAE_PARAMS, LossAndGradsSpec

__all__ = ["ASSIGNMENT", "ScalarSpec", "MultiOutputLayerSpec", "LossAndGradsSpec", "VAE_PARAMS"]
