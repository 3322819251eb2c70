"""A student's own copy of the course, so that regenerating ``course/`` never loses work."""

from __future__ import annotations

import shutil
from pathlib import Path

from grader.paths import RELEASE_DIRECTORY, REPOSITORY_ROOT

COURSE_DIR = REPOSITORY_ROOT / RELEASE_DIRECTORY


def sync_workspace(dest: Path, course_dir: Path = COURSE_DIR) -> list[Path]:
    """Copy every released file from ``course_dir`` into ``dest`` that ``dest`` does not have yet.

    Existing files are never overwritten: a student's edited notebook survives a new release.
    Returns the files copied.
    """
    if not course_dir.is_dir():
        raise FileNotFoundError(
            f"no course release at {course_dir}: run `python -m grader release`"
        )
    copied = []
    for source in sorted(course_dir.rglob("*")):
        if not source.is_file() or ".ipynb_checkpoints" in source.parts:
            continue
        target = dest / source.relative_to(course_dir)
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        copied.append(target)
    return copied
