"""Run JupyterLab and a real headless Chromium for widget tests (the recipe in measured-facts).

- :func:`jupyter_lab` starts ``jupyter lab`` on a free port with its own ``JUPYTER_*`` folders,
  no token, ``window.jupyterapp`` exposed, in its own process group, and kills that group at
  the end.
- :func:`chromium_page` opens Debian's ``/usr/bin/chromium`` through Playwright (never
  ``playwright install``) with a fresh profile.
- :func:`open_and_run_all` opens a notebook, waits until the kernel is really ready and runs
  every cell; :func:`wait_for_stable_src` waits until an image stops changing.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_server(url: str, server: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(
                f"jupyter lab exited with code {server.returncode}:\n{log.read_text()[-3000:]}"
            )
        try:
            with urllib.request.urlopen(f"{url}/api/status", timeout=2) as response:
                json.load(response)
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"jupyter lab did not answer {url} within {timeout} s")


def stop_process_group(process: subprocess.Popen) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def jupyter_lab(root_dir: Path, state_dir: Path, timeout: float = 120.0) -> Iterator[str]:
    """Serve ``root_dir`` with JupyterLab; yields the base URL; stops the server's group."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    env.pop("MPLBACKEND", None)  # the kernel should use the notebook's inline backend
    env.pop("PYTEST_CURRENT_TEST", None)
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR"):
        env[name] = str(state_dir / name.lower())
    env["JUPYTERLAB_SETTINGS_DIR"] = str(state_dir / "lab-settings")
    env["JUPYTERLAB_WORKSPACES_DIR"] = str(state_dir / "lab-workspaces")
    env["IPYTHONDIR"] = str(state_dir / "ipython")
    log = state_dir / "jupyter-lab.log"
    command = [
        str(Path(sys.executable).with_name("jupyter")),
        "lab",
        "--no-browser",
        f"--port={port}",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.token=",
        "--ServerApp.password=",
        "--ServerApp.disable_check_xsrf=True",
        f"--ServerApp.root_dir={root_dir}",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # CI containers run as root
    with log.open("w") as log_file:
        server = subprocess.Popen(
            command,
            env=env,
            cwd=root_dir,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_server(url, server, log, timeout)
        yield url
    finally:
        stop_process_group(server)


@contextmanager
def chromium_page(playwright: Any, profile_dir: Path) -> Iterator[Any]:
    """A Playwright page in Debian's headless Chromium with a fresh profile."""
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        raise RuntimeError(f"{CHROMIUM} is missing: install Debian's chromium package")
    context = playwright.chromium.launch_persistent_context(
        str(profile_dir),
        executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1400, "height": 1000},
    )
    try:
        yield context.pages[0] if context.pages else context.new_page()
    finally:
        context.close()


def open_and_run_all(page: Any, base_url: str, notebook: str, timeout_ms: int = 120_000) -> None:
    """Open ``notebook`` in JupyterLab, wait for an idle, ready kernel, then run all cells."""
    page.goto(f"{base_url}/lab/tree/{notebook}", timeout=timeout_ms)
    page.wait_for_function("() => window.jupyterapp !== undefined", timeout=timeout_ms)
    page.wait_for_selector(".jp-DebuggerBugButton[aria-disabled='false']", timeout=timeout_ms)
    page.wait_for_selector(".jp-StatusBar-TextItem:has-text('Idle')", timeout=timeout_ms)
    page.evaluate(
        """async () => {
            const app = window.jupyterapp;
            await app.shell.currentWidget.sessionContext.ready;
            await app.commands.execute('notebook:run-all-cells');
        }"""
    )


def wait_for_kernel_idle(page: Any, timeout_ms: int = 120_000) -> None:
    """Wait until the notebook's kernel reports idle (all queued cells done)."""
    page.wait_for_function(
        """() => {
            const widget = window.jupyterapp.shell.currentWidget;
            const kernel = widget && widget.sessionContext.session
                && widget.sessionContext.session.kernel;
            return kernel && kernel.status === 'idle';
        }""",
        timeout=timeout_ms,
    )


def wait_for_stable_src(
    page: Any,
    selector: str,
    different_from: str | None = None,
    settle_s: float = 1.5,
    timeout_s: float = 120.0,
) -> str:
    """The ``src`` of ``selector`` once it differs from ``different_from`` and stays the same
    for ``settle_s`` seconds (so a test never judges an intermediate redraw)."""
    deadline = time.monotonic() + timeout_s
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        src = page.locator(selector).first.get_attribute("src", timeout=5_000)
        if src != last:
            last, since = src, time.monotonic()
        elif src and src != different_from and time.monotonic() - since >= settle_s:
            return src
        time.sleep(0.2)
    raise AssertionError(f"{selector} did not settle on a new image within {timeout_s} s")


def run_cell_and_read_output(page: Any, index: int, timeout_ms: int = 120_000) -> str:
    """Run the notebook cell ``index`` in the browser; return the text of its stream output."""
    page.evaluate(
        """async (index) => {
            const app = window.jupyterapp;
            const panel = app.shell.currentWidget;
            panel.content.activeCellIndex = index;
            await app.commands.execute('notebook:clear-cell-output');
            await app.commands.execute('notebook:run-cell');
        }""",
        index,
    )
    output = page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-OutputArea-output")
    output.first.wait_for(timeout=timeout_ms)
    wait_for_kernel_idle(page, timeout_ms)
    return output.first.inner_text()


def is_local_url(url: str) -> bool:
    """True for ``file:`` URLs and URLs of this machine (127.0.0.1, localhost)."""
    host = urllib.parse.urlsplit(url).hostname
    return url.startswith(("file:", "data:", "blob:", "about:")) or host in (
        "127.0.0.1",
        "localhost",
    )


def local_requests_only(page: Any) -> None:
    """Abort every request the page makes off this machine (CDN scripts fail fast, offline)."""
    page.route(
        "**/*",
        lambda route: route.continue_() if is_local_url(route.request.url) else route.abort(),
    )
