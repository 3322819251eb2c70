r"""The backward pass: the chain rule applied over the recorded graph, outputs first.

For every tensor :math:`v` on the way from the output :math:`L` back to the leaves,

.. math::
    \bar v = \sum_{y \text{ uses } v} \bar y\,\frac{\partial y}{\partial v},
    \qquad \bar v := \frac{\partial L}{\partial v},

where each term is what the VJP recorded by the op that made :math:`y` computes. The nodes are
visited in reverse :func:`~autodiff_lib.core.topological_order`, so a node's gradient
is complete (every use has passed its share down) before it is passed on. The walk is
iterative: graphs thousands of ops deep work.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from autodiff_lib.core.topological import topological_order
from autodiff_lib.tensors.state import no_grad
from autodiff_lib.tensors.tensor_type import Array, Node, Tensor, from_numpy, tensor_method

__all__: list[str] = []  # backward is reached as the method Tensor.backward


@tensor_method
def backward(
    self: Tensor, gradient: Tensor | Array | None = None, retain_graph: bool = False
) -> None:
    r"""Accumulate :math:`\partial\,\text{self}/\partial\,\text{leaf}` into leaves' ``.grad``.

    Args:
        gradient: :math:`\bar y`, same shape as ``self``; may be omitted only when ``self``
            has one element (then it is 1).
        retain_graph: keep the graph so that ``backward`` can be called on it again.

    Example::

        >>> x = Tensor(2.0, requires_grad=True)
        >>> (x * x).backward()
        >>> x.grad
        tensor(4.)
    """
    if not self.requires_grad:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    if gradient is None:
        if self.data.size != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        seed = np.ones_like(self.data)
    else:
        seed = np.array(
            gradient.data if isinstance(gradient, Tensor) else gradient, dtype=self.dtype
        )
        if seed.shape != self.shape:
            raise RuntimeError(
                f"gradient has shape {seed.shape} but the output has shape {self.shape}"
            )
    _run_backward(self, seed, retain_graph)


def _inputs_of(item: Node | Tensor) -> tuple[Node | Tensor | None, ...]:
    """A node's inputs; a leaf tensor has none."""
    return item.inputs if isinstance(item, Node) else ()


def _apply_hooks(hooks: list[Callable[[Tensor], Tensor | None]], g: Array) -> Array:
    """Show ``g`` to each hook; a hook that returns a tensor replaces the gradient."""
    for hook in list(hooks):
        replaced = hook(from_numpy(g))
        if replaced is not None:
            g = replaced.data if isinstance(replaced, Tensor) else np.asarray(replaced)
    return g


def _run_backward(root: Tensor, seed: Array, retain_graph: bool) -> None:
    """Propagate ``seed`` from ``root`` through the graph, accumulating into leaves' ``.grad``."""
    start: Node | Tensor = root if root.grad_fn is None else root.grad_fn
    pending: dict[int, Array] = {id(start): seed}
    stored: set[int] = set()  # arrays already handed to a .grad (never share one array twice)
    with no_grad():
        for item in reversed(topological_order(start, _inputs_of)):
            g = pending.pop(id(item), None)
            if g is None:
                continue
            if isinstance(item, Tensor):  # a leaf: its gradient is complete, keep it
                if item._hooks:
                    g = _apply_hooks(item._hooks, g)
                _accumulate(item, g, stored)
                continue
            if item.hooks:
                g = _apply_hooks(item.hooks, g)
            output = item.retained() if item.retained is not None else None
            if output is not None:
                _accumulate(output, g, stored)
            if item.vjp is None:
                raise RuntimeError(
                    "Trying to backward through the graph a second time; "
                    "specify retain_graph=True on the first backward call"
                )
            input_grads = item.vjp(g)
            if not retain_graph:
                item.vjp = None
            for edge, pg in zip(item.inputs, input_grads, strict=True):
                if pg is None or edge is None:
                    continue
                key = id(edge)
                previous = pending.get(key)
                pending[key] = pg if previous is None else previous + pg


def _accumulate(tensor: Tensor, g: Array, stored: set[int]) -> None:
    """``tensor.grad += g`` in place, or store ``g`` (copied only if it may be shared)."""
    if type(g) is not np.ndarray or g.dtype != tensor.dtype:
        g = np.asarray(g, dtype=tensor.dtype)
    if tensor.grad is not None:
        np.add(tensor.grad.data, g, out=tensor.grad.data)
        return
    shared = g.base is not None or id(g) in stored  # a view, or already some leaf's .grad
    if shared or g.shape != tensor.shape:
        g = np.array(np.broadcast_to(g, tensor.shape))
    stored.add(id(g))
    tensor.grad = from_numpy(g)
