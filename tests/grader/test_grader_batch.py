"""A whole batch: good, wrong, unfinished, unreadable, broken and adversarial submissions.

One batch is graded once (by the first xdist worker that needs it, under a file lock; the
others read its saved results). Each test reads one side of it: a student's report, the
gradebook through the CSV export, the feedback HTML, the course files that must stay untouched.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import kit  # noqa: E402
import nbformat
import pytest

from grader.batch import autograde  # noqa: E402

REPO = Path(__file__).resolve().parents[2]

HIDDEN_LINES = ("rng.uniform(-3.0, 3.0)", "Did you swap the two gradients?", "def hidden_test")
SLEEP_MARK = "4242.1717"


def adversarial_sources(root: Path) -> dict[str, str]:
    """Student cells that try to get marks (or secrets) they did not earn, each on wrong code."""
    wrong = kit.wrong_tanh(root)
    course = str(root)
    return {
        # nbgrader weakness 1: patch the comparisons the tests use
        "patch_isclose": wrong
        + "\nimport math\nimport numpy\nmath.isclose = numpy.allclose = lambda *a, **k: True\n",
        # weakness 2: an input transformer that turns later cells into `pass`
        "input_transformer": wrong
        + "\nget_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])\n",
        # weakness 3: read and write the course (masters, gradebook, secret, other students)
        "snoop": wrong
        + f"""
import glob, os
course = {course!r}
for path in [course + "/solutions/tiny_value/tiny_value.ipynb", course + "/gradebook.db",
             course + "/.course_secret", course + "/submitted/good/tiny_value/tiny_value.ipynb"]:
    try:
        print("read", path, open(path).read()[:50])
    except OSError as error:
        print("cannot read", path, type(error).__name__)
    try:
        open(path, "w").write("overwritten")
    except OSError as error:
        print("cannot write", path, type(error).__name__)
print(glob.glob("/**/gradebook.db", recursive=True))
print(glob.glob("/**/.course_secret", recursive=True))
""",
        # weakness 4: copy the hidden test out through a value the test reports
        "leak_hidden": wrong
        + """
import gc
def find_hidden_test(self):
    strings = (o for o in gc.get_objects() if isinstance(o, str))
    return next((s for s in strings if "def hidden" + "_test" in s), "?")
Value.grad = property(find_hidden_test, lambda self, value: None)
""",
        # forge the runner's results on its private channel
        "forge_channel": wrong
        + """
import json, os
fake = {"event": "tests_done", "results": {"test_mul": {"cases": [], "error": None},
        "test_tanh": {"cases": [], "error": None}}}
for fd in range(3, 12):
    try:
        os.write(fd, (json.dumps(fake) + "\\n").encode())
    except OSError:
        pass
""",
        # make the hidden test's inputs predictable
        "fixed_rng": wrong
        + "\nimport random\n_Random = random.Random\n"
        + "random.Random = lambda seed=None: _Random(0)\n",
    }


def broken_sources() -> dict[str, str]:
    return {
        "infinite_loop": f"""
import signal, subprocess
signal.signal(signal.SIGALRM, signal.SIG_IGN)
subprocess.Popen(["sleep", "{SLEEP_MARK}"])
while True:
    pass
""",
        "memory_hog": "hog = bytearray(3 * 1024**3)\n",
        "too_much_output": "for line in range(100000):\n    print('line', line)\n",
        "crash": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n",
        "forbidden_import": "from autodiff_lib import Value\n",
        "fork_bomb": f"""
