"""The tensor engine's global state: whether operations are recorded, and the random generator.

Both are module-level switches, as in PyTorch: :func:`no_grad` turns recording off for a block
(evaluation, parameter updates), :func:`manual_seed` makes every random draw reproducible.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

import numpy as np

# generator() is for the library's random draws (creation, in-place fills, nn.init)
__all__ = [
    "manual_seed",
    "is_grad_enabled",
    "set_grad_enabled",
    "no_grad",
    "enable_grad",
]

_grad_enabled = True
_generator = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Seed the one random generator used by :func:`randn`, :func:`rand` and ``nn.init``.

    Example: ``manual_seed(0); a = randn(3); manual_seed(0); assert (randn(3) == a).all()``.
    """
    global _generator
    _generator = np.random.default_rng(seed)


def generator() -> np.random.Generator:
    """The global numpy ``Generator`` (reseeded by :func:`manual_seed`)."""
    return _generator


def is_grad_enabled() -> bool:
    """Whether new operations are recorded for ``backward`` (False inside :func:`no_grad`)."""
    return _grad_enabled


@contextmanager
def set_grad_enabled(mode: bool) -> Iterator[None]:
    """Context manager that switches graph recording on or off, restoring it on exit."""
    global _grad_enabled
    previous = _grad_enabled
    _grad_enabled = mode
    try:
        yield
    finally:
        _grad_enabled = previous


def no_grad() -> AbstractContextManager[None]:
    """Context manager: operations inside build no graph (evaluation, parameter updates).

    Example::

        with no_grad():
            w -= 0.1 * w.grad     # an update that must not itself be differentiated
    """
    return set_grad_enabled(False)


def enable_grad() -> AbstractContextManager[None]:
    """Context manager: record operations again inside a :func:`no_grad` block."""
    return set_grad_enabled(True)
