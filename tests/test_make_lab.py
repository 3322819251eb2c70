"""`make lab`, the README's main command, serves JupyterLab on the student's copy of the course."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from pathlib import Path

import pytest
from browser_support import free_port, stop_process_group, wait_for_server

ROOT = Path(__file__).resolve().parent.parent


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


@pytest.fixture
def lab_server(tmp_path):
    port = free_port()
    workspace = tmp_path / "workspace"
    env = dict(os.environ)
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR"):
        env[name] = str(tmp_path / name.lower())
    env["JUPYTERLAB_SETTINGS_DIR"] = str(tmp_path / "lab-settings")
    env["JUPYTERLAB_WORKSPACES_DIR"] = str(tmp_path / "lab-workspaces")
    lab_args = (
        f"--no-browser --port={port} --ServerApp.ip=127.0.0.1 "
        "--ServerApp.token= --ServerApp.password= --ServerApp.disable_check_xsrf=True"
    )
    log = tmp_path / "make-lab.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            ["make", "-s", "lab", f"WORKSPACE={workspace}", f"LAB_ARGS={lab_args}"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield f"http://127.0.0.1:{port}", workspace, server, log
    finally:
        stop_process_group(server)


def test_make_lab_serves_every_course_notebook(lab_server):
    base, workspace, server, log = lab_server
    wait_for_server(base, server, log, timeout=90.0)
    assert "started" in _get_json(f"{base}/api/status")

    released = sorted(p.relative_to(ROOT / "course") for p in (ROOT / "course").glob("*/*.ipynb"))
    assert released, "course/ holds no released notebooks"
    for notebook in released:
        folder = _get_json(f"{base}/api/contents/{notebook.parent.as_posix()}")
        listed = {item["name"] for item in folder["content"]}
        assert notebook.name in listed
    # the server runs on the student's copy, never on course/ itself
    assert (workspace / released[0]).is_file()
    lab_page = urllib.request.urlopen(f"{base}/lab", timeout=10).read().decode()
    assert "JupyterLab" in lab_page
