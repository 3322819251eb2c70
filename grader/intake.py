"""Intake: student folders from a folder or an LMS zip, checked and staged for nbgrader.

Nothing a student sends is trusted. No symbolic link is followed (a link anywhere flags that
student and nothing is read through it); folders and archives are bounded; distinct folders keep
distinct student ids (a clash is flagged, never resolved by overwriting); entries that are not
graded are reported; and only the notebook itself, with the grader's own receive time, goes into
nbgrader's ``submitted/<student>/<assignment>/``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import stat
import unicodedata
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from grader.checks import (
    MAX_NOTEBOOK_BYTES,
    SubmissionProblem,
    find_notebook,
    read_notebook_bytes,
)
from grader.lms import LmsEntry, Roster, canvas_notebook_name, lms_entry
from grader.paths import SUBMITTED_DIRECTORY, notebook_name, submitted_folder, unreadable_name
from grader.text import one_line

ZIP_MAX_MEMBERS = 100_000
ZIP_MAX_BYTES = 1024**3
ID_MAX_LENGTH = 80
SKIPPED_PREFIXES = (".", "__MACOSX")
STUDENT_IDS_FILE = ".grader_student_ids.json"
# nbgrader's own format for submitted/<student>/<assignment>/timestamp.txt
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"


@dataclass
class Submission:
    """One student's submission, as staged in ``submitted/<student>/<assignment>/``.

    ``problem`` says why it cannot be graded at all (its notebook is then not staged);
    ``notes`` say why it is graded but flagged for the instructor.
    """

    student: str
    folder: Path
    notebook: Path | None = None
    problem: str = ""
    notes: list[str] = field(default_factory=list)


class Collected(dict[str, Path]):
    """Student id -> the folder holding that student's files, and what intake found on the way.

    ``problems``: student -> why that folder cannot be graded (it is a link, an archive member
    could not be unpacked safely); ``notes``: student -> why it is graded but flagged (its id
    clashed with another folder's); ``skipped``: entries that are not students, with why.
    """

    def __init__(self) -> None:
        super().__init__()
        self.problems: dict[str, str] = {}
        self.notes: dict[str, list[str]] = {}
        self.skipped: list[str] = []
        self.ids: dict[str, str] = {}
        # LMS downloads: Canvas users' gathered folders, and what was noticed about entries
        self.canvas: dict[Path, LmsEntry] = {}
        self.lms_notes: dict[Path, list[str]] = {}
        self.lms_problems: dict[Path, str] = {}

    def only(self, students: list[str]) -> Collected:
        """The same, for ``students`` only (ids); a requested student not found is reported."""
        kept = Collected()
        kept.skipped = list(self.skipped)
        kept.ids = {name: s for name, s in self.ids.items() if s in students}
        for student in students:
            if student not in self:
                kept.skipped.append(f"{_shown(student)}: no submission from this student")
                continue
            kept[student] = self[student]
            for source, target in ((self.problems, kept.problems), (self.notes, kept.notes)):
                if student in source:
                    target[student] = source[student]
        return kept


def collect(
    source: Path,
    assignment: str,
    extract_to: Path,
    known: dict[str, str] | None = None,
    assignments: tuple[str, ...] = (),
    roster: Roster | None = None,
) -> Collected:
    """The student folders of a folder or an LMS zip, each under a distinct student id.

    Accepted layouts: ``DIR/<student>/<files>``, nbgrader's ``DIR/<student>/<assignment>/``, the
    same inside a zip, or inside one folder wrapping them. A student folder in nbgrader's layout
    without an ``<assignment>/`` folder (it holds a folder named after another of the course's
    ``assignments``, or no notebook of its own while other students' folders hold ``<assignment>/``)
    did not submit it: reported as missing, not graded. Hidden entries, ``__MACOSX`` and plain files
    beside the student folders are skipped and reported. ``known``: the ids earlier batches gave to
    folder names (:func:`known_ids`), kept, and never given to another name. ``Collected.ids`` maps
    this batch's folder names to their ids.

    LMS downloads (``grader.lms``): Canvas's flat files are gathered into one folder per Canvas
    user, Moodle's folders are read as they are; with a ``roster`` each gets the student id the
    roster gives its LMS id (one the roster lacks is flagged), without one an id from the name.
    """
    refused: dict[Path, str] = {}
    archive = extract_to / "archive"
    if source.is_file() and zipfile.is_zipfile(source):
        refused = extract(source, archive)
        source = archive
    if not source.is_dir():
        raise FileNotFoundError(f"{source} is neither a folder nor a zip of submissions")
    collected = Collected()
    source = _unwrap(source, collected.skipped)
    gathered = _gather_canvas_files(source, assignment, extract_to / "canvas", collected)
    entries = _students(source, collected.skipped) + gathered
    names = _distinct({entry: _id_name(entry, roster, collected) for entry in entries}, collected)
    ids, clashes = assign_ids(list(names.values()), known)
    collected.ids = ids
    others_nested = any(_is_folder(entry / assignment) for entry in entries)
    for entry in entries:
        student = ids[names[entry]]
        nested = entry / assignment
        if not os.path.lexists(nested) and _lacks(entry, assignments, others_nested):
            collected.skipped.append(f"{_shown(entry.name)}: no {assignment} (missing, not graded)")
            continue
        collected[student] = nested if _is_folder(nested) else entry
        if not _is_folder(entry):
            collected.problems[student] = (
                "the submission folder is a symbolic link (links are never followed)"
            )
        if entry in collected.lms_problems:
            collected.problems[student] = collected.lms_problems[entry]
        notes = collected.lms_notes.pop(entry, [])
        if clashes[names[entry]]:
            notes.append(_clash_note(names[entry], clashes[names[entry]], student))
        if notes:
            collected.notes[student] = notes
    if refused:
        _attribute(refused, source.relative_to(archive), collected, ids)
    return collected


def _distinct(names: dict[Path, str], collected: Collected) -> dict[Path, str]:
    """The same, with a name two entries share (a roster naming one student for two LMS users)
    made distinct by each entry's own name and flagged: neither overwrites the other."""
    sharing: dict[str, list[Path]] = defaultdict(list)
    for entry, name in names.items():
        sharing[name].append(entry)
    distinct = dict(names)
    for name, entries in sharing.items():
        if len(entries) < 2:
            continue
        for entry in entries:
            distinct[entry] = f"{name} ({entry.name})"
            collected.lms_notes.setdefault(entry, []).append(
                f"the roster gives student id {_shown(name)} to {len(entries)} submissions: "
                "each is graded under an id of its own; check who is who"
            )
    return distinct


def _id_name(entry: Path, roster: Roster | None, collected: Collected) -> str:
    """The name a student id is made from: the roster's id for an LMS entry it knows."""
    lms = collected.canvas.get(entry) or lms_entry(entry.name, is_file=False)
    if lms is None:
        return entry.name
    own = f"{lms.name}_{lms.lms_id}"
    if roster is None:
        return own
    student = roster.student_for(lms.lms_id)
    if student is None:
        collected.lms_notes.setdefault(entry, []).append(
            f"{lms.lms} user {lms.lms_id} ({_shown(lms.name)}) is not in the roster: graded "
            f"under a name of its own; add them to the roster"
        )
        return own
    return student


def _gather_canvas_files(
    source: Path, assignment: str, target: Path, collected: Collected
) -> list[Path]:
    """Canvas's flat files of ``source``, copied into one folder per Canvas user in ``target``.

    Each file is read as a notebook is (no link followed, at most ``MAX_NOTEBOOK_BYTES``); one
    that cannot be read that way flags that user.
    """
    folders: dict[str, Path] = {}
    for path in sorted(source.iterdir()):
        lms = lms_entry(path.name, is_file=True)
        if lms is None or _is_folder(path) or path.name.startswith(SKIPPED_PREFIXES):
            continue
        folder = folders.get(lms.lms_id)
        if folder is None:
            folder = folders[lms.lms_id] = target / f"{lms.name}_{lms.lms_id}"
            folder.mkdir(parents=True)
            collected.canvas[folder] = lms
        try:
            data = read_notebook_bytes(path)
        except SubmissionProblem as problem:
            collected.lms_problems.setdefault(folder, str(problem))
            continue
        (folder / canvas_notebook_name(lms.file, assignment)).write_bytes(data)
    return list(folders.values())


def _lacks(entry: Path, assignments: tuple[str, ...], others_nested: bool) -> bool:
    """True when ``entry``, a student folder in nbgrader's layout, holds other assignments only:
    a folder named after one of the course's ``assignments``, or (when other students' folders
    are in that layout) no notebook of its own."""
    if not _is_folder(entry):
        return False
    if any(_is_folder(entry / name) for name in assignments):
        return True
    with os.scandir(entry) as children:
        own_notebook = any(child.name.endswith(".ipynb") for child in children)
    return others_nested and not own_notebook


def known_ids(course_root: Path) -> dict[str, str]:
    """The ids earlier batches gave to folder names (``{}`` before the first batch)."""
    path = course_root / STUDENT_IDS_FILE
    if not path.is_file() or path.is_symlink():
        return {}
    recorded = json.loads(path.read_text(encoding="utf-8"))
    return {str(name): str(student) for name, student in recorded.items()}


def remember_ids(course_root: Path, ids: dict[str, str]) -> None:
    """Add this batch's folder names and ids to the course's record (owner-only, atomic)."""
    if not ids:
        return
    recorded = {**known_ids(course_root), **ids}
    path = course_root / STUDENT_IDS_FILE
    partial = path.with_name(path.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump(recorded, file, ensure_ascii=False, indent=1, sort_keys=True)
    os.replace(partial, path)


def collect_submitted(course_root: Path, assignment: str) -> Collected:
    """``submitted/<student>/<assignment>/`` as it is: its folder names are already ids.

    A folder whose name is not a usable student id is skipped and reported.
    """
    collected = Collected()
    if not (course_root / SUBMITTED_DIRECTORY).is_dir():
        return collected
    for entry in _students(course_root / SUBMITTED_DIRECTORY, collected.skipped):
        folder = entry / assignment
        if not os.path.lexists(folder):
            collected.skipped.append(f"{_shown(entry.name)}: no {assignment} (missing, not graded)")
            continue
        if student_id(entry.name) != entry.name:
            collected.skipped.append(f"{_shown(entry.name)}: not a usable student id, not graded")
            continue
        collected[entry.name] = folder
        if not (_is_folder(entry) and _is_folder(folder)):
            collected.problems[entry.name] = (
                "the submission folder is a symbolic link (links are never followed)"
            )
    return collected


def _is_folder(path: Path) -> bool:
    """True for a real folder (a link to one is not)."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _shown(name: object) -> str:
    return repr(one_line(name, 80))


def _students(folder: Path, skipped: list[str]) -> list[Path]:
    """The entries of ``folder`` that may be students; the others are added to ``skipped``."""
    entries = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(SKIPPED_PREFIXES):
            skipped.append(f"{_shown(entry.name)}: hidden or system folder, not graded")
        elif not (_is_folder(entry) or entry.is_symlink()):
            if lms_entry(entry.name, is_file=True) is None:  # Canvas's files are gathered
                skipped.append(f"{_shown(entry.name)}: not a folder, not graded")
        else:
            entries.append(entry)
    return entries


def _unwrap(source: Path, skipped: list[str]) -> Path:
    """An LMS zip often wraps the student folders in one more folder: look inside it."""
    outer: list[str] = []
    entries = _students(source, outer)
    if len(entries) == 1 and _is_folder(entries[0]):
        inner = _students(entries[0], [])
        if inner and all(_is_folder(p) for p in inner):
            if entries[0].name == SUBMITTED_DIRECTORY or len(inner) > 1:
                skipped += outer
                return entries[0]
    return source


def student_id(folder_name: str, hashed: int = 0) -> str:
    """A valid nbgrader student id, and a safe folder name, for a student's folder name.

    Letters and digits of any script (in NFC form) and ``_.@+-`` are kept, anything else
    becomes ``_``; the id starts with a letter, a digit or ``_`` (never ``.``, so never ``..``,
    nor a spreadsheet formula's ``=+-@``). ``hashed`` > 0 appends that many hex digits of a hash
    of the exact folder name, to tell apart names that give the same id.

    >>> student_id("Doe, Jane (12)"), student_id("Müller"), student_id("+1+1")
    ('Doe__Jane__12_', 'Müller', '1+1')
    """
    text = unicodedata.normalize("NFC", folder_name)
    kept = "".join(ch if _id_character(ch) else "_" for ch in text).lstrip(".@+-") or "student"
    if not hashed:
        return kept[:ID_MAX_LENGTH]
    digest = hashlib.sha256(os.fsencode(folder_name)).hexdigest()[:hashed]
    return f"{kept[: max(ID_MAX_LENGTH - hashed - 1, 8)]}-{digest}"


def _id_character(character: str) -> bool:
    return character in "_.@+-" or unicodedata.category(character)[0] in "LN"


def assign_ids(
    names: list[str], known: dict[str, str] | None = None
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Distinct ids for distinct folder names, and for each name the names it clashed with.

    Names whose ids are equal (ignoring case, as some file systems do) all get a hash suffix,
    longer until they differ; none of them keeps the plain id, so neither overwrites the other
    nor a student graded earlier under that id. ``known`` maps the folder names of earlier
    batches to the ids they were given: such a name keeps its id, and a new name whose id
    equals one of them gets a hash suffix (and is reported as clashing with the earlier name).
    """
    known = known or {}
    earlier = {student: name for name, student in known.items()}
    taken = {student.casefold(): name for student, name in earlier.items()}
    fresh = [name for name in names if name not in known]
    hashed = dict.fromkeys(fresh, 0)
    clashes: dict[str, set[str]] = {name: set() for name in names}
    while True:
        groups: dict[str, list[str]] = defaultdict(list)
        for name in fresh:
            groups[student_id(name, hashed[name]).casefold()].append(name)
        clashing = [
            (group, taken.get(folded)) for folded, group in groups.items()
            if len(group) > 1 or folded in taken
        ]  # fmt: skip
        if not clashing:
            break
        for group, earlier_name in clashing:
            for name in group:
                hashed[name] += 8
                clashes[name].update(other for other in group if other != name)
                if earlier_name is not None:
                    clashes[name].add(earlier_name)
    ids = {name: known.get(name) or student_id(name, hashed[name]) for name in names}
    return ids, {name: sorted(others) for name, others in clashes.items()}


def _clash_note(name: str, others: list[str], student: str) -> str:
    shown = ", ".join(_shown(other) for other in others[:3])
    return (
        f"the folder name {_shown(name)} gives the same student id as {shown}: graded as "
        f"{student}; check who is who before releasing grades"
    )


def extract(archive: Path, target: Path) -> dict[Path, str]:
    """Unpack a zip of submissions safely; return what was not unpacked, with why.

    Only notebooks are unpacked (at most 20 MB each); any other member becomes an empty file,
    since only its name matters to the checks, so an archive bomb never inflates. Links,
    absolute paths, ``..`` and duplicates are refused and keyed by the folder they were in, so
    they flag their student only. The archive as a whole is refused when it holds more than
    ``ZIP_MAX_MEMBERS`` members or its notebooks unpack to more than ``ZIP_MAX_BYTES``.
    """
    refused: dict[Path, str] = {}
    with zipfile.ZipFile(archive) as bundle:
        members = bundle.infolist()
        if len(members) > ZIP_MAX_MEMBERS:
            raise ValueError(f"{archive} holds {len(members)} members, more than {ZIP_MAX_MEMBERS}")
        total = sum(info.file_size for info in members if _is_notebook(info))
        if total > ZIP_MAX_BYTES:
            raise ValueError(f"{archive} unpacks to {total} bytes, more than {ZIP_MAX_BYTES}")
        for info in members:
            parts = PurePosixPath(info.filename).parts
            problem = _member_problem(info, parts)
            if not problem:
                try:
                    _unpack(bundle, info, target.joinpath(*parts))
                except (OSError, zipfile.BadZipFile, SubmissionProblem) as error:
                    problem = _unpack_problem(info, error)
            if problem:
                holder = _holder(parts)
                with contextlib.suppress(OSError):  # the student is then reported, not lost
                    target.joinpath(holder).mkdir(parents=True, exist_ok=True)
                refused.setdefault(holder, problem)
    return refused


def _is_notebook(info: zipfile.ZipInfo) -> bool:
    return not info.is_dir() and info.filename.endswith(".ipynb")


def _holder(parts: tuple[str, ...]) -> Path:
    """The folder a member is in: its path up to anything unsafe, or up to its own name."""
    for index, part in enumerate(parts):
        if part in ("/", ".."):
            return Path(*parts[:index])
    return Path(*parts[:-1])


def _member_problem(info: zipfile.ZipInfo, parts: tuple[str, ...]) -> str:
    """Why a member must not be unpacked, or ``""``."""
    shown = _shown(info.filename)
    if not parts or "/" in parts or ".." in parts:
        return f"the archive member {shown} has an unsafe path (not unpacked)"
    if stat.S_ISLNK(info.external_attr >> 16):
        return f"{shown} is a symbolic link in the archive (links are never followed)"
    if _is_notebook(info) and info.file_size > MAX_NOTEBOOK_BYTES:
        return f"{shown} is larger than {MAX_NOTEBOOK_BYTES // 1024**2} MB (not unpacked)"
    return ""


def _unpack_problem(info: zipfile.ZipInfo, error: Exception) -> str:
    if isinstance(error, FileExistsError):
        return f"the archive holds {_shown(info.filename)} more than once"
    if isinstance(error, SubmissionProblem):
        return str(error)
    return f"{_shown(info.filename)} cannot be unpacked ({type(error).__name__})"


def _unpack(bundle: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> None:
    """Write one member (a notebook's bytes, bounded by its declared size; else empty)."""
    if info.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    with os.fdopen(os.open(path, flags, 0o600), "wb") as out:
        if not _is_notebook(info):
            return
        with bundle.open(info) as member:
            data = member.read(info.file_size + 1)
        if len(data) > info.file_size:
            raise SubmissionProblem(f"{_shown(info.filename)} is larger than the archive says")
        out.write(data)


def _attribute(
    refused: dict[Path, str], root: Path, collected: Collected, ids: dict[str, str]
) -> None:
    """Send each member ``extract`` refused to the student whose folder held it.

    A member outside every student folder is reported with the skipped entries.
    """
    for path, problem in refused.items():
        owners = [name for name in ids if path == root / name or root / name in path.parents]
        if owners:
            collected.problems.setdefault(ids[owners[0]], problem)
        else:
            collected.skipped.append(problem)


def stage(course_root: Path, assignment: str, collected: Collected) -> list[Submission]:
    """Check each student's folder and stage its notebook for nbgrader.

    ``submitted/<student>/<assignment>/`` is replaced by a folder holding only the notebook
    (read without following links) and ``timestamp.txt`` with the grader's receive time; a
    folder that cannot be graded stages no notebook. Folders already in that place (grading
    ``submitted/`` itself) are checked where they are.
    """
    received = datetime.now(UTC).strftime(TIMESTAMP_FORMAT)
    staged = []
    for student, folder in collected.items():
        submission = Submission(
            student,
            folder,
            problem=collected.problems.get(student, ""),
            notes=list(collected.notes.get(student, [])),
        )
        target = submitted_folder(course_root, student, assignment)
        if _same_place(folder, target):
            _restore_unreadable(target, assignment)
        data = _checked_notebook(submission, assignment)
        if not _same_place(folder, target):
            _replace(target, assignment, data, received)
            submission.folder = target
            submission.notebook = target / notebook_name(assignment) if data is not None else None
        staged.append(submission)
    return staged


def _restore_unreadable(folder: Path, assignment: str) -> None:
    """Give a notebook set aside as unreadable by an earlier batch its name back (regrade)."""
    unreadable = folder / unreadable_name(assignment)
    if unreadable.is_file() and not os.path.lexists(folder / notebook_name(assignment)):
        os.rename(unreadable, folder / notebook_name(assignment))


def set_aside_unreadable(course_root: Path, student: str, assignment: str) -> None:
    """Rename a staged notebook nbgrader cannot read (see ``paths.unreadable_name``)."""
    staged = submitted_folder(course_root, student, assignment) / notebook_name(assignment)
    if staged.is_file() and not staged.is_symlink():
        os.rename(staged, staged.with_name(unreadable_name(assignment)))


def _checked_notebook(submission: Submission, assignment: str) -> bytes | None:
    """The notebook's bytes, or None with ``submission.problem`` set; sets its path."""
    if submission.problem:
        return None
    try:
        submission.notebook = find_notebook(submission.folder, assignment)
        return read_notebook_bytes(submission.notebook)
    except SubmissionProblem as problem:
        submission.problem = str(problem)
        submission.notebook = None
        return None


def _same_place(folder: Path, target: Path) -> bool:
    try:
        return os.path.samestat(os.lstat(folder), os.lstat(target))
    except OSError:
        return False


def _replace(target: Path, assignment: str, data: bytes | None, received: str) -> None:
    """Make ``target`` hold only the notebook ``data`` (if any), the receive time and a fresh
    ``submission_secret.txt`` (what ``nbgrader submit`` writes: ``nbgrader release_feedback``
    needs it for every student, whichever way the submission came in)."""
    if os.path.islink(target):
        target.unlink()
    elif target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    if data is not None:
        (target / notebook_name(assignment)).write_bytes(data)
    (target / "timestamp.txt").write_text(received + "\n", encoding="utf-8")
    (target / "submission_secret.txt").write_text(secrets.token_hex(64), encoding="utf-8")
