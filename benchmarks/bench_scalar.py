"""Benchmarks of the scalar side of autodiff_lib, measured side by side in one run.

1. One training step (forward, loss, backward, SGD) of micrograd's demo network MLP(2, [16, 16, 1])
   on 100 points: autodiff_lib's ``Value`` + ``nn_scalar.MLP`` against micrograd 0.1.0.
2. Long chains of unary ops (1e5 and 1e6 nodes): time to build, time for ``backward`` and peak
   memory (tracemalloc, measured in a separate pass because tracing slows Python down).
3. The cost of one full gradient of the same functions by forward mode (``Dual``), reverse mode
   (``Value``), symbolic differentiation and central differences (lesson 03's cost comparison).

Run ``python benchmarks/bench_scalar.py`` (a minute or two) or ``--quick`` (a smoke run of a few
seconds with small sizes and one repeat; its numbers are not meant to be quoted).
Results: docs/library-scalar.md.
"""

from __future__ import annotations

import argparse
import gc
import math
import platform
import random
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from autodiff_lib.scalar import symbolic as sym
from autodiff_lib.scalar.forward import gradient_forward, tanh
from autodiff_lib.scalar.nn import MLP
from autodiff_lib.scalar.numerical import gradient as numerical_gradient
from autodiff_lib.scalar.value import Value

# --------------------------------------------------------------------------- helpers


def median_seconds(run: Callable[[], Any], repeats: int) -> float:
    """Median wall time of ``run()`` over ``repeats`` calls, each started from a clean heap."""
    times = []
    for _ in range(repeats):
        gc.collect()  # garbage of the previous call is not charged to this one
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def training_loop_step_times(step: Callable[[], Any], n_steps: int) -> list[float]:
    """Seconds of each of ``n_steps`` consecutive steps, run as a training loop runs them.

    The previous step's graph is released inside the next timed step (by reference counting
    for autodiff_lib, by the cycle collector whenever it runs for micrograd), as in real
    training; the heap is cleaned up (untimed) only before and after the loop.
    """
    gc.collect()
    times, loss = [], None
    for _ in range(n_steps):
        start = time.perf_counter()
        loss = step()
        times.append(time.perf_counter() - start)
    del loss
    gc.collect()
    return times


