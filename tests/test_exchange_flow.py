"""nbgrader's exchange end to end with this grader: two student accounts on one machine.

The instructor (this process's user) releases through a local exchange folder; two Unix
accounts fetch, validate and submit with nbgrader's own commands; the instructor collects,
grades with ``python -m grader autograde``, writes feedback and releases it; the students fetch
it. The whole flow runs once (one xdist worker), its observations are checked by the tests.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import kit  # noqa: E402
import nbformat
import pytest

from grader.master import load_master  # noqa: E402

pytestmark = pytest.mark.xdist_group("exchange")
BIN = Path(sys.executable).parent
COURSE_ID = "autodiff-course"
ASSIGNMENT = kit.ASSIGNMENT
NOTEBOOK = f"{ASSIGNMENT}.ipynb"


def run(command: list[str], cwd: Path, user: str | None = None) -> subprocess.CompletedProcess:
    """``command`` in ``cwd``, as ``user`` (``runuser``: that account's own HOME) if given."""
    full = (["runuser", "-u", user, "--"] if user else []) + command
    return subprocess.run(full, cwd=cwd, capture_output=True, text=True, timeout=600)


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, (result.args, result.stdout[-2000:], result.stderr[-3000:])
    return result


def nbgrader(*args: str) -> list[str]:
    return [str(BIN / "nbgrader"), *args]


def grader(*args: str) -> list[str]:
    return [str(BIN / "python"), "-m", "grader", *args]


def make_student(name: str, home: Path, exchange: Path) -> None:
    # a private home, as on a JupyterHub (Debian's default is 0755: readable by every user)
    ok(run(["useradd", "-K", "HOME_MODE=0700", "--create-home", "--home-dir", str(home), name],
           Path("/")))  # fmt: skip
    config = home / ".jupyter" / "nbgrader_config.py"
    config.parent.mkdir(parents=True)
    config.write_text(
        f"c = get_config()\nc.CourseDirectory.course_id = {COURSE_ID!r}\n"
        f"c.Exchange.root = {str(exchange)!r}\n"
    )
    ok(run(["chown", "-R", f"{name}:{name}", str(home)], Path("/")))


def answer(home: Path, name: str, exercise: str) -> None:
    """The student writes ``exercise`` into the fetched notebook (as that student)."""
    path = home / ASSIGNMENT / NOTEBOOK
    notebook = nbformat.read(path, as_version=4)
    kit.cell(notebook, "ex_value").source = exercise
    nbformat.write(notebook, path)
    ok(run(["chown", f"{name}:{name}", str(path)], Path("/")))


@pytest.fixture(scope="module")
def flow():
    if os.geteuid() != 0:
        pytest.fail("the exchange test creates Unix accounts: run it as root (CI does)")
    base = Path(tempfile.mkdtemp(prefix="exchange-flow-"))
    os.chmod(base, 0o755)
    suffix = secrets.token_hex(3)
    students = {"ada": f"ada{suffix}", "bob": f"bob{suffix}"}
    try:
        yield _run_flow(base, students)
    finally:
        for name in students.values():
            run(["userdel", "--remove", name], Path("/"))
        shutil.rmtree(base, ignore_errors=True)


def _run_flow(base: Path, students: dict[str, str]) -> dict:
    course = kit.make_course(base / "course")
    (course / ".course_secret").write_text("exchange-secret\n")
    exchange = base / "exchange"
    exchange.mkdir()
    os.chmod(exchange, 0o777)  # nbgrader's exchange is written by every student
    (course / "nbgrader_config.py").write_text(
        "from grader.nbgrader_setup import configure\n\nc = get_config()\nconfigure(c)\n"
        f"c.CourseDirectory.course_id = {COURSE_ID!r}\nc.Exchange.root = {str(exchange)!r}\n"
    )
    ok(run(nbgrader("release_assignment", ASSIGNMENT), course))
    homes = {key: base / "home" / name for key, name in students.items()}
    validations = {}
    for key, name in students.items():
        make_student(name, homes[key], exchange)
        reached = run([str(BIN / "python"), "-c", "import grader"], homes[key], name)
        assert reached.returncode == 0, (
            "a student account cannot run this interpreter (is it under a folder other users "
            f"cannot enter, like /root? .ci/run opens it): {reached.stderr[-500:]}"
        )
        ok(run(nbgrader("fetch_assignment", ASSIGNMENT), homes[key], name))
    answer(homes["ada"], students["ada"], kit.master_solution(course))
    answer(homes["bob"], students["bob"], kit.wrong_tanh(course))
    for key, name in students.items():
        notebook = str(homes[key] / ASSIGNMENT / NOTEBOOK)
        validations[key] = run(grader("validate", notebook), homes[key], name)
        ok(run(nbgrader("submit", ASSIGNMENT), homes[key], name))
    ok(run(nbgrader("collect", ASSIGNMENT), course))
    graded = ok(run(grader("--course-dir", str(course), "autograde", ASSIGNMENT), course))
    # a late submission sent by e-mail, graded from a folder: feedback release must still work
    emailed = base / "emailed"
    kit.write(kit.submission(course, kit.wrong_tanh(course)), emailed / "carol" / NOTEBOOK)
    ok(run(grader("--course-dir", str(course), "autograde", ASSIGNMENT,
                  "--submissions", str(emailed)), course))  # fmt: skip
    ok(run(grader("--course-dir", str(course), "feedback", ASSIGNMENT), course))
    released = ok(run(nbgrader("release_feedback", ASSIGNMENT), course))
    for key, name in students.items():
        ok(run(nbgrader("fetch_feedback", ASSIGNMENT), homes[key], name))
    inbound = exchange / COURSE_ID / "inbound"
    listing = {key: run(["ls", str(inbound)], Path("/"), name) for key, name in students.items()}
    feedback = sorted(p.name for p in (exchange / COURSE_ID / "feedback").iterdir())
    return {
        "feedback": feedback,
        "listing": listing,
        "inbound": sorted(p.name for p in inbound.iterdir()),
        "course": course,
        "exchange": exchange,
        "students": students,
        "homes": homes,
        "validations": validations,
        "graded": graded.stdout,
        "released": released.stderr,
    }


def gradebook_scores(course: Path) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        assignment = gradebook.find_assignment(ASSIGNMENT)
        return {s.student.id: float(s.score) for s in assignment.submissions}


def fetched_feedback(home: Path) -> str:
    (page,) = (home / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html")
    return page.read_text(encoding="utf-8")


def test_collected_submissions_are_graded_by_the_hardened_grader(flow):
    ada, bob = flow["students"]["ada"], flow["students"]["bob"]
    assert "graded 2 submission(s)" in flow["graded"]
    assert gradebook_scores(flow["course"]) == {ada: 3.0, bob: 1.0, "carol": 1.0}
    report = flow["course"] / "autograded" / bob / ASSIGNMENT / "grader_report.json"
    assert report.is_file()


def test_students_validate_against_the_release_in_the_exchange(flow):
    for key in ("ada", "bob"):
        result = flow["validations"][key]
        assert "no assignment" not in result.stdout, result.stdout
    assert "Ready to submit." in flow["validations"]["ada"].stdout


def test_feedback_is_released_for_exchange_and_folder_submissions_alike(flow):
    assert len(flow["feedback"]) == 3  # ada, bob and the folder-submitted carol


def test_each_student_fetches_their_own_feedback_with_the_teaching_message(flow):
    ada_page = fetched_feedback(flow["homes"]["ada"])
    bob_page = fetched_feedback(flow["homes"]["bob"])
    assert "instead of 1 - tanh(x)**2?" in " ".join(bob_page.split())
    assert "instead of 1 - tanh(x)**2?" not in " ".join(ada_page.split())


def test_no_hidden_test_reaches_a_students_home_or_the_exchange(flow):
    master = load_master(flow["course"] / "solutions" / ASSIGNMENT / NOTEBOOK)
    released = (flow["course"] / "course" / ASSIGNMENT / NOTEBOOK).read_text(encoding="utf-8")
    hidden_lines = {
        line.strip()
        for source in master.hidden_tests.values()
        for line in source.splitlines()
        if len(line.strip()) > 12 and line.strip() not in released  # the visible part is public
    }
    assert len(hidden_lines) >= 5
    places = [*flow["homes"].values(), flow["exchange"]]
    for place in places:
        for path in place.rglob("*"):
            if path.is_file():
                text = path.read_text(encoding="utf-8", errors="replace")
                for line in hidden_lines:
                    assert line not in text, (path, line)


def test_students_cannot_read_each_others_work_or_the_course(flow):
    ada, bob = flow["students"]["ada"], flow["students"]["bob"]
    theirs = flow["homes"]["ada"] / ASSIGNMENT / NOTEBOOK
    assert run(["cat", str(theirs)], Path("/"), bob).returncode != 0
    # nbgrader's inbound takes everyone's submissions but lists them to no student
    assert len(flow["inbound"]) == 2
    assert all(listing.returncode != 0 for listing in flow["listing"].values())
    # ... and names each with a random part, so another student cannot open one by its name
    (adas,) = [name for name in flow["inbound"] if name.startswith(ada)]
    assert len(adas.rsplit("+", 1)[-1]) >= 12
    for private in ("gradebook.db", ".course_secret", f"solutions/{ASSIGNMENT}/{NOTEBOOK}"):
        assert run(["cat", str(flow["course"] / private)], Path("/"), ada).returncode != 0
