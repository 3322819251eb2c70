"""Intake trusts nothing: links, poisoned folders, id clashes, archive tricks, CSV injection.

One course is graded four times, under a file lock by the first xdist worker that needs it
(the others read its saved results): a first batch (``keeper``, ``wrong``), a batch of attacks
from a folder, a batch of attacks from a zip, and a batch that stops half-way. Each test reads
one side of it: a student's report, the files in ``submitted/``, ``autograded/`` and
``feedback/``, the gradebook, the course files that must stay untouched.
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import kit  # noqa: E402
import pytest
from test_grader_batch import digest  # noqa: E402

from grader import checks, intake  # noqa: E402

ASSIGNMENT = kit.ASSIGNMENT
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
SECRET = "s3cr3t-value-of-the-course"
OLD_TIME = "2000-01-01 00:00:00.000000 UTC"
CONTROL = ("\x1b", "\n", "\r", "\x07")


def tree_digests(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (relative path -> sha256); links are listed as such."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            found[str(path.relative_to(folder))] = "link"
        elif path.is_file():
            found[str(path.relative_to(folder))] = digest(path)
    return found


def descendants(pid: int) -> list[str]:
    """The command lines of every process descended from ``pid``."""
    parents, commands = {}, {}
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat_file.parent / "cmdline").read_bytes()
        except OSError:
            continue
        parents[int(stat_file.parent.name)] = int(fields[1])
        commands[int(stat_file.parent.name)] = cmdline.replace(b"\0", b" ").decode(errors="replace")
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        found += [commands[child] for child in children]
        frontier += children
    return found


def folder_attacks(root: Path, folder: Path) -> None:
    """Student folders that try to get marks or course files through the intake."""
    wrong = kit.submission(root, kit.wrong_tanh(root))
    good = kit.submission(root, kit.master_solution(root))
    kit.write(wrong, folder / "wrong" / NOTEBOOK)
    # a link to the master instead of a notebook: full marks with no code, if followed
    (folder / "link_master").mkdir()
    (folder / "link_master" / NOTEBOOK).symlink_to(kit.master_path(root))
    # links to the secret and the gradebook beside an honest notebook: nbgrader copies them
    kit.write(wrong, folder / "link_secrets" / NOTEBOOK)
    (folder / "link_secrets" / "secret.txt").symlink_to(root / ".course_secret")
    (folder / "link_secrets" / "data" / "deeper").mkdir(parents=True)
    (folder / "link_secrets" / "data" / "deeper" / "gb.db").symlink_to(root / "gradebook.db")
    # a link loop: shutil.copytree raised shutil.Error and stopped the batch
    kit.write(wrong, folder / "link_loop" / NOTEBOOK)
    (folder / "link_loop" / "a").symlink_to("b")
    (folder / "link_loop" / "b").symlink_to("a")
    (folder / "link_loop" / "self").symlink_to(".")
    # the student folder itself a link to the master's folder
    (folder / "link_folder").symlink_to(kit.master_path(root).parent)
    # poisoned folders
    (folder / "deep_json").mkdir()
    (folder / "deep_json" / NOTEBOOK).write_text("[" * 100_000 + "]" * 100_000)
    (folder / "huge").mkdir()
    (folder / "huge" / NOTEBOOK).write_bytes(b" " * (checks.MAX_NOTEBOOK_BYTES + 1))
    (folder / "fifo").mkdir()
    os.mkfifo(folder / "fifo" / NOTEBOOK)
    kit.write(wrong, folder / "many_files" / NOTEBOOK)
    for number in range(2_000):  # 20,000 in test_intake_checks_are_cheap_on_hostile_files
        os.close(os.open(folder / "many_files" / f"f{number}", os.O_CREAT | os.O_WRONLY))
    # ids: distinct folders that sanitise alike, non-ASCII names, formula-like names
    kit.write(good, folder / "jane doe" / NOTEBOOK)
    kit.write(wrong, folder / "jane_doe" / NOTEBOOK)
    kit.write(good, folder / "Müller" / NOTEBOOK)
    kit.write(wrong, folder / "Möller" / NOTEBOOK)
    kit.write(wrong, folder / "+1+1" / NOTEBOOK)
    kit.write(wrong, folder / "=cmd|' -C calc'!A0" / NOTEBOOK)
    # a control-character file name quoted in the reason
    kit.write(wrong, folder / "ctrl" / "evil\x1b[2J\n\x07name.ipynb")
    # a timestamp of the student's choosing
    kit.write(wrong, folder / "timestamp" / NOTEBOOK)
    (folder / "timestamp" / "timestamp.txt").write_text(OLD_TIME)
    # entries that are not students
    kit.write(good, folder / ".hidden" / NOTEBOOK)
    kit.write(good, folder / "__MACOSX" / NOTEBOOK)
    (folder / "notes.txt").write_text("not a student")


def zip_attacks(root: Path, archive: Path) -> None:
    """An LMS zip with link members, traversal, bombs and duplicates beside an honest student."""
    wrong = kit.submission(root, kit.wrong_tanh(root))
    text = json.dumps(wrong)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr(f"export/zip_wrong/{NOTEBOOK}", text)
        # a folder whose id is the id an earlier batch gave to "wrong" (ids ignore case)
        right = json.dumps(kit.submission(root, kit.master_solution(root)))
        bundle.writestr(f"export/WRONG/{NOTEBOOK}", right)
        link = zipfile.ZipInfo(f"export/zip_link/{NOTEBOOK}")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        bundle.writestr(link, "../../solutions/tiny_value/tiny_value.ipynb")
        bundle.writestr(f"export/zip_traversal/{NOTEBOOK}", text)
        bundle.writestr("export/zip_traversal/../../../escaped.ipynb", text)
        bundle.writestr(f"export/zip_bomb/{NOTEBOOK}", text)
        bundle.writestr("export/zip_bomb/data.bin", b"\0" * 100 * 1024**2)
        bundle.writestr(f"export/zip_big/{NOTEBOOK}", b" " * (checks.MAX_NOTEBOOK_BYTES + 1))
        bundle.writestr(f"export/zip_twice/{NOTEBOOK}", text)
        with pytest.warns(UserWarning, match="Duplicate name"):
            bundle.writestr(f"export/zip_twice/{NOTEBOOK}", text.replace("tanh", "tan"))
        bundle.writestr("__MACOSX/export/._zip_wrong", b"")
        bundle.writestr("/absolute.ipynb", text)


def stop_after_first_student(real):
    """nbgrader's pass that records the first student, then is interrupted."""

    def autograde(course_root, assignment, students, secret_root=None, precomputed=None):
        real(course_root, assignment, students[:1], secret_root, precomputed)
        raise KeyboardInterrupt

    return autograde


