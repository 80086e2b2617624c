"""One training epoch of the digits MLP, NumPy against PyTorch · 一轮训练:NumPy 与 PyTorch.

    python bench/training_epoch.py [--epochs 5] [--threads 1] [--dropout 0.1]

The NumPy side is the course's own code from ``solutions/05_training``: ``data_iter``
shuffles, ``mlp_loss`` runs forward and backward (affine, ReLU, inverted dropout,
affine, softmax cross-entropy) and ``adam`` updates every parameter array. The torch
side is the same MLP written the usual way: ``torch.randperm`` mini-batches,
``nn.functional`` layers, autograd and ``torch.optim.Adam``. Both run in float64 on
the 8×8 digits (60% of them, the training split of the notebook), from the same
initial weights and with the same hyperparameters; before timing, one step without
dropout on the same batch checks that both compute the same update.

The script prints milliseconds per epoch (median over epochs) and the ratio
NumPy / torch for a few widths and batch sizes. It is a benchmark, not a test:
numbers depend on the machine.

What to expect: at these sizes an epoch is dozens of small matrix products, so
both sides mostly pay per-operation overhead. NumPy pays it in Python (a dict of
configs, one ``adam`` call per parameter array); torch pays dispatcher and autograd
bookkeeping for every operation. Wider layers and larger batches shift the time
into the matrix products, where both call a BLAS and the ratio approaches 1.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

CONFIGS = [  # (num_hiddens, batch_size)
    (128, 64),
    (128, 256),
    (512, 64),
    (1024, 256),
]


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=5, help="timed epochs; the median is reported")
    p.add_argument("--threads", type=int, default=1,
                   help="BLAS and torch threads (1 makes the comparison fair and stable)")
    p.add_argument("--dropout", type=float, default=0.1, help="drop probability while training")
    p.add_argument("--lr", type=float, default=5e-3, help="Adam's learning rate")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)  # read when NumPy's BLAS starts: set before import

    import numpy as np
    import torch
    from sklearn.datasets import load_digits

    from grader import notebooks
    from grader.paths import SOLUTIONS

    torch.set_num_threads(args.threads)
    path = SOLUTIONS / "05_training" / "training.ipynb"
    course = notebooks.exec_graded_code(notebooks.read(path), str(path))
    data_iter, mlp_loss, adam, init_mlp = (course[k] for k in
                                           ("data_iter", "mlp_loss", "adam", "init_mlp"))

    digits = load_digits()
    order = np.random.default_rng(0).permutation(len(digits.target))[: int(0.6 * len(digits.target))]
    X, y = digits.data[order] / 16.0, digits.target[order]
    X_t, y_t = torch.tensor(X), torch.tensor(y)

    def numpy_epoch(params, configs, batch_size, rng):
        for X_batch, y_batch in data_iter(batch_size, X, y, rng):
            _, grads = mlp_loss(params, X_batch, y_batch, args.dropout, True, rng)
            for k in params:
                params[k], configs[k] = adam(params[k], grads[k], configs[k])

    def torch_forward(params, X_batch, p):
        hidden = torch.relu(X_batch @ params["W1"] + params["b1"])
        hidden = torch.nn.functional.dropout(hidden, p=p, training=True)
        return hidden @ params["W2"] + params["b2"]

    def torch_epoch(params, optimizer, batch_size, generator):
        for index in torch.randperm(len(X_t), generator=generator).split(batch_size):
            loss = torch.nn.functional.cross_entropy(
                torch_forward(params, X_t[index], args.dropout), y_t[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

    def timed(run_epoch):
        run_epoch()  # warm up caches, allocators and lazy imports
        times = []
        for _ in range(args.epochs):
            start = time.perf_counter()
            run_epoch()
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    print(f"threads={args.threads}, float64, digits training split {X.shape}, "
          f"dropout={args.dropout}, Adam lr={args.lr}; median of {args.epochs} epochs")
    header = (f"{'num_hiddens':>11} {'batch_size':>10} {'steps':>6} {'numpy ms':>9} "
              f"{'torch ms':>9} {'numpy/torch':>12} {'max |dw| step 1':>16}")
    print(header)
    print("-" * len(header))
    for num_hiddens, batch_size in CONFIGS:
        weights = init_mlp(X.shape[1], num_hiddens, 10, np.random.default_rng(0))
        params = {k: v.copy() for k, v in weights.items()}
        configs = {k: {"lr": args.lr} for k in params}
        theirs = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in weights.items()}
        optimizer = torch.optim.Adam(list(theirs.values()), lr=args.lr)

        # The same first step, without dropout, on the same batch: the updates must agree.
        batch = np.arange(batch_size)
        _, grads = mlp_loss(weights, X[batch], y[batch])
        first = {k: adam(weights[k], grads[k], {"lr": args.lr})[0] for k in weights}
        check = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in weights.items()}
        check_opt = torch.optim.Adam(list(check.values()), lr=args.lr)
        torch.nn.functional.cross_entropy(torch_forward(check, X_t[batch], 0.0),
                                          y_t[batch]).backward()
        check_opt.step()
        diff = max(float(np.abs(first[k] - check[k].detach().numpy()).max()) for k in weights)

        rng = np.random.default_rng(1)
        generator = torch.Generator().manual_seed(1)
        t_numpy = timed(lambda p=params, c=configs, b=batch_size, r=rng:
                        numpy_epoch(p, c, b, r))
        t_torch = timed(lambda p=theirs, o=optimizer, b=batch_size, g=generator:
                        torch_epoch(p, o, b, g))
        steps = -(-len(X) // batch_size)
        print(f"{num_hiddens:>11} {batch_size:>10} {steps:>6} {t_numpy * 1e3:9.2f} "
              f"{t_torch * 1e3:9.2f} {t_numpy / t_torch:12.2f} {diff:16.1e}")
    print("numpy/torch > 1 means the NumPy epoch is slower; max |dw| compares the two first "
          "updates (no dropout, same batch) before timing")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
