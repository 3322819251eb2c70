"""The nbgrader configuration shared by ``nbgrader_config.py`` and the grader's own runs.

Besides naming the course folders, it swaps nbgrader's ``Execute`` (which runs the notebook,
hidden tests included, in the student's kernel) for the grader's sandboxed hidden tests, so
``nbgrader autograde`` and the formgrader grade the same way as ``python -m grader autograde``.
HTML a student wrote is made inert in the autograded notebook and again when the feedback and
the formgrader render it (``grader.sanitize``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from grader.paths import RELEASE_DIRECTORY, SOURCE_DIRECTORY, gradebook_url

FEEDBACK_TEMPLATE = Path(__file__).resolve().parent / "templates" / "feedback.html.j2"


def configure(c: Any) -> None:
    """Fill an nbgrader/traitlets config object with the course's settings."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        CheckCellMetadata,
        ClearOutput,
        DeduplicateIds,
        IgnorePattern,
        LimitOutput,
        OverwriteKernelspec,
        SaveAutoGrades,
    )

    from grader.preprocessors import (
        GetGradesMarkingPending,
        HiddenTestGrader,
        RecordGraderReport,
        RestoreHiddenTests,
    )
    from grader.sanitize import SanitizeStudentHTML, markdown2html

    c.CourseDirectory.course_id = "autodiff-course"
    c.CourseDirectory.source_directory = SOURCE_DIRECTORY
    c.CourseDirectory.release_directory = RELEASE_DIRECTORY
    c.OverwriteCells.add_missing_cells = True  # a deleted graded cell is graded, not skipped
    c.Autograde.sanitize_preprocessors = [  # nbgrader's, with RestoreHiddenTests
        ClearOutput,
        DeduplicateIds,
        OverwriteKernelspec,
        RestoreHiddenTests,
        CheckCellMetadata,
    ]
    c.Autograde.autograde_preprocessors = [
        HiddenTestGrader,
        IgnorePattern,
        ClearMetadataPreprocessor,
        LimitOutput,
        SanitizeStudentHTML,
        SaveAutoGrades,
        RecordGraderReport,
        AssignLatePenalties,
        CheckCellMetadata,
    ]
    # Second line of defence where the pages are rendered: feedback (its own preprocessor list)
    # and the formgrader (an HTMLExporter built from this config).
    c.GenerateFeedback.preprocessors = [
        GetGradesMarkingPending,
        CSSHTMLHeaderPreprocessor,
        SanitizeStudentHTML,
    ]
    # feedback's own page ("not graded yet" for a pending written answer); scoped to the
    # exporter that GenerateFeedback owns, so the formgrader keeps its template
    c.GenerateFeedback.HTMLExporter.template_file = str(FEEDBACK_TEMPLATE)
    c.HTMLExporter.preprocessors = [SanitizeStudentHTML]
    c.HTMLExporter.filters = {"markdown2html": markdown2html}
    c.HTMLExporter.sanitize_html = True


def course_config(
    course_root: Path, secret_root: Path | None = None, precomputed: dict | None = None
) -> Any:
    """A complete config for running nbgrader's converters in this process on ``course_root``.

    ``precomputed``: evaluations the grader's batch made ahead of nbgrader, by
    ``grader.preprocessors.submission_key``.
    """
    from traitlets.config import Config

    c = Config()
    configure(c)
    c.CourseDirectory.root = str(course_root)
    c.CourseDirectory.db_url = gradebook_url(course_root)
    c.HiddenTestGrader.course_root = str(course_root)
    c.HiddenTestGrader.secret_root = str(secret_root or course_root)
    if precomputed:
        c.HiddenTestGrader.precomputed = precomputed
    return c
