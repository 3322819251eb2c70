"""Deprecated alias of :mod:`autodiff_lib.scalar.forward` (moved in the 2026-27 course)."""

import sys

from autodiff_lib.deprecation import warn_moved
from autodiff_lib.scalar import forward

warn_moved(__name__, forward.__name__)
sys.modules[__name__] = forward
