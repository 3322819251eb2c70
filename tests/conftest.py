"""Suite-wide settings, once for every test: headless matplotlib (and every figure closed after
each test), hypothesis profiles for a noisy 2-core machine.

The library is imported as ``autodiff_lib`` (``import autodiff_lib as ad``) everywhere; PyTorch,
where a test compares with it, as ``torch as pt``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import matplotlib
import pytest
from hypothesis import HealthCheck, settings

# the grader's tests share a tiny course and its helpers (tests/fixtures/grader/kit.py)
sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "grader"))

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def close_figures():
    """Close the pyplot figures a test opened, so none leaks memory or state into the next."""
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


# No per-example deadline: the machine is shared and timing is not what these tests check.
settings.register_profile(
    "dev", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=100
)
# CI: the same examples on every run, so a red build is reproducible.
settings.register_profile(
    "ci",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    max_examples=100,
    derandomize=True,
    print_blob=True,
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
