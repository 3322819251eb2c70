"""The course's layout: nbgrader's folders and one master and one release per assignment."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from traitlets.config import Config

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS = [
    "01_finite_differences",
    "02_symbolic_differentiation",
    "03_forward_mode",
    "04_computational_graphs",
    "05_value_engine",
    "06_neural_networks",
    "07_tensor_engine",
    "08_vanishing_gradients",
    "09_fixing_gradient_flow",
]


def _course_config() -> Config:
    config = Config()
    namespace = {"get_config": lambda: config}
    exec(
        compile((ROOT / "nbgrader_config.py").read_text(), "nbgrader_config.py", "exec"), namespace
    )
    return config


def test_nbgrader_reads_masters_from_solutions_and_releases_into_course():
    course_directory = _course_config().CourseDirectory
    assert course_directory.source_directory == "solutions"
    assert course_directory.release_directory == "course"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_assignment_has_a_master_and_a_release(assignment):
    master = ROOT / "solutions" / assignment / f"{assignment}.ipynb"
    release = ROOT / "course" / assignment / f"{assignment}.ipynb"
    assert master.is_file(), f"missing master {master}"
    assert release.is_file(), f"missing student release {release}"
    nbformat.validate(nbformat.read(master, as_version=4))


def test_no_other_assignments_hide_in_solutions_or_course():
    for folder in ("solutions", "course"):
        present = sorted(p.name for p in (ROOT / folder).iterdir() if p.is_dir())
        assert set(present) <= set(ASSIGNMENTS), f"{folder}/ holds unknown folders {present}"
