"""What both sides of the sandbox boundary agree on · 沙箱两侧共同约定的常量.

Imported by the worker inside the sandbox and by the trusted grader outside it, so it
holds names and numbers only.
"""

from __future__ import annotations

__all__ = ["FATAL", "CHECK_NAMES", "CAPABILITIES", "BLOCKED_DEFAULT", "STARTED"]

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

#: Special methods a handle's type may have; the grader's proxy gets the same ones.
CAPABILITIES = (
    "__call__", "__len__", "__getitem__", "__setitem__", "__delitem__", "__contains__",
    "__iter__", "__next__", "__bool__", "__float__", "__int__", "__index__", "__complex__",
    "__round__", "__neg__", "__pos__", "__abs__", "__invert__",
    "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
    "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__pow__",
    "__rpow__", "__matmul__", "__rmatmul__", "__lshift__", "__rlshift__", "__rshift__",
    "__rrshift__", "__and__", "__rand__", "__or__", "__ror__", "__xor__", "__rxor__",
    "__lt__", "__le__", "__gt__", "__ge__",
)
