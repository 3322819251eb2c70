"""The gradebook where the instructor puts it: ``$AUTODIFF_GRADEBOOK_URL`` or ``gradebook.db``.

Several graders on one JupyterHub share a database server (nbgrader's gradebook is
SQLAlchemy); every part of the grader that opens the gradebook (release, autograde, the flag
in the formgrader, export, validate's release check) reads the one URL ``grader.paths`` gives.
Shown here with an SQLite file outside the course folder: nothing may land in
``<course>/gradebook.db``.
"""

from __future__ import annotations

import subprocess
import sys

import kit
from nbgrader.api import Gradebook

from grader.batch import autograde
from grader.course import assignment_known
from grader.export import export_rows
from grader.paths import GRADEBOOK_URL_VARIABLE, REPOSITORY_ROOT, gradebook_url


def test_a_configured_gradebook_url_is_used_everywhere_and_gradebook_db_never_made(
    tmp_path, monkeypatch
):
    database = tmp_path / "server" / "shared-gradebook.sqlite"
    database.parent.mkdir()
    url = f"sqlite:///{database}"
    monkeypatch.setenv(GRADEBOOK_URL_VARIABLE, url)
    root = kit.make_course(tmp_path / "course")  # release records the cells in the gradebook
    assert gradebook_url(root) == url
    assert database.exists() and assignment_known(root, kit.ASSIGNMENT)

    incoming = tmp_path / "incoming"
    for student, exercise in (("ada", kit.master_solution(root)), ("bob", kit.wrong_tanh(root))):
        kit.write(kit.submission(root, exercise), incoming / student / "tiny_value.ipynb")
    reports = {r["student"]: r for r in autograde(root, kit.ASSIGNMENT, incoming, progress=False)}
    assert reports["ada"]["score"] == reports["ada"]["max_score"] > reports["bob"]["score"]

    with Gradebook(url) as gradebook:  # nbgrader's own records, in the configured database
        scores = {
            s.student.id: float(s.score)
            for s in gradebook.find_assignment(kit.ASSIGNMENT).submissions
        }
    assert scores == {"ada": reports["ada"]["score"], "bob": reports["bob"]["score"]}
    assert {row["student_id"] for row in export_rows(root)} == {"ada", "bob"}
    assert not (root / "gradebook.db").exists()

    # nbgrader's own command line reads the same URL through nbgrader_config.py
    (root / "nbgrader_config.py").write_text((REPOSITORY_ROOT / "nbgrader_config.py").read_text())
    listed = subprocess.run(
        [sys.executable, "-m", "nbgrader", "db", "student", "list"],
        cwd=root, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "ada" in listed.stdout + listed.stderr and "bob" in listed.stdout + listed.stderr
    assert not (root / "gradebook.db").exists()
