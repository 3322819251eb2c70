"""The nbgrader configuration shared by ``nbgrader_config.py`` and the grader's own runs."""

from __future__ import annotations

from typing import Any

SOURCE_DIRECTORY = "solutions"
RELEASE_DIRECTORY = "course"


def configure(c: Any) -> None:
    """Fill an nbgrader/traitlets config object with the course's settings."""
    c.CourseDirectory.course_id = "autodiff-course"
    c.CourseDirectory.source_directory = SOURCE_DIRECTORY
    c.CourseDirectory.release_directory = RELEASE_DIRECTORY
