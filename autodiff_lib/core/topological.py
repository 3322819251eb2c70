r"""The order in which both engines' backward pass visits a graph: inputs before their users.

A graph records, for every computed node, the nodes it was computed from. ``backward`` needs
them in an order where every node comes after everything it was computed from (a topological
order), so that walking it *backwards* reaches a node only after every use of it has passed
its share of the gradient down (the chain rule's sum is then complete).

This is the design of lesson 05's exercise (``topological_order`` with an explicit stack): a
depth-first search that appends a node once all of its inputs are done (post-order), with a
stack instead of recursion so that chains of any depth work (micrograd's recursive
``build_topo`` stops near Python's recursion limit of 1000). Both :class:`autodiff_lib.Value`
and :class:`autodiff_lib.Tensor` use this one function.

Example:
    >>> graph = {"f": ("x", "y"), "x": (), "y": ("x",)}
    >>> topological_order("f", lambda node: graph[node])
    ['x', 'y', 'f']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

__all__ = ["topological_order"]

N = TypeVar("N")


def topological_order(root: N, inputs_of: Callable[[N], Iterable[N | None]]) -> list[N]:
    """Every node reachable from ``root``, each after all of its inputs (``root`` last).

    ``inputs_of(node)`` gives the nodes ``node`` was computed from (``None`` entries are
    skipped). Nodes are told apart by identity, so equal-looking nodes stay distinct.
    """
    order: list[N] = []
    visited: set[int] = set()
    stack: list[tuple[N, bool]] = [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
        elif id(node) not in visited:
            visited.add(id(node))
            stack.append((node, True))
            for child in inputs_of(node):
                if child is not None and id(child) not in visited:
                    stack.append((child, False))
    return order
