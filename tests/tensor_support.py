"""Float64 leaf tensors for gradient checks, shared by the Tensor and nn tests."""

from __future__ import annotations

import numpy as np

import autodiff_lib as ad


def leaf(shape, low=-2.0, high=2.0, seed=0):
    """A float64 leaf tensor with values in [low, high)."""
    values = np.random.default_rng(seed).uniform(low, high, size=shape)
    return ad.tensor(values, dtype=ad.float64, requires_grad=True)


def away_from_zero(shape, seed=0, smallest=0.5):
    """Values in +-[smallest, 2]: no kink of relu/abs/clamp within a finite-difference step."""
    rng = np.random.default_rng(seed)
    values = rng.uniform(smallest, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    return ad.tensor(values, dtype=ad.float64, requires_grad=True)