@pytest.fixture(scope="session")
def graded(tmp_path_factory, worker_id):
    """The course after all four batches, with what was observed between them."""

    def compute(shared: Path) -> dict:
        with pytest.MonkeyPatch.context() as patch:
            patch.delenv("AUTODIFF_COURSE_SECRET", raising=False)
            return _grade_all(shared, patch)

    result = kit.computed_once(tmp_path_factory, worker_id, "grader_intake", compute)
    result["root"] = Path(result["root"])
    return result


def _grade_all(shared: Path, patch: pytest.MonkeyPatch) -> dict:
    from grader import batch, course

    root = kit.make_course(shared / "course")
    (root / ".course_secret").write_text(SECRET + "\n")
    protected = {str(p): digest(p) for p in (kit.master_path(root), root / ".course_secret")}
    first = shared / "first"
    kit.write(kit.submission(root, kit.master_solution(root)), first / "keeper" / NOTEBOOK)
    kit.write(kit.submission(root, kit.wrong_tanh(root)), first / "wrong" / NOTEBOOK)
    batch.autograde(root, ASSIGNMENT, first, progress=False)
    after_first = {s: tree_digests(root / "autograded" / s) for s in ("keeper", "wrong")}

    folder_attacks(root, shared / "attacks")
    started = datetime.now(UTC).replace(tzinfo=None).isoformat()
    clock = time.monotonic()
    attacks = batch.autograde(root, ASSIGNMENT, shared / "attacks", progress=False)
    attack_seconds = time.monotonic() - clock
    after_attacks = {s: tree_digests(root / "autograded" / s) for s in ("keeper", "wrong")}

    zip_attacks(root, shared / "lms.zip")
    zipped = batch.autograde(root, ASSIGNMENT, shared / "lms.zip", progress=False)
    course.generate_feedback(root, ASSIGNMENT)

    patch.setattr(course, "autograde", stop_after_first_student(course.autograde))
    with pytest.raises(KeyboardInterrupt):
        batch.autograde(root, ASSIGNMENT, first, progress=False)
    after_stop = {s: tree_digests(root / "autograded" / s) for s in ("keeper", "wrong")}
    return {
        "root": str(root),
        "protected": protected,
        "first": after_first,
        "after_attacks": after_attacks,
        "after_stop": after_stop,
        "started": started,
        "attack_seconds": attack_seconds,
        "reports": {r["student"]: r for r in [*attacks, *zipped]},
        "skipped": [*attacks.skipped, *zipped.skipped],
    }


