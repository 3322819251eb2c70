"""Checks made before any student code runs: the file, the notebook's structure, the imports.

Each check returns plain sentences a student can act on. A problem found here flags the
submission for the instructor; the same checks and messages are what ``grader validate`` shows
students before they submit.
"""

from __future__ import annotations

import ast
import errno
import json
import os
import re
import stat
import threading
from pathlib import Path

import nbformat
import numpy

from grader.master import Master, strip_hidden
from grader.paths import notebook_name
from grader.text import one_line

NBGRADER_FIELDS = ("grade", "solution", "points", "task")
MAX_NOTEBOOK_BYTES = 20 * 1024**2
MAX_FILES = 200
MAX_JSON_DEPTH = 64
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_OPENING, _CLOSING = (ord("["), ord("{")), (ord("]"), ord("}"))


class SubmissionProblem(Exception):
    """A submission that cannot be graded normally; the message says why."""


def submission_files(folder: Path) -> list[Path]:
    """The regular files under ``folder``, found without following any link.

    A symbolic link anywhere (even a dangling or looping one), a file that is not a regular file
    (a FIFO, a device) or more than ``MAX_FILES`` entries make the folder a ``SubmissionProblem``:
    nothing is read through a link, and a folder of thousands of files is refused at once.
    """
    files: list[Path] = []
    pending = [folder]
    seen = 0
    try:
        _refuse_special(folder, folder, os.lstat(folder).st_mode)
        while pending:
            with os.scandir(pending.pop()) as entries:
                for entry in entries:
                    seen += 1
                    if seen > MAX_FILES:
                        raise SubmissionProblem(
                            f"the submission holds more than {MAX_FILES} files and folders; "
                            "submit the notebook on its own"
                        )
                    mode = entry.stat(follow_symlinks=False).st_mode
                    _refuse_special(folder, Path(entry.path), mode)
                    (pending if stat.S_ISDIR(mode) else files).append(Path(entry.path))
    except OSError as error:
        raise SubmissionProblem(
            f"the submission folder cannot be read ({type(error).__name__})"
        ) from None
    return sorted(files)


def _refuse_special(folder: Path, path: Path, mode: int) -> None:
    """Raise unless ``path`` is a plain folder or a regular file."""
    shown = _shown(path.relative_to(folder)) if path != folder else "the submission folder"
    if stat.S_ISLNK(mode):
        raise SubmissionProblem(
            f"{shown} is a symbolic link (links are never followed); submit the files themselves"
        )
    if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
        raise SubmissionProblem(f"{shown} is not a regular file or folder")


def _shown(name: object) -> str:
    """A file name a student chose, safe and short enough to quote in a message."""
    return one_line(name, 80)


def find_notebook(folder: Path, assignment: str) -> Path:
    """The one notebook of a student's folder, named ``<assignment>.ipynb``."""
    notebooks = [
        path
        for path in submission_files(folder)
        if path.suffix == ".ipynb" and ".ipynb_checkpoints" not in path.relative_to(folder).parts
    ]
    expected = notebook_name(assignment)
    if not notebooks:
        raise SubmissionProblem(f"no notebook in the submission (expected {expected})")
    if len(notebooks) > 1:
        names = ", ".join(_shown(p.relative_to(folder)) for p in notebooks[:5])
        more = f" and {len(notebooks) - 5} more" if len(notebooks) > 5 else ""
        raise SubmissionProblem(f"more than one notebook in one submission: {names}{more}")
    if notebooks[0].name != expected:
        shown = _shown(notebooks[0].name)
        raise SubmissionProblem(f"the notebook is named {shown}, expected {expected}")
    return notebooks[0]


