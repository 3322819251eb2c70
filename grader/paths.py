"""Where a course folder keeps each thing: the one place the grader computes course paths.

The layout is nbgrader's (``nbgrader_config.py`` names the same folders through
``grader.nbgrader_setup``)::

    <course>/solutions/<id>/<id>.ipynb           the master (solutions and hidden tests)
    <course>/course/<id>/<id>.ipynb              the student version (generated)
    <course>/submitted/<student>/<id>/           what a student handed in
    <course>/autograded/<student>/<id>/          nbgrader's graded copy and the grader's report
    <course>/feedback/<student>/<id>/            the HTML feedback
    <course>/gradebook.db                        nbgrader's gradebook (or $AUTODIFF_GRADEBOOK_URL)
"""

from __future__ import annotations

import os
from pathlib import Path

SOURCE_DIRECTORY = "solutions"
RELEASE_DIRECTORY = "course"
SUBMITTED_DIRECTORY = "submitted"
AUTOGRADED_DIRECTORY = "autograded"
FEEDBACK_DIRECTORY = "feedback"
BUILD_DIRECTORY = "build"
REPOSITORY_ROOT = Path(__file__).resolve().parent.parent


GRADEBOOK_FILE = "gradebook.db"
GRADEBOOK_URL_VARIABLE = "AUTODIFF_GRADEBOOK_URL"


def configured_gradebook_url() -> str | None:
    """``$AUTODIFF_GRADEBOOK_URL`` (an SQLAlchemy URL, e.g. ``postgresql://grader@db/autodiff``
    for several graders on a JupyterHub), or None when it is not set."""
    return os.environ.get(GRADEBOOK_URL_VARIABLE) or None


def gradebook_url(course_root: Path) -> str:
    """nbgrader's gradebook: the configured URL, else the SQLite file ``<course>/gradebook.db``
    (nbgrader's own default; ``nbgrader_config.py`` gives nbgrader's apps the configured URL)."""
    return configured_gradebook_url() or f"sqlite:///{course_root / GRADEBOOK_FILE}"


def gradebook_exists(course_root: Path) -> bool:
    """Whether there is a gradebook to read (a configured URL is taken to exist)."""
    return bool(configured_gradebook_url()) or (course_root / GRADEBOOK_FILE).exists()


def notebook_name(assignment: str) -> str:
    """The file name of an assignment's notebook: ``<id>.ipynb``."""
    return f"{assignment}.ipynb"


def master_ids(course_root: Path) -> list[str]:
    """Every assignment with a master ``solutions/<id>/<id>.ipynb``."""
    source = course_root / SOURCE_DIRECTORY
    return sorted(p.parent.name for p in source.glob("*/*.ipynb") if p.stem == p.parent.name)


def master_folder(course_root: Path, assignment: str) -> Path:
    return course_root / SOURCE_DIRECTORY / assignment


def master_path(course_root: Path, assignment: str) -> Path:
    """The master notebook of ``assignment``."""
    return master_folder(course_root, assignment) / notebook_name(assignment)


def executed_master_path(course_root: Path, assignment: str) -> Path:
    """The master run top to bottom by ``grader release`` (``build/solutions/<id>.ipynb``)."""
    return course_root / BUILD_DIRECTORY / SOURCE_DIRECTORY / notebook_name(assignment)


def release_folder(course_root: Path, assignment: str) -> Path:
    return course_root / RELEASE_DIRECTORY / assignment


def release_path(course_root: Path, assignment: str) -> Path:
    """The generated student version of ``assignment``."""
    return release_folder(course_root, assignment) / notebook_name(assignment)


def feedback_folder(course_root: Path) -> Path:
    return course_root / FEEDBACK_DIRECTORY


def unreadable_name(assignment: str) -> str:
    """What a notebook nbgrader cannot read is renamed to in ``submitted/``: nbgrader's own
    ``autograde`` then passes it by (it would fail on it and erase the grader's report)."""
    return f"{notebook_name(assignment)}.unreadable"


def exchange_release_path(assignment: str, where: Path | None = None) -> Path | None:
    """The release of ``assignment`` in nbgrader's exchange, as a student's nbgrader config
    names it (``Exchange.root`` and ``CourseDirectory.course_id``, from the Jupyter config
    folders and ``where``); None when no exchange is configured.

    This is where ``nbgrader fetch_assignment`` copies from, so a student on a JupyterHub can
    validate without the course folder.
    """
    from jupyter_core.paths import jupyter_config_path
    from traitlets.config import Config
    from traitlets.config.loader import ConfigFileNotFound, PyFileConfigLoader

    config = Config()
    for folder in [*reversed(jupyter_config_path()), str(where or Path.cwd())]:
        try:  # later folders win, as in nbgrader (the current folder last)
            config.merge(PyFileConfigLoader("nbgrader_config.py", path=folder).load_config())
        except ConfigFileNotFound:
            continue
    root = config.get("Exchange", {}).get("root")
    course_id = config.get("CourseDirectory", {}).get("course_id")
    if not root or not course_id:
        return None
    release = Path(root) / course_id / "outbound" / assignment / notebook_name(assignment)
    return release


def submitted_folder(course_root: Path, student: str, assignment: str) -> Path:
    return course_root / SUBMITTED_DIRECTORY / student / assignment


def autograded_folder(course_root: Path, student: str, assignment: str) -> Path:
    """Where nbgrader writes a student's graded notebook and the grader its report."""
    return course_root / AUTOGRADED_DIRECTORY / student / assignment