def report(graded, student: str) -> dict:
    return graded["reports"][student]


def honest_wrong_score(graded) -> float:
    return report(graded, "wrong")["score"]


def gradebook_students(root: Path) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        assignment = gradebook.find_assignment(ASSIGNMENT)
        return {s.student.id: float(s.score) for s in assignment.submissions}


def assert_not_graded(graded, student: str, reason: str) -> None:
    """Flagged with ``reason``, no marks, not graded by nbgrader, not in the gradebook."""
    root, result = graded["root"], report(graded, student)
    assert result["flagged"] is True and reason in result["reason"], result["reason"]
    assert result["score"] == 0.0 <= honest_wrong_score(graded)
    assert not (root / "autograded" / student / ASSIGNMENT / NOTEBOOK).exists()
    assert student not in gradebook_students(root)


def assert_nothing_staged(graded, student: str) -> None:
    """Nothing was copied from the student's folder: ``submitted/`` has the grader's own files."""
    staged = graded["root"] / "submitted" / student / ASSIGNMENT
    assert sorted(p.name for p in staged.iterdir()) == ["submission_secret.txt", "timestamp.txt"]


def test_honest_wrong_code_is_the_baseline(graded):
    assert (report(graded, "wrong")["score"], report(graded, "wrong")["flagged"]) == (1.0, False)


@pytest.mark.parametrize(
    ("student", "reason"),
    [
        ("link_master", f"{NOTEBOOK} is a symbolic link"),
        ("link_secrets", "is a symbolic link"),
        ("link_loop", "is a symbolic link"),
        ("link_folder", "the submission folder is a symbolic link"),
    ],
)
def test_a_symbolic_link_anywhere_flags_the_student_and_nothing_is_read_through_it(
    graded, student, reason
):
    assert_not_graded(graded, student, reason)
    assert_nothing_staged(graded, student)


def test_no_link_and_no_course_file_reaches_submitted_autograded_or_feedback(graded):
    root = graded["root"]
    secret_digest = digest(root / ".course_secret")
    for place in ("submitted", "autograded", "feedback"):
        for path in (root / place).rglob("*"):
            assert not path.is_symlink(), path
            if path.is_file() and not path.name.endswith(".html"):
                assert digest(path) != secret_digest, path
                assert SECRET not in path.read_text(errors="replace"), path
                assert not path.read_bytes().startswith(b"SQLite format"), path


@pytest.mark.parametrize(
    ("student", "reason"),
    [
        ("deep_json", f"nests more than {checks.MAX_JSON_DEPTH} levels"),
        ("huge", "larger than 20 MB"),
        ("fifo", "is not a regular file"),
        ("many_files", f"more than {checks.MAX_FILES} files"),
    ],
)
def test_a_poisoned_folder_flags_that_student_only(graded, student, reason):
    assert_not_graded(graded, student, reason)


def test_poisoned_folders_do_not_stall_the_batch(graded):
    assert graded["attack_seconds"] < 120  # 20,000 files were 629 s and counting in nbgrader
    graded_normally = [r for r in graded["reports"].values() if not r["flagged"]]
    assert {"wrong", "Müller", "Möller", "1+1", "timestamp", "zip_wrong"} <= {
        r["student"] for r in graded_normally
    }