def read_notebook_bytes(path: Path) -> bytes:
    """The bytes of a notebook file, opened without following a link, at most 20 MB.

    The file is checked through the open descriptor (a regular file with one name, not too
    large), so it cannot be swapped for a link or a FIFO between the check and the read.
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise SubmissionProblem(
                f"{_shown(path.name)} is a symbolic link (links are never followed)"
            ) from None
        raise SubmissionProblem(f"the notebook cannot be opened ({type(error).__name__})") from None
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise SubmissionProblem(f"{_shown(path.name)} is not a regular file")
        if info.st_nlink > 1:
            raise SubmissionProblem(
                f"{_shown(path.name)} is a hard link to another file; submit a copy"
            )
        data = handle.read(MAX_NOTEBOOK_BYTES + 1)
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise SubmissionProblem(
            f"the notebook is larger than {MAX_NOTEBOOK_BYTES // 1024**2} MB; "
            "clear its outputs and save it again"
        )
    return data


def json_depth(text: str) -> int:
    """How deeply arrays and objects nest in JSON ``text``, found without parsing it.

    Strings are removed first (a bracket inside one does not count); the depth is then the
    largest running count of opening minus closing brackets, computed by numpy in one pass.
    An unterminated string runs to the end, so the scan stays linear on any input.
    """
    outside = _JSON_STRING.sub("", text).encode("utf-8")
    codes = numpy.frombuffer(outside, dtype=numpy.uint8)
    steps = numpy.isin(codes, _OPENING).astype(numpy.int32) - numpy.isin(codes, _CLOSING)
    return int(steps.cumsum().max(initial=0))


def read_submission(path: Path) -> nbformat.NotebookNode:
    """Read and validate a submitted notebook file.

    Never through a link, bounded in size and in nesting depth: a hostile file is refused
    before any parser recurses into it.
    """
    data = read_notebook_bytes(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SubmissionProblem(
            f"the notebook is not UTF-8 text (byte {error.start}); save it again from Jupyter"
        ) from None
    if json_depth(text) > MAX_JSON_DEPTH:
        raise SubmissionProblem(
            f"the notebook nests more than {MAX_JSON_DEPTH} levels deep; it was not written "
            "by Jupyter"
        )
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        raise SubmissionProblem(
            f"the notebook is not valid JSON (line {error.lineno}, column {error.colno}: "
            f"{error.msg}); it was probably edited outside Jupyter or cut short"
        ) from None
    try:
        notebook = nbformat.reads(text, as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # nbformat raises several kinds for malformed notebooks
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise SubmissionProblem(
            f"not a valid Jupyter notebook: {one_line(first_line, 200)}"
        ) from None
    if not notebook.cells:
        raise SubmissionProblem("the notebook is empty (no cells)")
    return notebook


def _nbgrader_meta(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta if isinstance(meta, dict) else {}


def structure_problems(master: Master, notebook: nbformat.NotebookNode) -> list[str]:
    """Differences between a submission and the master that nbgrader would silently repair.

    Graded and exercise cells must all be present once, in the master's order, with the
    master's nbgrader metadata; graded test cells must not be edited.
    """
    master_cells = master.by_id()
    tracked = [c.grade_id for c in master.cells if c.graded or c.solution]
    problems: list[str] = []
    seen: list[str] = []
    for cell in notebook.cells:
        meta = _nbgrader_meta(cell)
        grade_id = meta.get("grade_id")
        if not grade_id:
            continue
        source_cell = master_cells.get(grade_id)
        if source_cell is None:
            problems.append(f"cell {grade_id!r} has nbgrader metadata but is not in the master")
            continue
        if grade_id in seen and grade_id in tracked:
            problems.append(f"cell {grade_id} appears more than once (duplicated cell)")
            continue
        seen.append(grade_id)
        changed = [
            f"{key} {source_cell.nbgrader.get(key)!r} -> {meta.get(key)!r}"
            for key in NBGRADER_FIELDS
            if _normalise(key, meta.get(key)) != _normalise(key, source_cell.nbgrader.get(key))
        ]
        if cell.cell_type != source_cell.cell_type:
            changed.append(f"cell type {source_cell.cell_type} -> {cell.cell_type}")
        if changed:
            problems.append(f"cell {grade_id}: nbgrader metadata changed ({'; '.join(changed)})")
        if source_cell.is_graded_test and edited_test(cell.source, source_cell.source):
            problems.append(f"graded cell {grade_id} was edited (graded with the original)")
    missing = [grade_id for grade_id in tracked if grade_id not in seen]
    if missing:
        problems.append(f"cells deleted or their metadata removed: {', '.join(missing)}")
    order = [grade_id for grade_id in seen if grade_id in tracked]
    if order != [grade_id for grade_id in tracked if grade_id in order]:
        problems.append("graded or exercise cells were moved out of the master's order")
    return problems


def _normalise(key: str, value):
    if key == "points":
        return float(value or 0)
    return bool(value)


def edited_test(submitted: str, master_source: str) -> bool:
    """True unless a graded cell reads as released (hidden part removed) or as in the master
    (trailing spaces and blank lines at either end aside)."""

    def lines(text: str) -> list[str]:
        return [line.rstrip() for line in text.strip().splitlines()]

    return lines(submitted) not in (lines(strip_hidden(master_source)), lines(master_source))


# CPython 3.11's AST constructor keeps its recursion depth per interpreter, not per thread:
# parsing in two threads at once can raise SystemError (python/cpython#106905), and the batch
# grades in threads, so every parse of a cell here holds this lock
_PARSE_LOCK = threading.Lock()
MAX_PARSED_CHARS = 2_000_000  # a longer cell is not parsed here (the sandbox still runs it)


def parse_code(source: str) -> ast.Module | None:
    """A cell as a syntax tree, or None when it does not parse here: a syntax error, or a
    source too long or too deeply nested for the grader's process to parse safely."""
    if len(source) > MAX_PARSED_CHARS:
        return None
    with _PARSE_LOCK:
        try:
            return ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError, SystemError):
            return None


