"""The course folder's private files stay readable by their owner only.

``gradebook.db`` holds every hidden test (nbgrader copies the graded cells into it),
``.course_secret`` decides every student's inputs, ``.grader_student_ids.json`` maps students'
folder names (often their real names) to ids, and ``solutions/`` holds the masters: on a
shared machine (a JupyterHub, a lab server) any other local user could otherwise read them. Git
records only the executable bit, so the modes set here do not show up as changes.
"""

from __future__ import annotations

import os
from pathlib import Path

from grader.paths import GRADEBOOK_FILE, SOURCE_DIRECTORY

PRIVATE_FILES = (GRADEBOOK_FILE, ".course_secret", ".grader_student_ids.json")


def protect_course_files(course_root: Path) -> list[Path]:
    """Make the gradebook, the secret and the masters owner-only; return what was changed.

    Files become 0600 and folders 0700 (executable files keep being executable: 0700).
    Missing ones are skipped: call it after creating or touching any of them. Symbolic links
    are left alone (their target may be anyone's file).
    """
    changed = []
    targets = [course_root / name for name in PRIVATE_FILES]
    solutions = course_root / SOURCE_DIRECTORY
    if solutions.is_dir() and not solutions.is_symlink():
        targets += [solutions, *solutions.rglob("*")]
    for path in targets:
        if not path.exists() or path.is_symlink():
            continue
        current = path.stat().st_mode & 0o777
        mode = 0o700 if path.is_dir() or current & 0o100 else 0o600
        if current != mode:
            os.chmod(path, mode)
            changed.append(path)
    return changed
