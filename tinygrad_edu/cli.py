"""The ``tinygrad-edu`` command line (also ``python -m tinygrad_edu``)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

import numpy as np


def _demo_multiply(epochs: int, seed: int) -> dict:
    """Seed 000: learn y = x1 * x2 on [0, 1)^2 with a 2-8-1 tanh net (plain SGD)."""
    import tinygrad_edu as tg

    rng = np.random.default_rng(seed)
    x = rng.random((1000, 2)).astype(np.float32)
    y = (x[:, :1] * x[:, 1:]).astype(np.float32)
    xt, yt = tg.tensor(x), tg.tensor(y)
    w1 = tg.tensor(rng.normal(0, 0.5, (2, 8)), dtype=tg.float32, requires_grad=True)
    b1 = tg.zeros(8, requires_grad=True)
    w2 = tg.tensor(rng.normal(0, 0.5, (8, 1)), dtype=tg.float32, requires_grad=True)
    b2 = tg.zeros(1, requires_grad=True)
    params = [w1, b1, w2, b2]
    for _ in range(epochs):
        loss = (((xt @ w1 + b1).tanh() @ w2 + b2 - yt) ** 2).mean()
        for p in params:
            p.grad = None
        loss.backward()
        with tg.no_grad():
            for p in params:
                p -= 0.1 * p.grad
    x_test = rng.random((5000, 2)).astype(np.float32)
    with tg.no_grad():
        pred = ((tg.tensor(x_test) @ w1 + b1).tanh() @ w2 + b2).numpy()
    rmse = float(np.sqrt(np.mean((pred[:, 0] - x_test[:, 0] * x_test[:, 1]) ** 2)))
    return {"problem": "seed000 multiply", "final_loss": float(loss.item()), "test_rmse": rmse}


def _cmd_demo(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    result = _demo_multiply(epochs=300 if args.quick else 3000, seed=0)
    elapsed = time.perf_counter() - start
    print(f"{'problem':20s} {'final loss':>12s} {'test RMSE':>10s} {'time':>7s}")
    print(
        f"{result['problem']:20s} {result['final_loss']:12.3g} {result['test_rmse']:10.4f} "
        f"{elapsed:6.1f}s"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tinygrad-edu",
        description="tinygrad_edu: a small autograd framework on numpy, and its demos.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = sub.add_parser("demo", help="train the seed problems and report the results")
    demo.add_argument("--quick", action="store_true", help="fewer epochs, for a smoke test")
    demo.set_defaults(func=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
