"""Benchmark: one training step of an MLP in autodiff_lib vs hand-written numpy vs PyTorch CPU.

A training step is: zero the gradients, forward pass, softmax cross-entropy loss, backward
pass, plain SGD update. Two networks (float32, batch 128):

* ``deep_mlp``: the seed deck's DeepMLP, 784-512-256-128-64-10 with ReLU;
* ``sigmoid20``: 20 linear layers (19 x 256->256 with sigmoid, then 256->10).

The three implementations start from the same weights and are checked to produce the same
loss before timing. Rounds interleave them, in a rotating order (so machine noise hits all
alike); the median of the rounds is reported with the ratios autodiff_lib/numpy and
autodiff_lib/PyTorch.
A fourth implementation, ``numpy_fused``, updates each layer inside the backward loop (see
:func:`numpy_step_fn`); it is reported for reference, the targets compare with ``numpy``.
numpy's BLAS and PyTorch use the same number of threads (``--threads``, default: all cores).

Targets: autodiff_lib at most 1.1x hand-written numpy and at most 1.4x PyTorch.

Usage::

    python benchmarks/bench_tensor.py            # full run (60 rounds; 15-20 s on an idle machine)
    python benchmarks/bench_tensor.py --quick    # 2 rounds at batch 32, for a smoke test
    python benchmarks/bench_tensor.py --threads 1 --clock cpu   # steadier on a busy machine
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np
from threadpoolctl import threadpool_limits

import autodiff_lib as ad
import autodiff_lib.nn as nn

BATCH = 128
QUICK_BATCH = 32
LR = 0.01
NETWORKS = {
    "deep_mlp": ([784, 512, 256, 128, 64, 10], "relu"),
    "sigmoid20": ([256] * 20 + [10], "sigmoid"),
}


def initial_weights(sizes: list[int], seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """PyTorch-default-like float32 weights ``(W (out, in), b (out,))`` for every layer."""
    rng = np.random.default_rng(seed)
    weights = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        bound = 1 / np.sqrt(n_in)
        w = rng.uniform(-bound, bound, (n_out, n_in)).astype(np.float32)
        b = rng.uniform(-bound, bound, n_out).astype(np.float32)
        weights.append((w, b))
    return weights


# --------------------------------------------------------------------------------------------
# Hand-written numpy: the forward and backward passes written out layer by layer
# --------------------------------------------------------------------------------------------


def numpy_step_fn(
    weights, x: np.ndarray, y: np.ndarray, activation: str, fused: bool = False
) -> Callable[[], float]:
    """The step written out layer by layer in numpy.

    ``fused=False``: forward, the whole backward pass, then the SGD update, the same order of
    work as autodiff_lib and PyTorch (the baseline of the targets). ``fused=True`` updates each
    layer's weights as soon as its gradient is known, while they are still in cache: a
    hand-optimisation that neither library's optimizer API allows, reported for reference.
    """
    params = [(w.copy(), b.copy()) for w, b in weights]
    rows = np.arange(len(y))

    def step() -> float:
        # forward: keep each layer's input (and the activation for the backward pass)
        inputs, outputs = [], []
        h = x
        for i, (w, b) in enumerate(params):
            inputs.append(h)
            z = h @ w.T
            z += b
            if i == len(params) - 1:
                h = z
            elif activation == "relu":
                h = np.maximum(z, 0)
            else:
                h = 1 / (1 + np.exp(-z))
            outputs.append(h)
        # softmax cross-entropy and its gradient
        shifted = h - h.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(shifted).sum(axis=1))
        loss = float(np.mean(log_norm - shifted[rows, y]))
        g = np.exp(shifted - log_norm[:, None])
        g[rows, y] -= 1
        g /= len(y)
        # backward, last layer first
        grads = []
        for i in range(len(params) - 1, -1, -1):
            w, b = params[i]
            if i < len(params) - 1:
                a = outputs[i]
                g = g * (a > 0) if activation == "relu" else g * a * (1 - a)
            grad_w = g.T @ inputs[i]
            grad_b = g.sum(axis=0)
            if i > 0:
                g = g @ w
            if fused:
                w -= LR * grad_w
                b -= LR * grad_b
            else:
                grads.append((grad_w, grad_b))
        if not fused:  # SGD update after the backward pass
            for (w, b), (grad_w, grad_b) in zip(params[::-1], grads, strict=True):
                w -= LR * grad_w
                b -= LR * grad_b
        return loss

    return step


# --------------------------------------------------------------------------------------------
# autodiff_lib and PyTorch: the same model code, only the library differs
# --------------------------------------------------------------------------------------------


def build_model(lib_nn, sizes: list[int], activation: str, weights):
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(lib_nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(lib_nn.ReLU() if activation == "relu" else lib_nn.Sigmoid())
    model = lib_nn.Sequential(*layers)
    state = {}
    for i, (w, b) in enumerate(weights):
        state[f"{2 * i}.weight"], state[f"{2 * i}.bias"] = w, b
    return model, state


def library_step_fn(lib, model, x, y) -> Callable[[], float]:
    optimizer = lib.optim.SGD(model.parameters(), lr=LR)
    loss_fn = lib.nn.CrossEntropyLoss()

    def step() -> float:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def make_steps(name: str, torch_module, batch: int = BATCH) -> dict[str, Callable[[], float]]:
    sizes, activation = NETWORKS[name]
    weights = initial_weights(sizes)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], batch)

    ours, state = build_model(nn, sizes, activation, weights)
    ours.load_state_dict(state)
    steps = {
        "autodiff_lib": library_step_fn(ad, ours, ad.tensor(x), ad.tensor(y)),
        "numpy": numpy_step_fn(weights, x, y, activation),
        "numpy_fused": numpy_step_fn(weights, x, y, activation, fused=True),
    }
    if torch_module is not None:
        ref, _ = build_model(torch_module.nn, sizes, activation, weights)
        ref.load_state_dict({k: torch_module.from_numpy(v.copy()) for k, v in state.items()})
        steps["pytorch"] = library_step_fn(
            torch_module, ref, torch_module.from_numpy(x), torch_module.from_numpy(y)
        )
    return steps


def check_same_losses(steps: dict[str, Callable[[], float]]) -> None:
    """Two steps each from the same weights: every implementation must give the same losses."""
    losses = {impl: [step(), step()] for impl, step in steps.items()}
    reference = losses["numpy"]
    for impl, values in losses.items():
        if not np.allclose(values, reference, rtol=1e-4):
            raise AssertionError(f"{impl} losses {values} differ from numpy's {reference}")


def time_interleaved(
    steps: dict[str, Callable[[], float]],
    rounds: int,
    clock: Callable[[], float],
    block: int = 1,
) -> dict[str, float]:
    """Median seconds per step of each implementation, over interleaved rounds.

    The order rotates from round to round, so that no implementation always runs right
    after the same other one (whose memory traffic would otherwise always hit it). Within a
    round each implementation runs ``block`` consecutive steps, as in a training loop, and each
    step is one sample.
    """
    samples: dict[str, list[float]] = {impl: [] for impl in steps}
    order = list(steps)
    for round_index in range(rounds):
        shift = round_index % len(order)
        for impl in order[shift:] + order[:shift]:
            for _ in range(block):
                start = clock()
                steps[impl]()
                samples[impl].append(clock() - start)
    return {impl: statistics.median(values) for impl, values in samples.items()}


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo (Linux), else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help=f"2 rounds at batch {QUICK_BATCH} (smoke test)"
    )
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds per network")
    parser.add_argument(
        "--block",
        type=int,
        default=None,
        help="consecutive steps of one implementation per round (default 10; 1 with --quick)",
    )
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    parser.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="wall time, or this process's CPU time (steadier on a loaded machine, 1 thread)",
    )
    args = parser.parse_args(argv)
    rounds = args.rounds or (2 if args.quick else 12)
    block = args.block or (1 if args.quick else 10)
    batch = QUICK_BATCH if args.quick else BATCH

    torch_module = None
    if not args.no_torch:
        import torch as torch_module

        torch_module.set_num_threads(args.threads)

    print(
        f"machine: {cpu_name()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, numpy {np.__version__}"
        + (f", torch {torch_module.__version__}" if torch_module else "")
    )
    print(
        f"threads: {args.threads} (numpy BLAS and torch), batch {batch}, float32, "
        f"{rounds} rounds of {block} steps each, medians of {args.clock} time"
    )
    results = {}
    with threadpool_limits(limits=args.threads, user_api="blas"):
        for name in NETWORKS:
            steps = make_steps(name, torch_module, batch)
            check_same_losses(steps)
            for step in steps.values():  # warm-up
                step()
            clock = time.perf_counter if args.clock == "wall" else time.process_time
            medians = time_interleaved(steps, rounds, clock, block)
            results[name] = medians
            line = ", ".join(f"{impl} {1e3 * t:7.2f} ms" for impl, t in medians.items())
            ratios = ", ".join(
                f"autodiff_lib/{impl} {medians['autodiff_lib'] / medians[impl]:.2f}x"
                for impl in medians
                if impl != "autodiff_lib"
            )
            print(f"{name:10s} {line} | {ratios}")
    return results


if __name__ == "__main__":
    main()
