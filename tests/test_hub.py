"""The course on a local JupyterHub, driven in headless Chromium as a student and an instructor.

``python -m hub.site`` (as root) creates a student and an instructor account, the exchange and
the course directory holding lesson 05, and releases 05; JupyterHub (PAM login, one
``LocalProcessSpawner`` server per user, configurable-http-proxy from npm) serves it on
127.0.0.1. The student logs in, fetches 05 in nbgrader's Assignments panel, writes the value
engine into the exercise cell, validates and submits; the instructor logs in, collects and
autogrades through the formgrader and opens it. The hub, the proxy and the users' servers stop
with the hub's process group; the accounts are removed.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from browser_support import ARTIFACTS, ROOT, chromium_page, free_port, stop_process_group
from playwright.sync_api import sync_playwright

pytestmark = pytest.mark.xdist_group("hub")
ASSIGNMENT = "05_value_engine"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
CONFIG = ROOT / "hub" / "jupyterhub_config.py"
PROXY = ROOT / "build" / "hub" / "node_modules" / ".bin" / "configurable-http-proxy"
PASSWORD = secrets.token_urlsafe(12)
MS = 1000


def solution_source() -> str:
    master = nbformat.read(ROOT / "solutions" / ASSIGNMENT / NOTEBOOK, as_version=4)
    (cell,) = [
        c for c in master.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "value_impl"
    ]
    return cell.source


def wait_for_hub(url: str, hub: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if hub.poll() is not None:
            raise RuntimeError(f"jupyterhub exited {hub.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}/hub/api", timeout=2) as response:
                json.load(response)
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"jupyterhub did not answer within {timeout} s:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="module")
def hub():
    if os.geteuid() != 0:
        pytest.fail("the hub test creates Unix accounts and spawns as them: run it as root (CI)")
    if not PROXY.exists():
        pytest.fail(f"{PROXY} is missing: `make test` installs it from npm (make build/hub/...)")
    base = Path(tempfile.mkdtemp(prefix="hub-"))
    base.chmod(0o755)
    site = base / "site"
    suffix = secrets.token_hex(3)
    student, instructor = f"stu{suffix}", f"ins{suffix}"
    port, hub_port, api_port = free_port(), free_port(), free_port()
    python = str(Path(sys.executable))
    setup = [python, "-m", "hub.site", str(site), "--student", student, "--instructor",
             instructor, "--password", PASSWORD, "--assignment", ASSIGNMENT, "--proxy",
             str(PROXY), "--port", str(port), "--hub-port", str(hub_port),
             "--proxy-api-port", str(api_port), "--expose-app"]  # fmt: skip
    log = base / "jupyterhub.log"
    process = None
    try:
        done = subprocess.run(setup, cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "PYTEST"))}
        env["AUTODIFF_HUB_SITE"] = str(site)
        with log.open("w") as out:
            process = subprocess.Popen(
                [str(Path(python).with_name("jupyterhub")), "-f", str(CONFIG)],
                cwd=site / "state", env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        wait_for_hub(url, process, log)
        yield {
            "url": url, "student": student, "instructor": instructor, "site": site, "log": log,
            "stop": lambda: stop_hub(process, (student, instructor)),
        }  # fmt: skip
    finally:
        if process is not None:
            leftovers = stop_hub(process, (student, instructor))
            for pid in leftovers:  # only if the hub failed to stop its users' servers
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        if site.exists():
            subprocess.run([python, "-m", "hub.site", str(site), "--remove"], cwd=ROOT)
        shutil.rmtree(base, ignore_errors=True)


def processes_of(users: tuple[str, ...]) -> list[int]:
    found = []
    for name in users:
        listed = subprocess.run(["pgrep", "-u", name], capture_output=True, text=True)
        found += [int(pid) for pid in listed.stdout.split()]
    return found


def stop_hub(process: subprocess.Popen, users: tuple[str, ...], timeout: float = 30) -> list[int]:
    """SIGTERM to the hub (it stops every user's server and the proxy, its cleanup_* defaults);
    returns the users' processes still alive after ``timeout`` seconds."""
    if process.poll() is None:
        stop_process_group(process)
    deadline = time.monotonic() + timeout
    while processes_of(users) and time.monotonic() < deadline:
        time.sleep(0.5)
    return processes_of(users)


def login(page, url: str, name: str) -> str:
    page.goto(f"{url}/hub/login", timeout=60 * MS)
    page.fill("#username_input", name)
    page.fill("#password_input", PASSWORD)
    page.click("#login_submit")
    page.wait_for_url(f"**/user/{name}/lab**", timeout=150 * MS)
    page.wait_for_function("() => window.jupyterapp !== undefined", timeout=120 * MS)
    page.wait_for_function(
        "() => window.jupyterapp.commands.hasCommand('filebrowser:open-path')", timeout=120 * MS
    )
    return f"{url}/user/{name}"


def commands(page) -> set[str]:
    return set(page.evaluate("() => window.jupyterapp.commands.listCommands()"))


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"hub-{name}.png"))


def api(page, method: str, path: str) -> dict:
    """A call to the user's server API with its XSRF token (as JupyterLab makes them)."""
    return page.evaluate(
        """async ([method, path]) => {
            const xsrf = document.cookie.split('; ').find(c => c.startsWith('_xsrf='));
            const headers = xsrf ? {'X-XSRFToken': decodeURIComponent(xsrf.slice(6))} : {};
            const base = window.jupyterapp.serviceManager.serverSettings.baseUrl;
            const init = {method, headers, credentials: 'same-origin'};
            const response = await fetch(base + path, init);
            return {status: response.status, text: await response.text()};
        }""",
        [method, path],
    )


