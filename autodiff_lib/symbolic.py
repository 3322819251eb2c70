"""Deprecated alias of :mod:`autodiff_lib.scalar.symbolic` (moved in the 2026-27 course)."""

import sys

from autodiff_lib.deprecation import warn_moved
from autodiff_lib.scalar import symbolic

warn_moved(__name__, symbolic.__name__)
sys.modules[__name__] = symbolic
