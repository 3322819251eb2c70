"""Old module paths kept for one course year: each old module is a thin alias that warns.

A notebook written in the 2025-26 course (``from autodiff_lib.experiments import ...``) keeps
running; the warning names the new module, and points at the line that imported the old one
(so Jupyter shows it under that cell). The aliases go in the 2027-28 course year.
"""

from __future__ import annotations

import sys
import warnings
from types import FrameType

__all__ = ["warn_moved"]

REMOVAL = "the 2027-28 course year"


def warn_moved(old: str, new: str) -> None:
    """Warn that module ``old`` is now ``new``; call it from the body of the old module."""
    warnings.warn(
        f"{old} has moved to {new}; import it from there ({old} goes in {REMOVAL})",
        DeprecationWarning,
        stacklevel=_importer_stacklevel(),
    )


def _importer_stacklevel() -> int:
    """The ``stacklevel`` of the code that imported the old module, past the import machinery
    (and past ``autodiff_lib.__getattr__`` for ``autodiff_lib.engine`` written as an attribute).

    ``warnings`` itself passes over importlib's bootstrap frames, so only the others count.
    """
    frame = sys._getframe(3)  # 0: this, 1: warn_moved, 2: the old module's body, 3: its importer
    level = 3
    while frame is not None and _is_import_machinery(frame):
        if "_bootstrap" not in frame.f_code.co_filename:
            level += 1
        frame = frame.f_back
    return level


def _is_import_machinery(frame: FrameType) -> bool:
    name = frame.f_globals.get("__name__")
    return "importlib" in frame.f_code.co_filename or name in ("importlib", "autodiff_lib")