def test_only_the_notebook_and_the_graders_receive_time_are_staged(graded):
    root = graded["root"]
    staged = root / "submitted" / "timestamp" / ASSIGNMENT
    assert sorted(p.name for p in staged.iterdir()) == [
        "submission_secret.txt",
        "timestamp.txt",
        NOTEBOOK,
    ]
    assert staged.joinpath("timestamp.txt").read_text().strip() != OLD_TIME
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        received = gradebook.find_submission(ASSIGNMENT, "timestamp").timestamp
    assert received >= datetime.fromisoformat(graded["started"])


def test_folders_that_sanitise_alike_keep_distinct_ids_and_are_flagged(graded):
    first, second = intake.student_id("jane doe", 8), intake.student_id("jane_doe", 8)
    assert first != second and "jane_doe" not in graded["reports"]
    for student, score in ((first, 3.0), (second, 1.0)):
        result = report(graded, student)
        assert result["flagged"] is True and "gives the same student id" in result["reason"]
        assert result["score"] == score  # each folder keeps its own grade
    scores = gradebook_students(graded["root"])
    assert (scores[first], scores[second]) == (3.0, 1.0) and "jane_doe" not in scores


def test_an_id_given_in_an_earlier_batch_is_never_given_to_another_folder(graded):
    newcomer = intake.student_id("WRONG", 8)
    result = report(graded, newcomer)
    assert result["flagged"] is True and "gives the same student id as 'wrong'" in result["reason"]
    assert result["score"] == 3.0  # its own grade, under its own id
    assert gradebook_students(graded["root"])["wrong"] == honest_wrong_score(graded)
    record = graded["root"] / intake.STUDENT_IDS_FILE
    assert stat.S_IMODE(record.stat().st_mode) == 0o600
    ids = json.loads(record.read_text(encoding="utf-8"))
    assert ids["wrong"] == "wrong" and ids["WRONG"] == newcomer
    assert ids["jane doe"] == intake.student_id("jane doe", 8)


def test_non_ascii_names_stay_distinct(graded):
    assert (report(graded, "Müller")["score"], report(graded, "Möller")["score"]) == (3.0, 1.0)
    assert not report(graded, "Müller")["flagged"] and not report(graded, "Möller")["flagged"]
    assert intake.assign_ids(["Müller", "Mu\u0308ller"])[1]["Müller"] == ["Mu\u0308ller"]


def test_skipped_entries_are_reported(graded):
    skipped = "\n".join(graded["skipped"])
    for name in (".hidden", "__MACOSX", "notes.txt", "/absolute.ipynb"):
        assert repr(name) in skipped, name
    assert ".hidden" not in graded["reports"] and "__MACOSX" not in graded["reports"]


def test_file_names_quoted_in_reasons_are_cleaned(graded):
    result = report(graded, "ctrl")
    assert result["flagged"] and "the notebook is named evil name.ipynb" in result["reason"]
    assert not any(character in result["reason"] for character in CONTROL)


@pytest.mark.parametrize(
    ("student", "reason"),
    [
        ("zip_link", "is a symbolic link in the archive"),
        ("zip_traversal", "unsafe path"),
        ("zip_big", "larger than 20 MB"),
        ("zip_twice", "more than once"),
    ],
)
def test_archive_tricks_flag_their_student_only(graded, student, reason):
    assert_not_graded(graded, student, reason)
    assert_nothing_staged(graded, student)
    assert not list(graded["root"].parent.parent.rglob("escaped.ipynb"))


def test_an_archive_bomb_is_never_inflated(graded):
    bomb = report(graded, "zip_bomb")
    assert (bomb["score"], bomb["flagged"]) == (honest_wrong_score(graded), False)
    assert sorted(p.name for p in (graded["root"] / "submitted" / "zip_bomb").rglob("*")) == [
        "submission_secret.txt",
        "timestamp.txt",
        ASSIGNMENT,
        NOTEBOOK,
    ]


def test_other_students_results_survive_every_batch(graded):
    assert graded["after_attacks"]["keeper"] == graded["first"]["keeper"]
    assert gradebook_students(graded["root"])["keeper"] == 3.0


def test_a_batch_stopped_half_way_keeps_the_previous_results_of_everyone_not_yet_graded(graded):
    root = graded["root"]
    assert graded["after_stop"]["wrong"] == graded["after_attacks"]["wrong"]
    assert f"{ASSIGNMENT}/grader_report.json" in graded["after_stop"]["keeper"]  # graded first
    assert not list((root / ".grader_previous").rglob("*.json"))


