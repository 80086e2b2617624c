"""One training step of the two-layer MLP, three ways · MLP 单个训练步的三种实现.

    python bench/autodiff_step.py [--repeats 200] [--threads 1]

1. the tensor engine of Assignment 4 (``Tensor`` and ``mlp_loss`` from
   ``solutions/04_autodiff``: the graph is built and walked on every step);
2. hand-written NumPy backprop, as in Assignment 3 (forward with caches, backward
   by the matrix formulas, no graph);
3. PyTorch autograd on the CPU.

All three run in float64 on the same data and weights (the gradients are compared
first), for a small, a medium and a wide configuration. Each step is forward,
backward and an SGD update. The script prints milliseconds per step and the ratio
to the hand-written version. It is a benchmark, not a test: numbers depend on the
machine.

What to expect: on small layers the engine and torch pay a per-operation overhead
(Python objects, closures, the graph walk). On wide layers the engine stays a few
times slower than hand-written code for two reasons that have nothing to do with
the graph: it allocates a zero ``grad`` for every node up front (memory traffic as
large as the activations) and it computes a gradient for the input ``X`` (one more
matrix product as large as the first layer's). PyTorch creates ``.grad`` lazily and
only for tensors with ``requires_grad=True``, so it comes closer.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

CONFIGS = [  # (name, batch_size, num_inputs, num_hiddens, num_outputs)
    ("two moons", 200, 2, 32, 2),
    ("digits-sized", 256, 64, 256, 10),
    ("wide", 512, 256, 1024, 10),
]


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
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
    path = SOLUTIONS / "04_autodiff" / "autodiff.ipynb"
    engine = notebooks.exec_graded_code(notebooks.read(path), str(path))
    Tensor, mlp_loss = engine["Tensor"], engine["mlp_loss"]
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

    def engine_step(params, X, y):
        loss = mlp_loss(params, X, y)
        loss.backward()
        grads = {k: p.grad.copy() for k, p in params.items()}
        for p in params.values():
            p.data -= lr * p.grad
            p.zero_grad()
        return float(loss.data), grads

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

    print(f"threads={args.threads}, float64, {args.blocks} blocks of {args.repeats} steps "
          f"(median); one step = forward + backward + SGD update")
    header = (f"{'configuration':<14} {'N, D, H, C':<18} {'manual ms':>10} {'engine ms':>10} "
              f"{'torch ms':>10} {'engine/manual':>14} {'torch/manual':>13} {'max |dgrad|':>12}")
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
        manual = {k: v.copy() for k, v in weights.items()}
        ours = {k: Tensor(v.copy()) for k, v in weights.items()}
        theirs = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in weights.items()}
        X_t, y_t = torch.tensor(X), torch.tensor(y)
        # Same weights, same data: the three must agree before their speed means anything.
        _, g_manual = manual_step({k: v.copy() for k, v in weights.items()}, X, y)
        _, g_engine = engine_step({k: Tensor(v.copy()) for k, v in weights.items()}, X, y)
        _, g_torch = torch_step({k: torch.tensor(v.copy(), requires_grad=True)
                                 for k, v in weights.items()}, X_t, y_t)
        diff = max(max(np.abs(g_manual[k] - g_engine[k]).max(),
                       np.abs(g_manual[k] - g_torch[k]).max()) for k in weights)
        t_manual = timed(manual_step, manual, X, y)
        t_engine = timed(engine_step, ours, X, y)
        t_torch = timed(torch_step, theirs, X_t, y_t)
        print(f"{name:<14} {f'{n}, {d}, {h}, {c}':<18} {t_manual * 1e3:10.3f} "
              f"{t_engine * 1e3:10.3f} {t_torch * 1e3:10.3f} {t_engine / t_manual:14.2f} "
              f"{t_torch / t_manual:13.2f} {diff:12.1e}")
    print("ratios > 1 mean slower than the hand-written backprop; max |dgrad| is the largest "
          "gradient difference between the three before timing")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