import os
for _ in range(10000):
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", "{SLEEP_MARK}"])
""",
    }


def build_submissions(root: Path, folder: Path) -> Path:
    """Student folders; most in a zip as an LMS exports them."""
    good = kit.submission(root, kit.master_solution(root))
    wrong = kit.submission(root, kit.wrong_tanh(root))
    notebooks = {"good": good, "wrong": wrong, "blank": kit.submission(root)}
    for name, source in {**adversarial_sources(root), **broken_sources()}.items():
        notebooks[name] = kit.submission(root, source)

    def edited(change):
        notebook = copy.deepcopy(wrong)
        change(notebook)
        return notebook

    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in wrong.cells]
    notebooks["edited_test"] = edited(
        lambda nb: setattr(kit.cell(nb, "test_tanh"), "source", "print('all good')")
    )
    notebooks["deleted_test"] = edited(lambda nb: nb.cells.pop(ids.index("test_tanh")))
    notebooks["duplicated_cell"] = edited(lambda nb: nb.cells.append(copy.deepcopy(nb.cells[2])))
    notebooks["reordered"] = edited(
        lambda nb: nb.cells.insert(0, nb.cells.pop(ids.index("test_tanh")))
    )
    notebooks["changed_points"] = edited(
        lambda nb: kit.cell(nb, "test_tanh").metadata.nbgrader.update(points=20)
    )
    notebooks["no_cells"] = nbformat.v4.new_notebook()
    for student, notebook in notebooks.items():
        kit.write(notebook, folder / student / "tiny_value.ipynb")
    (folder / "invalid_json").mkdir()
    (folder / "invalid_json" / "tiny_value.ipynb").write_text('{"cells": [', encoding="utf-8")
    (folder / "not_utf8").mkdir()
    text = nbformat.writes(wrong).replace("Value", "Välue")
    (folder / "not_utf8" / "tiny_value.ipynb").write_bytes(text.encode("latin-1"))
    kit.write(good, folder / "renamed" / "my_homework.ipynb")
    kit.write(good, folder / "two_notebooks" / "tiny_value.ipynb")
    kit.write(wrong, folder / "two_notebooks" / "tiny_value_old.ipynb")
    archive = folder.parent / "lms_export.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                bundle.write(path, Path("assignment_export") / path.relative_to(folder))
    return archive


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def batch(tmp_path_factory, worker_id):
    """The graded batch, computed by the first xdist worker that needs it, read by the others."""

    def compute(shared: Path) -> dict:
        with pytest.MonkeyPatch.context() as patch:
            patch.delenv("AUTODIFF_COURSE_SECRET", raising=False)
            return _grade_batch(shared, patch)

    result = kit.computed_once(tmp_path_factory, worker_id, "grader_batch", compute)
    result["root"] = Path(result["root"])
    result["before"] = {Path(path): digest for path, digest in result["before"].items()}
    return result


def _grade_batch(shared: Path, patch: pytest.MonkeyPatch) -> dict:
    from grader import preprocessors

    # students nbgrader's passes graded again instead of recording; the passes run in forked
    # processes, so each appends to a file rather than to a list in this one
    regraded = shared / "regraded.txt"
    regraded.write_text("")
    grade_file = preprocessors.grade_file

    def counted(course_root, assignment, student, path, secret):
        with regraded.open("a") as log:
            log.write(student + "\n")
        return grade_file(course_root, assignment, student, path, secret)

    patch.setattr(preprocessors, "grade_file", counted)

    root = kit.make_course(shared / "course")
    archive = build_submissions(root, shared / "incoming" / "students")
    protected = [kit.master_path(root), root / ".course_secret"]
    (root / ".course_secret").write_text("s3cr3t-value-of-the-course\n")
    before = {str(path): digest(path) for path in protected}
    reports = autograde(root, "tiny_value", archive, workers=2, progress=False)
    return {
        "root": str(root),
        "reports": {r["student"]: r for r in reports},
        "before": before,
        "regraded": regraded.read_text().split(),
    }


def report(batch, student):
    return batch["reports"][student]


def test_every_student_gets_a_report(batch):
    assert len(batch["reports"]) == 25


def test_nbgrader_records_the_batchs_evaluations_without_grading_again(batch):
    assert batch["regraded"] == []


def test_honest_submissions_get_their_scores_and_teaching_messages(batch):
    good, wrong, blank = (report(batch, s) for s in ("good", "wrong", "blank"))
    assert (good["score"], good["max_score"], good["flagged"]) == (3.0, 3.0, False)
    assert (wrong["score"], wrong["flagged"]) == (1.0, False)
    tanh = {t["id"]: t for t in wrong["tests"]}["test_tanh"]
    assert tanh["message"].startswith("d/dx tanh(x) at x = ")
    assert "Did you use 1 - tanh(x) instead of 1 - tanh(x)**2?" in tanh["message"]
    assert (blank["score"], blank["flagged"]) == (0.0, False)
    assert "not written yet" in blank["tests"][0]["message"]
    assert good["isolation"] == "bubblewrap"


@pytest.mark.parametrize(
    ("student", "reason"),
    [
        ("invalid_json", "not valid JSON"),
        ("not_utf8", "not UTF-8"),
        ("no_cells", "empty"),
        ("renamed", "named my_homework.ipynb"),
        ("two_notebooks", "more than one notebook"),
        ("edited_test", "test_tanh was edited"),
        ("deleted_test", "deleted"),
        ("duplicated_cell", "more than once"),
        ("reordered", "order"),
        ("changed_points", "points 2 -> 20"),
        ("forbidden_import", "imports autodiff_lib"),
        ("infinite_loop", "ran longer than 5 s"),
        ("memory_hog", "out of memory"),
        ("too_much_output", "printed more than 20000 characters"),
        ("crash", "killed by SIGKILL"),
        ("forge_channel", "channel"),
    ],
)
def test_submissions_that_cannot_be_graded_normally_are_flagged(batch, student, reason):
    result = report(batch, student)
    assert result["flagged"] is True
    assert reason in result["reason"]
    assert result["score"] <= 1.0  # never more than the honest wrong code earns


@pytest.mark.parametrize(
    "student", ["patch_isclose", "input_transformer", "snoop", "leak_hidden", "fixed_rng"]
)
def test_attacks_earn_no_more_than_the_honest_wrong_code(batch, student):
    assert report(batch, student)["score"] <= report(batch, "wrong")["score"]


def test_unreadable_submissions_stay_on_disk_and_out_of_the_gradebook(batch):
    root = batch["root"]
    kept = root / "submitted" / "invalid_json" / "tiny_value" / "tiny_value.ipynb.unreadable"
    assert kept.read_text() == '{"cells": ['
    assert not (root / "autograded" / "invalid_json" / "tiny_value" / "tiny_value.ipynb").exists()


def test_nbgraders_own_autograde_keeps_the_flags_of_unreadable_submissions(batch, tmp_path):
    """``nbgrader autograde --force`` (the formgrader's button) after the grader's batch."""
    root = tmp_path / "course"
    shutil.copytree(batch["root"], root, symlinks=True)
    shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", "autograde", "tiny_value", "--force"],
        cwd=root, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert "error processing assignment 'tiny_value' for student 'invalid_json'" not in (
        result.stderr
    )
    report = root / "autograded" / "invalid_json" / "tiny_value" / "grader_report.json"
    assert json.loads(report.read_text())["flagged"] is True
    # and the grader's own regrade of submitted/ reads the set-aside notebook again
    regraded = {r["student"]: r for r in autograde(root, "tiny_value", progress=False)}
    assert (
        regraded["invalid_json"]["flagged"]
        and "not valid JSON" in (regraded["invalid_json"]["reason"])
    )


def test_course_files_are_untouched_and_nothing_leaks_to_the_student(batch):
    root = batch["root"]
    for path, before in batch["before"].items():
        assert digest(path) == before, f"{path} changed"
    autograded = (root / "autograded" / "snoop" / "tiny_value" / "tiny_value.ipynb").read_text()
    assert "cannot read" in autograded and "read /" not in autograded.replace("cannot read", "")
    assert "s3cr3t" not in autograded and "overwritten" not in kit.master_path(root).read_text()
    good = root / "submitted" / "good" / "tiny_value" / "tiny_value.ipynb"
    assert "overwritten" not in good.read_text()


def test_no_process_outlives_the_batch(batch):
    processes = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert SLEEP_MARK not in processes


def test_export_flags_what_plain_nbgrader_would_show_as_a_plain_zero(batch):
    from grader.export import export_rows, to_csv

    rows = {
        row["student_id"]: row
        for row in csv.DictReader(io.StringIO(to_csv(export_rows(batch["root"]))))
    }
    assert rows["good"]["score"] == "3.0" and rows["good"]["flagged"] == "False"
    assert rows["wrong"]["score"] == "1.0"
    for student in ("invalid_json", "infinite_loop", "crash"):
        assert rows[student]["flagged"] == "True" and rows[student]["reason"]
    assert float(rows["invalid_json"]["max_score"]) == 4.0  # 3 autograded + 1 written


def test_flagged_submissions_wait_for_manual_review_in_the_gradebook(batch):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{batch['root'] / 'gradebook.db'}") as gradebook:
        flagged = gradebook.find_submission_notebook("tiny_value", "tiny_value", "edited_test")
        honest = gradebook.find_submission_notebook("tiny_value", "tiny_value", "wrong")
        assert all(grade.needs_manual_grade for grade in flagged.grades)
        assert not any(
            grade.needs_manual_grade for grade in honest.grades if grade.cell_type == "code"
        )
        # the formgrader's flag icon and the reason beside the exercise cell
        assert (flagged.flagged, honest.flagged) == (True, False)
        (comment,) = [c for c in flagged.comments if c.name == "ex_value"]
        assert comment.auto_comment.startswith("Flagged by the grader for a human to check: ")
        assert "edited" in comment.auto_comment
        assert not any(c.auto_comment for c in honest.comments if c.name == "ex_value")


def test_long_messages_are_wrapped_in_the_graded_notebook_so_the_hint_is_on_screen(batch):
    graded = nbformat.read(
        batch["root"] / "autograded" / "wrong" / "tiny_value" / "tiny_value.ipynb", as_version=4
    )
    (cell,) = [
        c for c in graded.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_tanh"
    ]
    (output,) = cell.outputs
    lines = "\n".join(output.traceback).splitlines()
    assert len(lines) > 1 and all(len(line) <= 96 for line in lines)
    assert " ".join(lines) == report(batch, "wrong")["tests"][1]["message"]
    assert " ".join(lines).endswith("instead of 1 - tanh(x)**2? (5 of 5 checks failed.)")


def test_feedback_and_autograded_notebooks_hold_no_hidden_test(batch):
    from grader.course import generate_feedback

    root = batch["root"]
    generate_feedback(root, "tiny_value")
    for student in ("wrong", "leak_hidden", "good"):
        html = (root / "feedback" / student / "tiny_value" / "tiny_value.html").read_text()
        notebook = (root / "autograded" / student / "tiny_value" / "tiny_value.ipynb").read_text()
        for line in HIDDEN_LINES:
            assert line not in html and line not in notebook, (student, line)
    wrong_html = (root / "feedback" / "wrong" / "tiny_value" / "tiny_value.html").read_text()
    assert "instead of 1 - tanh(x)**2?" in " ".join(wrong_html.split())  # wrapped lines


def test_grade_json_prints_exactly_one_object(batch, tmp_path):
    notebook = kit.write(
        kit.submission(batch["root"], kit.wrong_tanh(batch["root"])), tmp_path / "tiny_value.ipynb"
    )
    command = [
        sys.executable,
        "-m",
        "grader",
        "--course-dir",
        str(batch["root"]),
        "grade",
        "tiny_value",
        str(notebook),
        "--json",
    ]
    result = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
    assert set(result) == {
        "assignment",
        "score",
        "max_score",
        "manual_pending",
        "flagged",
        "reason",
        "tests",
    }
    assert (result["score"], result["max_score"], result["manual_pending"]) == (1.0, 3.0, 0.0)
    assert [set(t) for t in result["tests"]] == [
        {"id", "score", "max_score", "passed", "message"}
    ] * 2
    batch_student = {t["id"]: t["passed"] for t in report(batch, "wrong")["tests"]}
    assert {t["id"]: t["passed"] for t in result["tests"]} == batch_student


def test_recorders_get_shards_of_at_least_five_students_round_robin():
    from grader.batch import recorder_shards

    assert recorder_shards([f"s{i:02d}" for i in range(9)], workers=4) == [
        [f"s{i:02d}" for i in range(9)]
    ]
    shards = recorder_shards([f"s{i:02d}" for i in range(23, -1, -1)], workers=3)
    assert [len(shard) for shard in shards] == [8, 8, 8]
    assert shards[0][:3] == ["s00", "s03", "s06"]
    assert sorted(sum(shards, [])) == [f"s{i:02d}" for i in range(24)]
    assert recorder_shards([], workers=2) == [[]]


def _gradebook_rows(root: Path) -> dict[str, tuple]:
    from grader.export import export_rows

    return {
        row["student_id"]: (row["score"], row["max_score"], row["flagged"], row["reason"])
        for row in export_rows(root)
    }


def test_recording_shared_by_processes_writes_the_gradebook_one_process_writes(tmp_path):
    """Twelve students, recorded by one nbgrader pass and by two in parallel processes: the same
    reports and the same gradebook, and every student's autograded notebook in place."""
    results = {}
    for workers in (1, 2):
        root = kit.make_course(tmp_path / f"course{workers}")
        incoming = tmp_path / f"incoming{workers}"
        for i in range(12):
            exercise = kit.master_solution(root) if i % 3 else kit.wrong_tanh(root)
            notebook = kit.submission(root, exercise)
            kit.write(notebook, incoming / f"student{i:02d}" / "tiny_value.ipynb")
        reports = autograde(root, "tiny_value", incoming, workers=workers, progress=False)
        assert all((root / "autograded" / r["student"] / "tiny_value").is_dir() for r in reports)
        results[workers] = (
            sorted((r["student"], r["score"], r["flagged"]) for r in reports),
            _gradebook_rows(root),
        )
    one, two = results[1], results[2]
    assert one == two
    assert len(one[1]) == 12 and {row[0] for row in one[1].values()} == {1.0, 3.0}
