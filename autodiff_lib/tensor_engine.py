"""Deprecated alias of :mod:`autodiff_lib.tensors` (moved in the 2026-27 course)."""

import sys

from autodiff_lib import tensors
from autodiff_lib.deprecation import warn_moved

warn_moved(__name__, tensors.__name__)
sys.modules[__name__] = tensors
