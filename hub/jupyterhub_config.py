"""JupyterHub for the course on one machine: local Unix accounts, one server per user.

Read by ``jupyterhub -f hub/jupyterhub_config.py`` (``make hub``) after ``python -m hub.site``
(run as root) laid out the site folder: accounts, the nbgrader exchange, the instructor's course
directory and the per-role Jupyter config. Everything is read from ``$AUTODIFF_HUB_SITE/site.json``
so the same file serves ``make hub`` and ``tests/test_hub.py``.

- Login: PAM (the accounts' Unix passwords), only the roster's accounts.
- Spawner: ``LocalProcessSpawner``: each user's own ``jupyterhub-singleuser`` under their own uid,
  started from this checkout's interpreter (the course's packages and nbgrader's extensions are
  installed there, so every user gets them: "system-wide").
- Roles: instructors get nbgrader's Formgrader and Create Assignment; students get Assignments
  and Validate only (lab plugins disabled through ``labconfig/page_config.json`` and the
  formgrader's server extension switched off, in a config folder only students' servers read).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821  (injected by traitlets when JupyterHub loads this file)

SITE = Path(os.environ.get("AUTODIFF_HUB_SITE", "/srv/autodiff-hub")).resolve()
site = json.loads((SITE / "site.json").read_text(encoding="utf-8"))
BIN = Path(site.get("python", sys.executable)).parent

c.JupyterHub.ip = site.get("ip", "127.0.0.1")
c.JupyterHub.port = int(site.get("port", 8000))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(site.get("hub_port", 8081))
c.JupyterHub.db_url = f"sqlite:///{SITE / 'state' / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(SITE / "state" / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(SITE / "state" / "jupyterhub.pid")
c.ConfigurableHTTPProxy.command = [site["proxy"]]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{int(site.get('proxy_api_port', 8001))}"
c.ConfigurableHTTPProxy.pid_file = str(SITE / "state" / "proxy.pid")

c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = set(site["students"]) | set(site["instructors"])
c.Authenticator.admin_users = set(site["instructors"])
c.PAMAuthenticator.open_sessions = False  # no login session bookkeeping for a lab server

c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"
c.Spawner.cmd = [str(BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.Spawner.args = [
    "--LabApp.news_url=None",
    "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
]
if site.get("expose_app"):  # the browser test drives JupyterLab through window.jupyterapp
    c.Spawner.args.append("--LabApp.expose_app_in_browser=True")


def role_config(spawner) -> None:
    """Per-role Jupyter config: the common course settings, then the instructor's or student's."""
    role = "instructor" if spawner.user.name in site["instructors"] else "student"
    folders = [SITE / "etc" / role, SITE / "etc" / "common"]
    spawner.environment["JUPYTER_CONFIG_PATH"] = os.pathsep.join(map(str, folders))
    spawner.environment["PATH"] = os.pathsep.join([str(BIN), "/usr/bin", "/bin"])
    if role == "instructor":
        spawner.notebook_dir = site["course_dir"]


c.Spawner.pre_spawn_hook = role_config
