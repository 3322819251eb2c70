r"""Gradient utilities, as in ``torch.nn.utils``.

Example::

    loss.backward()
    total = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from autodiff_lib.tensors.tensor_type import Tensor, from_numpy

__all__ = ["clip_grad_norm_"]


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor], max_norm: float, norm_type: float = 2.0
) -> Tensor:
    r"""Rescale all gradients together so that their joint norm is at most ``max_norm``.

    The total norm is :math:`\|g\| = (\sum_p \|g_p\|_q^q)^{1/q}` over every parameter's
    gradient (``q = norm_type``, ``inf`` for the largest absolute entry). If it exceeds
    ``max_norm``, every gradient is multiplied in place by
    :math:`\text{max\_norm} / (\|g\| + 10^{-6})`. Returns the total norm *before* clipping.
    """
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    grads = [p.grad.data for p in params if p.grad is not None]
    if not grads:
        return from_numpy(np.asarray(0.0, dtype=np.float32))
    if math.isinf(norm_type):
        total = max(float(np.abs(g).max()) for g in grads)
    else:
        total = sum(float(np.sum(np.abs(g) ** norm_type)) for g in grads) ** (1.0 / norm_type)
    clip_coef = max_norm / (total + 1e-6)
    if clip_coef < 1:
        for g in grads:
            g *= clip_coef
    return from_numpy(np.asarray(total, dtype=grads[0].dtype))
