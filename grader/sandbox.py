"""Run the grading runner in a fresh, isolated, resource-limited process.

With bubblewrap (``/usr/bin/bwrap``) the runner sees only the system folders, the Python
installation and, when the assignment allows it, ``autodiff_lib/``; read-only, with a private
``/tmp`` as its working directory, no network, its own process tree (everything in it dies
with the run) and no way to see the course (``solutions/``, the gradebook, the secret, other
students). Without bubblewrap it falls back to a plain subprocess in an empty temporary folder
with a scrubbed environment; ``docs/grading.md`` says what that does and does not guarantee.
"""

from __future__ import annotations

import os
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import autodiff_lib

RUNNER = Path(__file__).with_name("runner.py")
SANDBOX_RUNNER = "/opt/grader/runner.py"
STUDENT_HOME = "/home/student"
LIBRARY_DIR = Path(autodiff_lib.__file__).resolve().parent


@dataclass(frozen=True)
class Limits:
    """Resource limits of one grading run."""

    cell_timeout: float = 30.0
    notebook_timeout: float = 300.0
    memory_bytes: int = 2 * 1024**3
    file_bytes: int = 64 * 1024**2
    processes: int = 64
    output_chars: int = 20_000


def bubblewrap_available() -> bool:
    """True when bubblewrap is installed and can create a sandbox here."""
    if os.environ.get("AUTODIFF_GRADER_NO_BWRAP"):
        return False
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return False
    probe = subprocess.run(
        [bwrap, *_bwrap_mounts(()), "--", "/bin/true"], capture_output=True, timeout=30
    )
    return probe.returncode == 0


def _python_dirs() -> list[Path]:
    """The folders the Python interpreter and its packages live in."""
    dirs = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix)}
    dirs.add(Path(sysconfig.get_paths()["stdlib"]).parent.parent)
    return sorted({d.resolve() for d in dirs if d.exists()})


def _masked_paths(forbidden: tuple[str, ...]) -> list[Path]:
    """Installed files of forbidden modules, to hide inside the sandbox."""
    paths = sysconfig.get_paths()
    site_dirs = [Path(p) for p in {paths["purelib"], paths["platlib"]}]
    masked = []
    for name in forbidden:
        parts = name.split(".")
        roots = site_dirs + ([LIBRARY_DIR.parent] if parts[0] == "autodiff_lib" else [])
        for root in roots:
            package = root.joinpath(*parts)
            for candidate in (package, package.with_suffix(".py")):
                if candidate.exists():
                    masked.append(candidate)
    return masked


def _bwrap_mounts(forbidden: tuple[str, ...]) -> list[str]:
    args: list[str] = []
    for system_dir in ("/usr", "/bin", "/lib", "/lib64", "/sbin"):
        if os.path.isdir(system_dir) and not os.path.islink(system_dir):
            args += ["--ro-bind", system_dir, system_dir]
        elif os.path.islink(system_dir):
            args += ["--symlink", os.readlink(system_dir), system_dir]
    # The private /tmp comes before the binds: a checkout or venv under /tmp (as CI clones often
    # are) is then bound on top of it instead of being hidden by it.
    args += ["--size", str(256 * 1024**2), "--perms", "1777", "--tmpfs", "/tmp"]
    visible = list(_python_dirs())
    if "autodiff_lib" not in forbidden:
        visible.append(LIBRARY_DIR)
    made: set[str] = {"/tmp"}  # already there (the tmpfs above), keep its 1777 mode
    for path in visible:
        for parent in reversed(path.parents[:-1]):
            if str(parent) not in made and not str(parent).startswith(("/usr", "/lib")):
                args += ["--perms", "0755", "--dir", str(parent)]
                made.add(str(parent))
        args += ["--ro-bind", str(path), str(path)]
    args += ["--ro-bind", str(RUNNER), SANDBOX_RUNNER]
    for path in _masked_paths(forbidden):
        if path.is_dir():
            args += ["--tmpfs", str(path)]
        else:
            args += ["--ro-bind", "/dev/null", str(path)]
    # The student's code starts in an empty folder of its own, whatever /tmp holds.
    args += ["--perms", "1777", "--tmpfs", STUDENT_HOME]
    args += ["--proc", "/proc", "--dev", "/dev", "--chdir", STUDENT_HOME]
    args += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
    args += ["--unshare-cgroup-try", "--die-with-parent", "--new-session"]
    return args


def sandbox_command(forbidden: tuple[str, ...], isolation: str) -> list[str]:
    """The command line that starts the runner with the given isolation."""
    python = [sys.executable, "-I", "-X", "utf8"]
    if isolation == "subprocess":
        return [*python, str(RUNNER)]
    command = [shutil.which("bwrap") or "bwrap", *_bwrap_mounts(forbidden)]
    if os.geteuid() == 0:  # the runner drops to an unprivileged uid itself
        command += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        command += ["--unshare-user"]
    return [*command, "--", *python, SANDBOX_RUNNER]


def _sandbox_env(home: str) -> dict[str, str]:
    """A scrubbed environment: nothing from the grader's, in particular no secret."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
    }


def _limit_resources(limits: Limits, count_processes: bool) -> None:
    """Applied in the child before exec (inherited by everything the sandbox starts).

    The process limit counts every process of a user, so it is only set when the runner
    drops to a fresh uid of its own (bubblewrap started as root).
    """
    cpu = int(limits.notebook_timeout) + 5
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
    if count_processes:
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


@dataclass
class Sandbox:
    """One running sandbox: the runner's process, whose stdin/stdout are the grader's channel."""

    process: subprocess.Popen
    limits: Limits
    isolation: str
    drop_to_uid: int | None = None

    def limit_reasons(self) -> list[str]:
        """The limits the sandbox's process tree hit (processes, memory), as flag reasons."""
        return []

    def death_reason(self, current: str) -> str:
        """Why the runner's process ended during ``current`` (a signal, a limit, an exit code)."""
        limits = self.limits
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        if code is not None and code > 128:  # bubblewrap reports a signal as 128 + its number
            code = 128 - code
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            if -code == signal.SIGXCPU:
                return f"{current} used more than {limits.notebook_timeout:g} s of CPU time"
            return f"the notebook's process was killed by {name} during {current} (memory?)"
        return f"the notebook's process stopped during {current} (exit code {code})"

    def stop(self) -> None:
        """End the run and everything it started (its session; bubblewrap's pid namespace)."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.process.wait()


def launch(forbidden: tuple[str, ...], limits: Limits, isolation: str, workdir: str) -> Sandbox:
    """Start the runner in a fresh sandbox.

    The process's stdin and stdout are the grader's private channel to the runner; when the
    sandbox starts as root, ``drop_to_uid`` is the fresh uid the runner must switch to.
    """
    drops_privileges = isolation == "bubblewrap" and os.geteuid() == 0
    uid = 100_000 + secrets.randbelow(800_000) if drops_privileges else None
    process = subprocess.Popen(
        sandbox_command(forbidden, isolation),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=workdir,
        env=_sandbox_env(STUDENT_HOME if isolation == "bubblewrap" else workdir),
        start_new_session=True,
        preexec_fn=lambda: _limit_resources(limits, count_processes=drops_privileges),
    )
    return Sandbox(process, limits, isolation, uid)


def choose_isolation(untrusted: bool = True) -> str:
    """``bubblewrap`` when it works on this machine, else ``subprocess``."""
    return "bubblewrap" if bubblewrap_available() else "subprocess"
