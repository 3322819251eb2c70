"""Smoke test of benchmarks/bench_tensor.py in --quick mode (no speed threshold: speed goals
live in the benchmark and docs/library-tensor.md)."""

from __future__ import annotations

from benchmarks import bench_tensor as bench


def test_bench_tensor_quick_runs_every_implementation(capsys):
    results = bench.main(["--quick", "--threads", "1"])
    assert set(results) == {"deep_mlp", "sigmoid20"}
    for medians in results.values():
        assert set(medians) == {"autodiff_lib", "numpy", "numpy_fused", "pytorch"}
        assert all(seconds > 0 for seconds in medians.values())
    out = capsys.readouterr().out
    assert "autodiff_lib/numpy" in out and "autodiff_lib/pytorch" in out