def forbidden_imports(source: str, forbidden: tuple[str, ...]) -> list[str]:
    """Modules from ``forbidden`` that ``source`` imports, found statically.

    Covers ``import m``, ``from m import x`` (``x`` may be a forbidden submodule) and
    ``__import__("m")`` / ``importlib.import_module("m")`` with a literal name.

    >>> forbidden_imports("from autodiff_lib import Value", ("autodiff_lib",))
    ['autodiff_lib']
    """
    tree = parse_code(source)
    if tree is None:  # the sandbox reports it when the cell runs
        return []
    imported: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported += [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            function = node.func
            name = getattr(function, "attr", None) or getattr(function, "id", "")
            if name in ("__import__", "import_module") and isinstance(node.args[0].value, str):
                imported.append(node.args[0].value)
    found = []
    for module in imported:
        for name in forbidden:
            if (module == name or module.startswith(name + ".")) and name not in found:
                found.append(name)
    return found


def student_cells(master: Master, notebook: nbformat.NotebookNode) -> dict[str, str]:
    """The source of each exercise cell in the submission, by ``grade_id`` (first copy wins)."""
    exercise_ids = {cell.grade_id for cell in master.exercises}
    sources: dict[str, str] = {}
    for cell in notebook.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in exercise_ids and grade_id not in sources and cell.cell_type == "code":
            sources[grade_id] = transform_magics(cell.source)
    return sources


def transform_magics(source: str) -> str:
    """Turn IPython syntax (``%magic``, ``!cmd``) into plain Python, as Jupyter would."""
    if not any(line.lstrip().startswith(("%", "!")) for line in source.splitlines()):
        return source
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def notebook_problems(master: Master, notebook: nbformat.NotebookNode) -> list[str]:
    """What grading and ``validate`` both report about a readable notebook, in one wording.

    The structure (:func:`structure_problems`), then each forbidden import of an exercise cell.
    """
    problems = structure_problems(master, notebook)
    for grade_id, source in student_cells(master, notebook).items():
        for module in forbidden_imports(source, master.forbidden_imports):
            problems.append(
                f"cell {grade_id} imports {module}: this exercise asks you to write it yourself"
            )
    return problems
