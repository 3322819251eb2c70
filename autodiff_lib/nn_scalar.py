"""Deprecated alias of :mod:`autodiff_lib.scalar.nn` (moved in the 2026-27 course)."""

import sys

from autodiff_lib.deprecation import warn_moved
from autodiff_lib.scalar import nn

warn_moved(__name__, nn.__name__)
sys.modules[__name__] = nn
