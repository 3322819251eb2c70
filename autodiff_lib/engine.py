"""Deprecated alias of :mod:`autodiff_lib.scalar.value` (moved in the 2026-27 course)."""

import sys

from autodiff_lib.deprecation import warn_moved
from autodiff_lib.scalar import value

warn_moved(__name__, value.__name__)
sys.modules[__name__] = value
