"""Lay out a one-machine JupyterHub course (run as root): ``python -m hub.site SITE``.

Creates the roster's Unix accounts (private homes, the given password), the nbgrader exchange,
the instructor's course directory holding the lessons' masters and releases, the per-role
Jupyter config read by ``hub/jupyterhub_config.py``, and releases the chosen assignments to the
exchange as the instructor. ``--remove`` deletes the accounts again (the test's clean stop).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COURSE_ID = "autodiff-course"
# nbgrader 0.9's lab plugins that only instructors see (students keep Assignments and Validate)
INSTRUCTOR_PLUGINS = [
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
]
INSTRUCTOR_SERVER_EXTENSIONS = [
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.course_list",
]


def run(command: list[str], user: str | None = None, cwd: Path | None = None) -> None:
    full = (["runuser", "-u", user, "--"] if user else []) + command
    result = subprocess.run(full, cwd=cwd, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"{full} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")


def add_account(name: str, home: Path, password: str) -> None:
    run(["useradd", "-K", "HOME_MODE=0700", "--create-home", "--home-dir", str(home), name])
    subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o644)


def role_configs(site: Path, exchange: Path, course_dir: Path) -> None:
    etc = site / "etc"
    write(
        etc / "common" / "nbgrader_config.py",
        f"c = get_config()\nc.CourseDirectory.course_id = {COURSE_ID!r}\n"
        f"c.Exchange.root = {str(exchange)!r}\n",
    )
    write(
        etc / "student" / "labconfig" / "page_config.json",
        json.dumps({"disabledExtensions": {p: True for p in INSTRUCTOR_PLUGINS}}, indent=2),
    )
    write(
        etc / "student" / "jupyter_server_config.json",
        json.dumps(
            {
                "ServerApp": {
                    "jpserver_extensions": dict.fromkeys(INSTRUCTOR_SERVER_EXTENSIONS, False)
                }
            },
            indent=2,
        ),
    )
    write(
        etc / "instructor" / "nbgrader_config.py",
        "from grader.nbgrader_setup import configure\n\nc = get_config()\nconfigure(c)\n"
        f"c.CourseDirectory.root = {str(course_dir)!r}\n"
        f"c.CourseDirectory.course_id = {COURSE_ID!r}\nc.Exchange.root = {str(exchange)!r}\n",
    )
    for folder in (etc, *etc.rglob("*")):
        if folder.is_dir():
            folder.chmod(0o755)


def install_course(course_dir: Path, assignments: list[str], instructor: str) -> None:
    """The masters and the student releases of ``assignments`` in the instructor's course dir."""
    from grader.course import generate_assignment
    from grader.paths import SOURCE_DIRECTORY

    for assignment in assignments:
        shutil.copytree(
            ROOT / SOURCE_DIRECTORY / assignment, course_dir / SOURCE_DIRECTORY / assignment
        )
        generate_assignment(course_dir, assignment)  # the release and the gradebook's cells
    write(
        course_dir / "nbgrader_config.py",
        "from grader.nbgrader_setup import configure\n\nc = get_config()\nconfigure(c)\n",
    )
    run(["chown", "-R", f"{instructor}:{instructor}", str(course_dir)])
    course_dir.chmod(0o700)


def create(site: Path, args: argparse.Namespace) -> dict:
    if os.geteuid() != 0:
        raise SystemExit("hub.site creates Unix accounts: run it as root")
    site.mkdir(parents=True, exist_ok=True)
    site.chmod(0o755)
    (site / "state").mkdir(mode=0o700, exist_ok=True)
    exchange = site / "exchange"
    exchange.mkdir(exist_ok=True)
    exchange.chmod(0o777)  # nbgrader's exchange: every student writes its inbound
    homes = site / "home"
    homes.mkdir(exist_ok=True)
    homes.chmod(0o755)
    instructor = args.instructor[0]
    course_dir = homes / instructor / "course"
    python = str(Path(sys.executable))
    config = {
        "python": python,
        "proxy": str(Path(args.proxy).resolve()),
        "ip": "127.0.0.1",
        "port": args.port,
        "hub_port": args.hub_port,
        "proxy_api_port": args.proxy_api_port,
        "students": args.student,
        "instructors": args.instructor,
        "course_dir": str(course_dir),
        "exchange": str(exchange),
        "assignments": args.assignment,
        "expose_app": args.expose_app,
    }
    write(site / "site.json", json.dumps(config, indent=2))  # first: --remove finds the accounts
    for name in [*args.instructor, *args.student]:
        add_account(name, homes / name, args.password)
    install_course(course_dir, args.assignment, instructor)
    role_configs(site, exchange, course_dir)
    search = os.pathsep.join(str(site / "etc" / role) for role in ("instructor", "common"))
    for assignment in args.assignment:
        nbgrader = str(Path(python).with_name("nbgrader"))
        release = ["env", f"JUPYTER_CONFIG_PATH={search}", nbgrader, "release_assignment"]
        run([*release, assignment], instructor, course_dir)
    return config


def remove(site: Path) -> None:
    if not (site / "site.json").exists():
        return
    config = json.loads((site / "site.json").read_text(encoding="utf-8"))
    for name in [*config["students"], *config["instructors"]]:
        subprocess.run(["userdel", "--remove", name], capture_output=True)
    shutil.rmtree(site, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m hub.site", description=__doc__)
    parser.add_argument("site", type=Path, help="folder for the hub's state, exchange and homes")
    parser.add_argument("--student", action="append", default=None, help="student account")
    parser.add_argument("--instructor", action="append", default=None, help="instructor account")
    parser.add_argument("--password", default="autodiff", help="password of every account")
    parser.add_argument("--assignment", action="append", default=None, help="released lesson")
    parser.add_argument(
        "--proxy", default=str(ROOT / "build/hub/node_modules/.bin/configurable-http-proxy")
    )
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--hub-port", type=int, default=8081)
    parser.add_argument("--proxy-api-port", type=int, default=8001)
    parser.add_argument("--expose-app", action="store_true", help="window.jupyterapp (tests)")
    parser.add_argument("--remove", action="store_true", help="delete the accounts and the site")
    args = parser.parse_args(argv)
    site = args.site.resolve()
    if args.remove:
        remove(site)
        return
    args.student = args.student or ["student1", "student2"]
    args.instructor = args.instructor or ["instructor"]
    args.assignment = args.assignment or ["05_value_engine"]
    print(json.dumps(create(site, args), indent=2))


if __name__ == "__main__":
    main()
