"""Benchmark: one update of the gradient-flow explorer at depth 50 (target: under 300 ms).

An update is what moving a control does: rerun
:func:`autodiff_lib.lab.experiments.gradient_flow` (build a width-32 network of 50 blocks, forward
and backward a batch of 64 with activation recording) and render the two-panel PNG into the
``Output``. The explorer's cache is off, so every update computes and renders anew.

For each configuration the benchmark times ``--rounds`` updates, interleaving the
configurations so machine noise hits all alike, and reports the median and 90th percentile of
the wall-clock time per update, the split between computing and rendering, and the CPU time
of the process (steadier than wall time on a busy machine). A cached update (going back to
settings already drawn) is timed alongside for comparison.

Usage::

    python benchmarks/bench_widgets.py            # 15 rounds (about 30 s on an idle machine)
    python benchmarks/bench_widgets.py --quick    # 2 rounds at depth 10, a smoke test
    python benchmarks/bench_widgets.py --threads 1
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

from threadpoolctl import threadpool_limits

from autodiff_lib.lab.experiments import gradient_flow
from autodiff_lib.lab.widgets import (
    gradient_flow_explorer,
    new_gradient_flow_figure,
    render_gradient_flow,
)

TARGET_SECONDS = 0.300
DEPTH = 50
QUICK_DEPTH = 10
CONFIGURATIONS = {
    "sigmoid, default init": dict(activation="sigmoid", init="pytorch_default"),
    "relu, he": dict(activation="relu", init="he"),
    "tanh, xavier, batchnorm": dict(activation="tanh", init="xavier", norm="batchnorm"),
    "gelu, he, residual, layernorm": dict(
        activation="gelu", init="he", residual=True, norm="layernorm"
    ),
}


def time_update(explorer, settings: dict) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one ``explorer.update(**settings)``."""
    wall, cpu = time.perf_counter(), time.process_time()
    explorer.update(**settings)
    return time.perf_counter() - wall, time.process_time() - cpu


def time_parts(settings: dict, depth: int, figure) -> tuple[float, float]:
    """Wall-clock seconds of computing and of rendering one configuration, separately."""
    start = time.perf_counter()
    result = gradient_flow(depth=depth, width=32, batch=64, seed=0, **settings)
    computed = time.perf_counter()
    render_gradient_flow(result, figure)
    return computed - start, time.perf_counter() - computed


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="2 rounds at depth 10")
    parser.add_argument("--threads", type=int, default=None, help="BLAS threads (default: all)")
    args = parser.parse_args(argv)
    rounds, depth = (2, QUICK_DEPTH) if args.quick else (args.rounds, DEPTH)

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    explorer = gradient_flow_explorer(depth=depth, cache=False)
    figure = new_gradient_flow_figure()
    samples = {
        name: {"wall": [], "cpu": [], "compute": [], "render": []} for name in CONFIGURATIONS
    }
    with threadpool_limits(limits=args.threads):
        for settings in CONFIGURATIONS.values():  # warm-up: imports, font caches, mathtext
            time_update(explorer, {"residual": False, "norm": None, **settings})
        for _ in range(rounds):
            for name, settings in CONFIGURATIONS.items():
                full = {"residual": False, "norm": None, **settings}
                wall, cpu = time_update(explorer, full)
                compute, render = time_parts(full, depth, figure)
                for key, value in zip(samples[name], (wall, cpu, compute, render), strict=True):
                    samples[name][key].append(value)
        cached = gradient_flow_explorer(depth=depth)
        cached_times = []
        for _ in range(rounds):
            for value in (depth - 1, depth):
                start = time.perf_counter()
                cached.depth.value = value
                cached_times.append(time.perf_counter() - start)
    print(f"load average after: {os.getloadavg()[0]:.2f}")

    header = (
        f"{'configuration (depth ' + str(depth) + ')':34} {'median ms':>9} {'p90 ms':>7} "
        f"{'cpu ms':>7} {'compute ms':>10} {'render ms':>9} {'median/target':>13}"
    )
    print(header)
    print("-" * len(header))
    medians = {}
    for name, times in samples.items():
        median = statistics.median(times["wall"])
        medians[name] = {
            "wall": median,
            "p90": percentile(times["wall"], 0.9),
            "cpu": statistics.median(times["cpu"]),
            "compute": statistics.median(times["compute"]),
            "render": statistics.median(times["render"]),
        }
        m = medians[name]
        print(
            f"{name:34} {1e3 * m['wall']:9.0f} {1e3 * m['p90']:7.0f} {1e3 * m['cpu']:7.0f} "
            f"{1e3 * m['compute']:10.0f} {1e3 * m['render']:9.0f} "
            f"{m['wall'] / TARGET_SECONDS:13.2f}"
        )
    cached_median = statistics.median(cached_times)
    print(f"{'cached update (settings seen before)':34} {1e3 * cached_median:9.1f}")
    worst = max(m["wall"] for m in medians.values())
    print(f"slowest median update: {1e3 * worst:.0f} ms, target {1e3 * TARGET_SECONDS:.0f} ms")
    return medians


if __name__ == "__main__":
    main()
