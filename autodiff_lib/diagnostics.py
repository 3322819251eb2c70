"""Deprecated alias of :mod:`autodiff_lib.lab` (moved in the 2026-27 course)."""

import sys

from autodiff_lib import lab
from autodiff_lib.deprecation import warn_moved

warn_moved(__name__, lab.__name__)
sys.modules[__name__] = lab
