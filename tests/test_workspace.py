"""A student's workspace is filled from course/ without ever overwriting their work."""

from __future__ import annotations

import pytest

from grader.workspace import sync_workspace


def _release(tmp_path):
    course = tmp_path / "course"
    (course / "01_demo").mkdir(parents=True)
    (course / "01_demo" / "01_demo.ipynb").write_text('{"released": 1}')
    (course / "01_demo" / ".ipynb_checkpoints").mkdir()
    (course / "01_demo" / ".ipynb_checkpoints" / "x.ipynb").write_text("{}")
    return course


def test_first_sync_copies_the_release(tmp_path):
    course = _release(tmp_path)
    copied = sync_workspace(tmp_path / "work", course)
    assert [p.relative_to(tmp_path / "work").as_posix() for p in copied] == [
        "01_demo/01_demo.ipynb"
    ]


def test_sync_never_overwrites_a_students_notebook(tmp_path):
    course = _release(tmp_path)
    work = tmp_path / "work"
    sync_workspace(work, course)
    (work / "01_demo" / "01_demo.ipynb").write_text('{"my answers": 42}')
    (course / "02_new").mkdir()
    (course / "02_new" / "02_new.ipynb").write_text('{"released": 2}')

    copied = sync_workspace(work, course)

    assert (work / "01_demo" / "01_demo.ipynb").read_text() == '{"my answers": 42}'
    assert [p.name for p in copied] == ["02_new.ipynb"]


def test_missing_release_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="grader release"):
        sync_workspace(tmp_path / "work", tmp_path / "nowhere")