def student_session(page, url: str, name: str, home: Path) -> dict:
    login(page, url, name)
    seen = {"commands": commands(page)}
    page.evaluate("() => window.jupyterapp.commands.execute('nbgrader:open-assignment-list')")
    fetch = page.locator("#released_assignments_list button:has-text('Fetch')")
    fetch.first.wait_for(timeout=60 * MS)
    shot(page, "student-assignments")
    fetch.first.click()
    page.locator("#fetched_assignments_list button:has-text('Submit')").first.wait_for(
        timeout=60 * MS
    )
    # edit the exercise cell: the reference value engine, as a student who solved it
    page.evaluate(
        "(path) => window.jupyterapp.commands.execute('docmanager:open', {path})",
        f"{ASSIGNMENT}/{NOTEBOOK}",
    )
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60 * MS)
    page.evaluate(
        """async (source) => {
            const panel = window.jupyterapp.shell.currentWidget;
            await panel.context.ready;
            const cells = panel.content.model.cells;
            for (let i = 0; i < cells.length; i++) {
                const cell = cells.get(i);
                const meta = cell.getMetadata('nbgrader');
                if (meta && meta.grade_id === 'value_impl') { cell.sharedModel.setSource(source); }
            }
            await panel.context.save();
        }""",
        solution_source(),
    )
    shot(page, "student-edited")
    # nbgrader's Validate button in the notebook's toolbar (saves, then validates on the server)
    validate = page.locator(".jp-Toolbar:visible").get_by_text("Validate", exact=True)
    validate.first.click()
    dialog = page.locator(".jp-Dialog-content")
    dialog.first.wait_for(timeout=150 * MS)
    seen["validation"] = dialog.first.inner_text()
    shot(page, "student-validated")
    page.keyboard.press("Escape")
    page.evaluate("() => window.jupyterapp.commands.execute('nbgrader:open-assignment-list')")
    page.locator("#fetched_assignments_list button:has-text('Submit')").first.click()
    page.locator("#submitted_assignments_list button:has-text('Fetch Feedback')").wait_for(
        timeout=60 * MS
    )
    seen["submitted"] = page.locator("#submitted_assignments_list").inner_text()
    shot(page, "student-submitted")
    seen["formgrader_api"] = api(page, "GET", "formgrader/api/assignments")["status"]
    return seen


def instructor_session(page, url: str, name: str, student: str) -> dict:
    server = login(page, url, name)
    seen = {"commands": commands(page)}
    collected = api(page, "POST", f"formgrader/api/assignment/{ASSIGNMENT}/collect")
    seen["collect"] = collected
    autograde = f"formgrader/api/submission/{ASSIGNMENT}/{student}/autograde"
    seen["autograde"] = api(page, "POST", autograde)
    submissions = json.loads(api(page, "GET", f"formgrader/api/submissions/{ASSIGNMENT}")["text"])
    (mine,) = [s for s in submissions if s["student"] == student]
    seen["score"], seen["max_code_score"] = mine["code_score"], mine["max_code_score"]
    page.goto(f"{server}/formgrader/manage_submissions/{ASSIGNMENT}", timeout=60 * MS)
    page.locator(f"text={student}").first.wait_for(timeout=60 * MS)
    seen["formgrader"] = page.locator("body").inner_text()
    shot(page, "instructor-formgrader")
    return seen


def test_student_and_instructor_on_the_hub(hub):
    student, instructor = hub["student"], hub["instructor"]
    home = hub["site"] / "home" / student
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profiles:
        with chromium_page(playwright, Path(profiles) / "student") as page:
            seen = student_session(page, hub["url"], student, home)
        with chromium_page(playwright, Path(profiles) / "instructor") as page:
            teacher = instructor_session(page, hub["url"], instructor, student)
    # a clean stop: the hub, its proxy and both users' servers end, the port is free again
    assert hub["stop"]() == [], "user servers outlived the hub"
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{hub['url']}/hub/api", timeout=3)
    # the student's lab has Assignments and Validate, not the Formgrader nor Create Assignment
    assert "nbgrader:open-assignment-list" in seen["commands"]
    assert "nbgrader:open-formgrader" not in seen["commands"]
    assert "nbgrader:open-create-assignment" not in seen["commands"]
    assert seen["formgrader_api"] == 404
    assert "Validating" not in seen["validation"]
    # the value engine passes every visible test; only the two written answers are still open
    validation = seen["validation"]
    assert "Validation Results" in validation, validation
    assert validation.count("You did not provide a response") == 2, validation
    assert "Traceback" not in validation and "Error" not in validation, validation
    assert ASSIGNMENT in seen["submitted"] and "UTC" in seen["submitted"], seen["submitted"]
    assert "nbgrader:open-formgrader" in teacher["commands"]
    assert teacher["collect"]["status"] == 200, teacher["collect"]
    assert json.loads(teacher["collect"]["text"])["success"], teacher["collect"]
    assert teacher["autograde"]["status"] == 200, teacher["autograde"]
    assert json.loads(teacher["autograde"]["text"])["success"], teacher["autograde"]["text"][-3000:]
    # the formgrader lists the student's submission with the autograded score of the code tests
    assert student in teacher["formgrader"], teacher["formgrader"]
    assert teacher["score"] == teacher["max_code_score"] > 0, teacher
