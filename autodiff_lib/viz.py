"""Deprecated alias of :mod:`autodiff_lib.scalar.viz` (moved in the 2026-27 course)."""

import sys

from autodiff_lib.deprecation import warn_moved
from autodiff_lib.scalar import viz

warn_moved(__name__, viz.__name__)
sys.modules[__name__] = viz
