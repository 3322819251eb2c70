"""Deprecated alias of :mod:`autodiff_lib.scalar.numerical` (moved in the 2026-27 course)."""

import sys

from autodiff_lib.deprecation import warn_moved
from autodiff_lib.scalar import numerical

warn_moved(__name__, numerical.__name__)
sys.modules[__name__] = numerical
