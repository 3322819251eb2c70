"""Release: student versions in ``course/`` and executed instructor notebooks in ``build/``.

``release`` runs nbgrader's ``generate_assignment`` on each master; the output depends only on
the master, so ``release --check`` can regenerate into a scratch course and compare byte for
byte to tell whether ``course/`` is stale. Both refuse a master whose ``forbidden_imports``
names a part of ``autodiff_lib`` that does not exist: the sandbox hides forbidden modules by
their files, so a module moved or renamed after its lesson was written would otherwise be
reachable again without a word.
"""

from __future__ import annotations

import filecmp
import shutil
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from grader import course
from grader.master import load_master
from grader.paths import (
    RELEASE_DIRECTORY,
    SOURCE_DIRECTORY,
    executed_master_path,
    master_folder,
    master_ids,
    master_path,
    release_folder,
)
from grader.sandbox import module_locations


def release(course_root: Path, assignments: list[str], execute: bool = True) -> list[Path]:
    """Generate ``course/<id>/`` for each assignment; execute masters into ``build/solutions/``."""
    problems = unknown_forbidden_modules(course_root, assignments)
    if problems:
        raise ValueError("; ".join(problems))
    written = []
    for assignment in assignments:
        course.generate_assignment(course_root, assignment)
        written.append(release_folder(course_root, assignment))
        if execute:
            written.append(execute_master(course_root, assignment))
    return written


def unknown_forbidden_modules(course_root: Path, assignments: list[str]) -> list[str]:
    """Each ``forbidden_imports`` entry of these masters naming no module of ``autodiff_lib``."""
    problems = []
    for assignment in assignments:
        master = load_master(master_path(course_root, assignment))
        for name in master.forbidden_imports:
            if name.split(".")[0] == "autodiff_lib" and not module_locations(name):
                problems.append(
                    f"{assignment}: forbidden_imports names {name}, which is no module of "
                    f"autodiff_lib (moved or renamed?); fix the master's metadata"
                )
    return problems


def execute_master(course_root: Path, assignment: str, timeout: int = 600) -> Path:
    """Run the master top to bottom (a trusted notebook) and save it with its outputs."""
    master = master_path(course_root, assignment)
    notebook = nbformat.read(master, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(master.parent)}},
    )
    client.execute()
    target = executed_master_path(course_root, assignment)
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)
    return target


def stale(course_root: Path, assignments: list[str]) -> list[str]:
    """Why ``course/`` differs from what the masters generate (empty when up to date)."""
    problems = unknown_forbidden_modules(course_root, assignments)
    with tempfile.TemporaryDirectory(prefix="grader-release-check-") as scratch:
        scratch_root = Path(scratch)
        for assignment in assignments:
            shutil.copytree(
                master_folder(course_root, assignment), master_folder(scratch_root, assignment)
            )
            course.generate_assignment(scratch_root, assignment)
            fresh = release_folder(scratch_root, assignment)
            current = release_folder(course_root, assignment)
            problems += [f"{assignment}: {p}" for p in _differences(fresh, current)]
    released = course_root / RELEASE_DIRECTORY
    for folder in sorted(released.glob("*/")) if released.is_dir() else []:
        if folder.is_dir() and folder.name not in master_ids(course_root):
            problems.append(f"{folder.name}: released but has no master in {SOURCE_DIRECTORY}/")
    return problems


def _differences(fresh: Path, current: Path) -> list[str]:
    if not current.is_dir():
        return ["not released (course/ has no folder)"]
    fresh_files = {p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file()}
    current_files = {
        p.relative_to(current)
        for p in current.rglob("*")
        if p.is_file() and ".ipynb_checkpoints" not in p.parts
    }
    problems = [f"{name} is missing" for name in sorted(fresh_files - current_files)]
    problems += [f"{name} has no master" for name in sorted(current_files - fresh_files)]
    for name in sorted(fresh_files & current_files):
        if not filecmp.cmp(fresh / name, current / name, shallow=False):
            problems.append(f"{name} differs from its master (run `python -m grader release`)")
    return problems
