"""Cross-check of the Tensor engine against PyTorch (float64, relative tolerance 1e-6).

Each case is written once and run with both libraries: the names are the same, which is the
point of the library (what students learn transfers to PyTorch name for name).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch as pt

import autodiff_lib as ad
import autodiff_lib.tensors as T

RTOL = 1e-6


def run(lib, fn, arrays):
    """Evaluate ``fn(lib, *tensors)`` with float64 leaves and return (output, input grads)."""
    tensors = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
    out = fn(lib, *tensors)
    cotangent = np.random.default_rng(0).standard_normal(tuple(out.shape))
    out.backward(lib.tensor(cotangent, dtype=lib.float64))
    grads = [None if t.grad is None else np.asarray(t.grad.detach().numpy()) for t in tensors]
    return np.asarray(out.detach().numpy()), grads


def assert_same(fn, *arrays):
    ours_out, ours_grads = run(ad, fn, arrays)
    ref_out, ref_grads = run(pt, fn, arrays)
    np.testing.assert_allclose(ours_out, ref_out, rtol=RTOL, atol=1e-12)
    for ours, ref in zip(ours_grads, ref_grads, strict=True):
        np.testing.assert_allclose(ours, ref, rtol=RTOL, atol=1e-12)


rng = np.random.default_rng(42)
A = rng.uniform(-2, 2, (3, 4))
B = rng.uniform(-2, 2, (4,))
C = rng.uniform(0.5, 2, (3, 1))
P = rng.uniform(0.5, 2, (3, 4))
M = rng.uniform(-2, 2, (4, 5))
BATCH = rng.uniform(-2, 2, (2, 3, 4))

CASES = {
    "broadcast_arith": (lambda L, a, b, c: (a + b) * c - a / c + b**2, A, B, C),
    "scalar_arith": (lambda L, a: 2.0 - a * 3.0 + 1.0 / (a * a + 1) + 2.0**a, A),
    "tensor_pow": (lambda L, p, c: p**c, P, C),
    "matmul": (lambda L, a, m: a @ m, A, M),
    "matmul_vec": (lambda L, a, b: a.matmul(b), A, B),
    "matmul_batched": (lambda L, x, m: x @ m, BATCH, M),
    "exp_log_sqrt": (lambda L, p: p.exp() + p.log() * p.sqrt(), P),
    "tanh_sigmoid_relu": (lambda L, a: a.tanh() * a.sigmoid() + a.relu(), A),
    "abs_clamp": (lambda L, a: a.abs() + a.clamp(min=-0.7, max=1.1), A),
    "sum_dims": (lambda L, x: x.sum(dim=1) + x.sum(dim=(0, 2), keepdim=True).sum(), BATCH),
    "mean_dims": (lambda L, x: x.mean(dim=-1, keepdim=True) * x.mean(), BATCH),
    "max_dim": (lambda L, x: x.max(dim=1).values[:, None] * x.max(dim=0, keepdim=True)[0], A),
    "min_all": (lambda L, x: x.min() * x, A),
    "var_std": (lambda L, x: x.var(dim=1) + x.std(dim=0).sum() + x.var(), A),
    "norm": (lambda L, x: x.norm() + x.norm(dim=1), A),
    "reshape_view": (lambda L, x: x.reshape(4, 3) @ x.view(3, 4), A),
    "transpose_T": (lambda L, x, m: x.transpose(0, 1).T @ m, A, M),
    "permute_flatten": (lambda L, x: x.permute(2, 0, 1).flatten(1), BATCH),
    "unsqueeze_squeeze": (lambda L, x: x.unsqueeze(0).squeeze(0) * x.unsqueeze(1).sum(), A),
    "index_slices": (lambda L, x: x[1:, ::2] * x[0, 1], A),
    "index_int_array": (lambda L, x: x[L.tensor([0, 2, 2])], A),
    "index_pairs": (lambda L, x: x[L.tensor([0, 2, 2]), L.tensor([1, 3, 3])], A),
    "cat": (lambda L, a, c: L.cat([a, c, a], dim=1), A, C),
    "cat_dim0": (lambda L, a, p: L.cat([a, p], dim=0) * 2, A, P),
    "neg_sub": (lambda L, a, p: -(a - p) - (1.0 - a), A, P),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_tensor_ops_match_pytorch(name):
    fn, *arrays = CASES[name]
    assert_same(fn, *arrays)


def test_stack_and_chunk_match_pytorch():
    def fn(L, a, p):
        stacked = T.stack([a, p], dim=1) if L is ad else pt.stack([a, p], dim=1)
        first, second = stacked.chunk(2, dim=2)
        return first * second

    assert_same(fn, A, P)


def test_float32_results_match_pytorch_float32():
    x = rng.standard_normal((8, 16)).astype(np.float32)
    w = rng.standard_normal((16, 4)).astype(np.float32)
    ours = (ad.tensor(x) @ ad.tensor(w)).sigmoid().sum(dim=0)
    ref = (pt.tensor(x) @ pt.tensor(w)).sigmoid().sum(dim=0)
    assert ours.dtype == ad.float32
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-5)