def moons(n: int, seed: int = 1) -> tuple[list[list[float]], list[int]]:
    """micrograd's demo data (sklearn's make_moons, noise 0.1): two interleaving half circles,
    labels -1 / +1. Written out here to spare the benchmark sklearn's import time."""
    rng = random.Random(seed)
    X, y = [], []
    for i in range(n):
        t = math.pi * (i // 2) / max(1, (n + 1) // 2 - 1)
        if i % 2 == 0:
            point, label = [math.cos(t), math.sin(t)], -1
        else:
            point, label = [1 - math.cos(t), 0.5 - math.sin(t)], 1
        X.append([coordinate + rng.gauss(0.0, 0.1) for coordinate in point])
        y.append(label)
    return X, y


# --------------------------------------------------------------------------- 1. MLP step


def make_step(value_cls: type, model: Any, X: list[list[float]], y: list[int]) -> Callable:
    """micrograd demo's step: max-margin loss + L2, backward, SGD with learning rate 0.01."""

    def step() -> Any:
        inputs = [[value_cls(xi) for xi in row] for row in X]
        scores = [model(row) for row in inputs]
        losses = [(1 + -yi * score).relu() for yi, score in zip(y, scores, strict=True)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = 1e-4 * sum(p * p for p in model.parameters())
        loss = data_loss + reg_loss
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= 0.01 * p.grad
        return loss

    return step


def count_nodes(root: Any) -> int:
    seen, stack = {id(root)}, [root]
    while stack:
        for child in stack.pop()._prev:
            if id(child) not in seen:
                seen.add(id(child))
                stack.append(child)
    return len(seen)


def bench_mlp_step(repeats: int, n_points: int) -> dict[str, float]:
    from micrograd.engine import Value as MicrogradValue
    from micrograd.nn import MLP as MicrogradMLP

    X, y = moons(n_points)
    random.seed(1337)
    micrograd_step = make_step(MicrogradValue, MicrogradMLP(2, [16, 16, 1]), X, y)
    ours_step = make_step(Value, MLP(2, [16, 16, 1], rng=1337), X, y)
    nodes = {  # one warm-up step each, and the size of the graph it built
        "micrograd": count_nodes(micrograd_step()),
        "autodiff_lib": count_nodes(ours_step()),
    }
    steps = {"micrograd": micrograd_step, "autodiff_lib": ours_step}
    times: dict[str, list[float]] = {"micrograd": [], "autodiff_lib": []}
    for block in range(2):  # two blocks per engine, alternating, so both see the same load
        for name in steps if block == 0 else reversed(steps):
            times[name] += training_loop_step_times(steps[name], max(1, repeats // 2 + block))
    result = {name: statistics.median(ts) for name, ts in times.items()}
    print(
        f"## 1. One training step of MLP(2, [16, 16, 1]) on {n_points} points "
        f"(median of {len(times['micrograd'])} steps of a training loop)"
    )
    print()
    print("| engine | graph nodes | seconds per step |")
    print("|---|---:|---:|")
    for name in ("micrograd", "autodiff_lib"):
        print(f"| {name} | {nodes[name]:,} | {result[name]:.3f} |")
    ratio = result["micrograd"] / result["autodiff_lib"]
    print()
    print(f"speed-up over micrograd 0.1.0: {ratio:.1f}x")
    print()
    return result


# --------------------------------------------------------------------------- 2. chains


def build_chain(n: int) -> tuple[Value, Value]:
    x = Value(0.5)
    v = x
    for _ in range(n):
        v = v.tanh()
    return x, v


def bench_chains(sizes: list[int]) -> None:
    print("## 2. Chains of tanh nodes")
    print()
    print("| nodes | build (s) | backward (s) | peak memory (MB) | micrograd backward |")
    print("|---:|---:|---:|---:|---|")
    micrograd_result = micrograd_chain_depth_limit()
    for n in sizes:
        gc.collect()
        start = time.perf_counter()
        x, out = build_chain(n)
        built = time.perf_counter()
        out.backward()
        done = time.perf_counter()
        assert x.grad != 0.0
        del x, out
        gc.collect()
        tracemalloc.start()
        x, out = build_chain(n)
        out.backward()
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        del x, out
        print(
            f"| {n:,} | {built - start:.2f} | {done - built:.2f} | {peak:.0f} | "
            f"{micrograd_result} |"
        )
    print()


def micrograd_chain_depth_limit() -> str:
    from micrograd.engine import Value as MicrogradValue

    v = MicrogradValue(0.5)
    for _ in range(10_000):
        v = v * 1.0
    try:
        v.backward()
    except RecursionError:
        return "RecursionError (depth 10,000)"
    return "works at depth 10,000"


# --------------------------------------------------------------------------- 3. modes


def deck_f(p: list[Any]) -> Any:
    x, y = p
    return (x + y) * (x * y)


def logistic(p: list[Any], steps: int = 8) -> Any:
    l_k = p[0]
    for _ in range(steps):
        l_k = 4 * l_k * (1 - l_k)
    return l_k


def chain_sum(p: list[Any]) -> Any:
    total = 0.0
    for i in range(len(p) - 1):
        total = total + tanh(p[i]) * p[i + 1] ** 2  # tanh of a number, Dual, Value or Expr
    return total


def reverse_gradient(f: Callable, x: list[float]) -> list[float]:
    inputs = [Value(xi) for xi in x]
    f(inputs).backward()
    return [v.grad for v in inputs]


def symbolic_gradient(f: Callable, x: list[float]) -> list[float]:
    """Build the expression, differentiate it once per input, evaluate each derivative."""
    names = [f"x{i}" for i in range(len(x))]
    expr = f([sym.Var(name) for name in names])
    env = dict(zip(names, x, strict=True))
    return [sym.evaluate(sym.diff(expr, name), **env) for name in names]


def bench_modes(repeats: int, n_inputs: int) -> None:
    rng = random.Random(0)
    cases = [
        ("deck f(x, y) = (x + y) x y", deck_f, [2.0, 3.0]),
        ("logistic map l_8(x)", logistic, [0.3]),
        (
            f"sum tanh(x_i) x_(i+1)^2, n = {n_inputs}",
            chain_sum,
            [rng.uniform(-1, 1) for _ in range(n_inputs)],
        ),
    ]
    methods = {
        "forward mode (Dual), n passes": lambda f, x: gradient_forward(f, x),
        "reverse mode (Value), 1 pass": reverse_gradient,
        "symbolic (diff + evaluate)": symbolic_gradient,
        "central differences, 2n evaluations": lambda f, x: numerical_gradient(
            lambda v: f(list(v)), x
        ),
    }
    print(f"## 3. One full gradient, median of {repeats} (milliseconds)")
    print()
    print("| function | " + " | ".join(methods) + " |")
    print("|---|" + "---:|" * len(methods))
    for label, f, x in cases:
        reference = reverse_gradient(f, x)
        cells = []
        for method in methods.values():
            got = list(method(f, x))
            assert max(abs(a - b) for a, b in zip(got, reference, strict=True)) < 1e-4 * (
                1 + max(abs(r) for r in reference)
            )
            cells.append(f"{1e3 * median_seconds(lambda m=method, f=f, x=x: m(f, x), repeats):.3f}")
        print(f"| {label} | " + " | ".join(cells) + " |")
    expr = logistic([sym.Var("x0")])
    derivative = sym.diff(expr, "x0")
    print()
    print(
        f"logistic map l_8: expression tree {sym.tree_size(expr):,} nodes / DAG "
        f"{sym.dag_size(expr)}; derivative tree {sym.tree_size(derivative):,} / DAG "
        f"{sym.dag_size(derivative)}"
    )
    print()


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats (smoke)")
    args = parser.parse_args()
    print(
        f"# bench_scalar on {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, {platform.system()}"
        + (" (--quick: smoke run, do not quote)" if args.quick else "")
    )
    print()
    if args.quick:
        bench_mlp_step(repeats=1, n_points=10)
        bench_chains([1_000, 10_000])
        bench_modes(repeats=1, n_inputs=10)
    else:
        bench_mlp_step(repeats=7, n_points=100)
        bench_chains([100_000, 1_000_000])
        bench_modes(repeats=15, n_inputs=100)


if __name__ == "__main__":
    main()