def test_the_course_files_are_untouched_and_nothing_is_left_running(graded):
    for path, before in graded["protected"].items():
        assert digest(Path(path)) == before, path
    assert not [args for args in descendants(os.getpid()) if "bwrap" in args or "runner" in args]


def test_the_csv_export_never_holds_a_formula(graded):
    from grader.export import export_rows, to_csv

    rows = list(csv.reader(io.StringIO(to_csv(export_rows(graded["root"])))))
    cells = [cell for row in rows for cell in row]
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert "1+1" in cells and intake.student_id("=cmd|' -C calc'!A0") in cells
    text = to_csv([{"student_id": "+1+1", "reason": '=HYPERLINK("x")\x1b[2J', "score": 1}])
    assert "'+1+1" in text and "'=HYPERLINK" in text and "\x1b" not in text


def test_the_command_line_reports_skipped_entries_and_passes_the_sandbox_flag(
    graded, monkeypatch, capsys
):
    from grader import batch
    from grader.cli import main

    reports = [{**report(graded, "ctrl"), "student": "ev\x1bil\nname"}]
    monkeypatch.setattr(
        batch, "autograde", lambda *a, **k: batch.BatchReports(reports, ["'.hidden\x1b[2J': x"])
    )
    monkeypatch.delenv("AUTODIFF_GRADER_ALLOW_UNSANDBOXED", raising=False)
    command = ["--course-dir", str(graded["root"]), "autograde", ASSIGNMENT, "--submissions"]
    assert main([*command, "x", "--allow-unsandboxed"]) == 0
    out = capsys.readouterr().out
    assert os.environ["AUTODIFF_GRADER_ALLOW_UNSANDBOXED"] == "1"
    assert "skipped '.hidden': x" in out and "1 flagged; 1 skipped" in out
    assert "\x1b" not in out and "flagged evil name:" in out


def test_intake_checks_are_cheap_on_hostile_files(tmp_path):
    many = tmp_path / "many"
    many.mkdir()
    for number in range(20_000):
        os.close(os.open(many / f"f{number}.ipynb", os.O_CREAT | os.O_WRONLY))
    clock = time.monotonic()
    with pytest.raises(checks.SubmissionProblem, match="more than 200 files"):
        checks.find_notebook(many, ASSIGNMENT)
    assert time.monotonic() - clock < 1.0
    deep = tmp_path / NOTEBOOK
    deep.write_text('{"a": ' * 100_000 + "1" + "}" * 100_000)
    with pytest.raises(checks.SubmissionProblem, match="nests more than"):
        checks.read_submission(deep)
    assert checks.json_depth('{"a": "[[[[", "b": [[1], {"c": "\\"]]"}]}') == 3


def test_a_killed_batch_leaves_previous_results_to_be_restored(tmp_path):
    from grader import batch

    previous = tmp_path / ".grader_previous" / "kept" / ASSIGNMENT
    previous.mkdir(parents=True)
    (previous / "grader_report.json").write_text("{}")
    partial = tmp_path / "autograded" / "kept" / ASSIGNMENT
    partial.mkdir(parents=True)
    (partial / NOTEBOOK).write_text("half-written")
    batch._settle_previous(tmp_path, ASSIGNMENT)
    assert sorted(p.name for p in partial.iterdir()) == ["grader_report.json"]
    assert not previous.exists()


def test_an_archive_too_large_as_a_whole_is_refused_before_unpacking(tmp_path, monkeypatch):
    archive = tmp_path / "lms.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for number in range(5):
            bundle.writestr(f"s{number}/{NOTEBOOK}", "{}")
    monkeypatch.setattr(intake, "ZIP_MAX_MEMBERS", 4)
    with pytest.raises(ValueError, match="holds 5 members, more than 4"):
        intake.collect(archive, ASSIGNMENT, tmp_path / "out")
    monkeypatch.setattr(intake, "ZIP_MAX_MEMBERS", 10)
    monkeypatch.setattr(intake, "ZIP_MAX_BYTES", 9)
    with pytest.raises(ValueError, match="unpacks to 10 bytes, more than 9"):
        intake.collect(archive, ASSIGNMENT, tmp_path / "out")
    assert not (tmp_path / "out").exists()
