"""The course secret and the per-student seeds of the hidden tests.

A hidden test draws its inputs from ``random.Random(seed)`` with
``seed = HMAC-SHA256(secret, assignment | student | grade_id)``: inputs a student cannot know in
advance, different for every student, and the same on a regrade. The secret is read from
``$AUTODIFF_COURSE_SECRET`` or ``<course>/.course_secret`` (created on first use, mode 600); it
never enters a sandbox.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

SECRET_FILE = ".course_secret"
ENV_VAR = "AUTODIFF_COURSE_SECRET"


def course_secret(course_root: Path) -> bytes:
    """The course's secret, creating ``.course_secret`` (mode 600) on first use."""
    from_env = os.environ.get(ENV_VAR)
    if from_env:
        return from_env.encode("utf-8")
    path = course_root / SECRET_FILE
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode("utf-8")


def hidden_test_seed(secret: bytes, assignment: str, student: str, grade_id: str) -> int:
    """The seed of one graded cell's hidden test for one student (a 64-bit integer).

    >>> hidden_test_seed(b"k", "a", "s", "t") == hidden_test_seed(b"k", "a", "s", "t")
    True
    """
    message = "|".join((assignment, student, grade_id)).encode("utf-8")
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big")
