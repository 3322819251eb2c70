"""The course secret and the per-student seeds of the hidden tests.

A hidden test draws its inputs from ``random.Random(seed)`` with
``seed = HMAC-SHA256(secret, assignment | student | grade_id | digest)``, where ``digest`` is
the SHA-256 of the submission's exercise cells (:func:`submission_digest`): inputs a student
cannot know in advance, different for every student and for every changed submission (so one
attempt's feedback is no lookup table for the next), and the same on a regrade of the same
submission. The secret is read from
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


def submission_digest(exercises: dict[str, str]) -> str:
    """SHA-256 of a submission's exercise cells (``grade_id`` -> source), in a stable order.

    >>> submission_digest({"a": "x = 1"}) == submission_digest({"a": "x = 1"})
    True
    >>> submission_digest({"a": "x = 1"}) == submission_digest({"a": "x = 2"})
    False
    """
    hasher = hashlib.sha256()
    for grade_id in sorted(exercises):
        for part in (grade_id, exercises[grade_id]):
            data = part.encode("utf-8", "surrogatepass")
            hasher.update(len(data).to_bytes(8, "big") + data)
    return hasher.hexdigest()


def hidden_test_seed(
    secret: bytes, assignment: str, student: str, grade_id: str, digest: str
) -> int:
    """The seed of one graded cell's hidden test for one submission (a 64-bit integer).

    >>> hidden_test_seed(b"k", "a", "s", "t", "d") == hidden_test_seed(b"k", "a", "s", "t", "d")
    True
    >>> hidden_test_seed(b"k", "a", "s", "t", "d") == hidden_test_seed(b"k", "a", "s", "t", "e")
    False
    """
    message = "|".join((assignment, student, grade_id, digest)).encode("utf-8", "surrogatepass")
    digest_bytes = hmac.new(secret, message, hashlib.sha256).digest()
    return int.from_bytes(digest_bytes[:8], "big")
