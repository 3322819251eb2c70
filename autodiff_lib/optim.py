r"""Optimisers with ``torch.optim``'s names, arguments and update equations.

Example::

    >>> import autodiff_lib as torch
    >>> import autodiff_lib.nn as nn
    >>> model = nn.Linear(3, 1)
    >>> optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    >>> for _ in range(3):
    ...     optimizer.zero_grad()
    ...     loss = model(torch.randn(8, 3)).pow(2).mean()
    ...     loss.backward()
    ...     optimizer.step()

Updates happen in place on ``param.data`` and are not recorded in any graph.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from autodiff_lib.tensors.tensor_type import Tensor

__all__ = ["Optimizer", "SGD", "Adam"]


class Optimizer:
    """Holds parameter groups (lists of parameters with their hyper-parameters) and state.

    ``params`` is an iterable of tensors, or of dicts ``{"params": [...], "lr": ...}`` for
    groups with their own settings (missing settings take the optimiser's defaults).
    """

    def __init__(
        self, params: Iterable[Tensor] | Iterable[dict[str, Any]], defaults: dict[str, Any]
    ):
        self.defaults = defaults
        self.state: dict[Tensor, dict[str, Any]] = {}  # per parameter, e.g. momentum buffers
        self.param_groups: list[dict[str, Any]] = []
        items = list(params)
        if not items:
            raise ValueError("optimizer got an empty parameter list")
        groups = items if isinstance(items[0], dict) else [{"params": items}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a group of parameters, filling unspecified hyper-parameters from the defaults."""
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor) or not p.is_leaf:
                raise TypeError("optimizer can only optimize leaf Tensors")
        self.param_groups.append({**self.defaults, **group, "params": params})

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the accumulated gradients before the next ``backward``."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.data[...] = 0

    def step(self) -> None:
        """Update every parameter that has a gradient."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state.get(p)
                if state is None:
                    state = self.state[p] = {}
                self._update(p, p.grad.data, group, state)

    def _update(self, p: Tensor, grad: np.ndarray, group: dict[str, Any], state: dict[str, Any]):
        raise NotImplementedError


class SGD(Optimizer):
    r"""Stochastic gradient descent, with optional momentum, dampening, Nesterov and L2 decay.

    PyTorch's equations, with :math:`g = \nabla_p L + \lambda p`:

    .. math::
        b_1 = g,\quad b_t = \mu b_{t-1} + (1-\tau) g,\qquad
        p \leftarrow p - \eta\,(g + \mu b_t \text{ if Nesterov else } b_t)

    (plain :math:`p \leftarrow p - \eta g` when :math:`\mu = 0`).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        if lr < 0 or momentum < 0 or weight_decay < 0:
            raise ValueError("lr, momentum and weight_decay must be non-negative")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
        )
        super().__init__(params, defaults)

    def _update(self, p: Tensor, grad: np.ndarray, group: dict[str, Any], state: dict[str, Any]):
        lr, momentum, wd = group["lr"], group["momentum"], group["weight_decay"]
        if wd != 0:
            grad = grad + wd * p.data
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = grad.copy()
            else:
                buf *= momentum
                buf += (1 - group["dampening"]) * grad
            grad = grad + momentum * buf if group["nesterov"] else buf
        p.data -= lr * grad


class Adam(Optimizer):
    r"""Adam (Kingma and Ba 2015) with PyTorch's bias-corrected update:

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g,\quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g^2,

        p \leftarrow p - \frac{\eta}{1-\beta_1^t}\,
        \frac{m_t}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon}

    with :math:`g = \nabla_p L + \lambda p` (L2 weight decay, as ``torch.optim.Adam``).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        if lr < 0 or eps < 0 or weight_decay < 0:
            raise ValueError("lr, eps and weight_decay must be non-negative")
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"betas must lie in [0, 1), got {betas}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    def _update(self, p: Tensor, grad: np.ndarray, group: dict[str, Any], state: dict[str, Any]):
        beta1, beta2 = group["betas"]
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * p.data
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p.data)
            state["exp_avg_sq"] = np.zeros_like(p.data)
        state["step"] += 1
        t = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1 - beta1) * grad
        v *= beta2
        v += (1 - beta2) * grad * grad
        step_size = group["lr"] / (1 - beta1**t)
        denom = np.sqrt(v) / math.sqrt(1 - beta2**t) + group["eps"]
        p.data -= step_size * (m / denom)
