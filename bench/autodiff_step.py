"""One training step of the two-layer MLP, four ways · MLP 单个训练步的四种实现.

    python bench/autodiff_step.py [--notebook PATH] [--repeats 100] [--threads 1]

1. the tensor engine of Assignment 4 (``Tensor`` and ``mlp_loss`` from the notebook at
   ``--notebook``, by default the reference solution ``solutions/04_autodiff``; the graph is
   built and walked on every step), with gradients created lazily and only for tensors
   with ``requires_grad=True``, as the notebook's ``Tensor`` does;
2. the same engine made eager: a zero ``grad`` for every node when it is created and a
   gradient for every input, the data ``X`` included (what the engine did before its
   gradients became lazy, and what the notebook's Section 8 explains);
3. hand-written NumPy backprop, as in Assignment 3 (forward with caches, backward by the
   matrix formulas, no graph);
4. PyTorch autograd on the CPU.

All run in float64 on the same data and weights (the gradients are compared first), for
a small, a medium and a wide configuration. Each step is forward, backward and an SGD
update. The script prints milliseconds per step and the ratio to the hand-written
version. It is a benchmark, not a test: numbers depend on the machine.

What to expect: on small layers every engine pays a per-operation overhead (Python
objects, closures, the graph walk). On wide layers the eager engine pays twice more: the
zero arrays (memory traffic as large as the activations) and the gradient of ``X`` (one
more matrix product as large as the first layer); the lazy engine and PyTorch skip both.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

CONFIGS = [  # (name, batch_size, num_inputs, num_hiddens, num_outputs)
    ("two moons", 200, 2, 32, 2),
    ("digits-sized", 256, 64, 256, 10),
    ("wide", 512, 256, 1024, 10),
]


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--notebook", default=None,
                   help="the notebook whose engine is timed (default: solutions/04_autodiff)")
    p.add_argument("--repeats", type=int, default=100, help="timed steps per block")
    p.add_argument("--blocks", type=int, default=5, help="blocks; the median is reported")
    p.add_argument("--threads", type=int, default=1,
                   help="BLAS and torch threads (1 makes the comparison fair and stable)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)  # read when NumPy's BLAS starts: set before import

    import numpy as np
    import torch

    from grader import notebooks
    from grader.paths import SOLUTIONS

    torch.set_num_threads(args.threads)
    path = Path(args.notebook) if args.notebook else SOLUTIONS / "04_autodiff" / "autodiff.ipynb"
    code = notebooks.graded_code(notebooks.read(path))
    lazy = _run(code, str(path))
    eager = _run([source.replace(LAZY, EAGER).replace(LAZY_ZERO, EAGER_ZERO)
                  for source in code], f"{path} (eager)")
    if not any(LAZY in source for source in code):
        print("note: the notebook's Tensor.__init__ is not the given one; eager = lazy")
    lr = 0.1

    def manual_step(params, X, y):
        """Hand-written forward and backward (Assignment 3), then SGD."""
        W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
        Z1 = X @ W1 + b1
        H = np.maximum(Z1, 0)
        logits = H @ W2 + b2
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        n = X.shape[0]
        loss = -log_probs[np.arange(n), y].mean()
        dlogits = np.exp(log_probs)
        dlogits[np.arange(n), y] -= 1.0
        dlogits /= n
        grads = {"W2": H.T @ dlogits, "b2": dlogits.sum(axis=0)}
        dZ1 = (dlogits @ W2.T) * (Z1 > 0)
        grads["W1"] = X.T @ dZ1
        grads["b1"] = dZ1.sum(axis=0)
        for k in params:
            params[k] -= lr * grads[k]
        return loss, grads

    def engine_step_of(engine):
        def step(params, X, y):
            loss = engine["mlp_loss"](params, X, y)
            loss.backward()
            grads = {k: np.array(p.grad) for k, p in params.items()}
            for p in params.values():
                p.data -= lr * p.grad
                p.zero_grad()
            return float(loss.data), grads
        return step

    engine_step, eager_step = engine_step_of(lazy), engine_step_of(eager)

    def torch_step(params, X, y):
        H = torch.relu(X @ params["W1"] + params["b1"])
        loss = torch.nn.functional.cross_entropy(H @ params["W2"] + params["b2"], y)
        loss.backward()
        grads = {k: p.grad.numpy().copy() for k, p in params.items()}
        with torch.no_grad():
            for p in params.values():
                p -= lr * p.grad
                p.grad = None
        return loss.item(), grads

    def timed(step, params, X, y):
        for _ in range(5):  # warm up caches and allocators
            step(params, X, y)
        blocks = []
        for _ in range(args.blocks):
            start = time.perf_counter()
            for _ in range(args.repeats):
                step(params, X, y)
            blocks.append((time.perf_counter() - start) / args.repeats)
        return statistics.median(blocks)

    print(f"engine: {path}")
    print(f"threads={args.threads}, float64, {args.blocks} blocks of {args.repeats} steps "
          f"(median); one step = forward + backward + SGD update")
    header = (f"{'configuration':<14} {'N, D, H, C':<18} {'manual ms':>10} {'engine ms':>10} "
              f"{'eager ms':>9} {'torch ms':>9} {'engine/manual':>14} {'eager/manual':>13} "
              f"{'torch/manual':>13} {'max |dgrad|':>12}")
    print(header)
    print("-" * len(header))
    for name, n, d, h, c in CONFIGS:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((n, d))
        y = rng.integers(0, c, size=n)
        weights = {
            "W1": rng.standard_normal((d, h)) * np.sqrt(2 / d),
            "b1": np.zeros(h),
            "W2": rng.standard_normal((h, c)) * np.sqrt(2 / h),
            "b2": np.zeros(c),
        }

        def ours(engine, weights=weights):
            return {k: engine["Tensor"](v.copy(), requires_grad=True) for k, v in weights.items()}

        manual = {k: v.copy() for k, v in weights.items()}
        theirs = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in weights.items()}
        X_t, y_t = torch.tensor(X), torch.tensor(y)
        # Same weights, same data: the four must agree before their speed means anything.
        _, g_manual = manual_step({k: v.copy() for k, v in weights.items()}, X, y)
        _, g_engine = engine_step(ours(lazy), X, y)
        _, g_eager = eager_step(ours(eager), X, y)
        _, g_torch = torch_step({k: torch.tensor(v.copy(), requires_grad=True)
                                 for k, v in weights.items()}, X_t, y_t)
        diff = max(max(np.abs(g_manual[k] - g[k]).max() for g in (g_engine, g_eager, g_torch))
                   for k in weights)
        t_manual = timed(manual_step, manual, X, y)
        t_engine = timed(engine_step, ours(lazy), X, y)
        t_eager = timed(eager_step, ours(eager), X, y)
        t_torch = timed(torch_step, theirs, X_t, y_t)
        print(f"{name:<14} {f'{n}, {d}, {h}, {c}':<18} {t_manual * 1e3:10.3f} "
              f"{t_engine * 1e3:10.3f} {t_eager * 1e3:9.3f} {t_torch * 1e3:9.3f} "
              f"{t_engine / t_manual:14.2f} {t_eager / t_manual:13.2f} "
              f"{t_torch / t_manual:13.2f} {diff:12.1e}")
    print("ratios > 1 mean slower than the hand-written backprop; max |dgrad| is the largest "
          "gradient difference between the four before timing")
    return 0


#: The given Tensor.__init__ and zero_grad (lazy), and their eager versions for the comparison.
LAZY = ("        self.grad = None\n"
        "        self.requires_grad = bool(requires_grad) or any(c.requires_grad for c in _children)")
EAGER = ("        self.grad = np.zeros_like(self.data)\n"
         "        self.requires_grad = True")
LAZY_ZERO = "    def zero_grad(self):\n        self.grad = None"
EAGER_ZERO = "    def zero_grad(self):\n        self.grad = np.zeros_like(self.data)"


def _run(code: list[str], filename: str) -> dict:
    namespace: dict = {"__name__": "__bench__"}
    for index, source in enumerate(code):
        exec(compile(source, f"{filename}[{index}]", "exec"), namespace)
    return namespace


if __name__ == "__main__":
    raise SystemExit(main())
