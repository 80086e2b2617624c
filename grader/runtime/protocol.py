"""What both sides of the sandbox boundary agree on · 沙箱两侧共同约定的常量.

Imported by the worker inside the sandbox and by the trusted grader outside it, so it
holds names and numbers only.
"""

from __future__ import annotations

__all__ = ["FATAL", "CHECK_NAMES", "BLOCKED_DEFAULT", "STARTED"]

#: Reply key of a worker error that is not the student's exception (the protocol broke).
FATAL = "worker_fatal"

#: The flag the worker writes just before the first student cell runs: anything after it
#: is the submission's doing, anything before it the grader's.
STARTED = "@started"

#: The check functions a test cell may call (:mod:`grader.checks.api` defines them).
CHECK_NAMES = ("check", "check_layer", "check_loss", "check_function")

#: Modules a from-scratch exercise may not import (autodiff and symbolic differentiation).
#: Their files are not mounted in the sandbox; the worker's import blocker refuses them too.
BLOCKED_DEFAULT = (
    "torch", "functorch", "torchgen", "torchvision", "torchaudio", "jax", "jaxlib", "flax",
    "tensorflow", "keras", "autograd", "mxnet", "tinygrad", "micrograd", "mygrad", "chainer",
    "theano", "aesara", "pytensor", "paddle", "mindspore", "oneflow", "mlx", "sympy",
    "numdifftools", "dezero", "nnabla", "cupy", "thinc",
)
