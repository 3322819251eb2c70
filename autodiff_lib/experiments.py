"""Deprecated alias of :mod:`autodiff_lib.lab.experiments` (moved in the 2026-27 course)."""

import sys

from autodiff_lib.deprecation import warn_moved
from autodiff_lib.lab import experiments

warn_moved(__name__, experiments.__name__)
sys.modules[__name__] = experiments
