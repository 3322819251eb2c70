"""`make lab`, the README's main command, serves JupyterLab on the student's copy of the course."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def _wait_for_status(url: str, server: subprocess.Popen, timeout: float = 90.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"make lab exited early with code {server.returncode}")
        try:
            return _get_json(url)
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"JupyterLab did not answer {url} within {timeout} s")


@pytest.fixture
def lab_server(tmp_path):
    port = _free_port()
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
    server = subprocess.Popen(
        ["make", "-s", "lab", f"WORKSPACE={workspace}", f"LAB_ARGS={lab_args}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield f"http://127.0.0.1:{port}", workspace, server
    finally:
        _stop_process_group(server)


def _stop_process_group(process: subprocess.Popen) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=20)
            return
        except subprocess.TimeoutExpired:
            continue


def test_make_lab_serves_every_course_notebook(lab_server):
    base, workspace, server = lab_server
    status = _wait_for_status(f"{base}/api/status", server)
    assert "started" in status

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
