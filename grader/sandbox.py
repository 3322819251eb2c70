"""Run the grading runner in a fresh, isolated, resource-limited process.

With bubblewrap (``/usr/bin/bwrap``) the runner sees only the system folders, the Python
installation (without any other interpreter's site-packages, without the files of forbidden
modules and their bytecode caches) and, when the assignment allows it, ``autodiff_lib/``;
read-only, with size-limited private ``/tmp``, home and ``/dev/shm``, no network, its own
process tree (everything in it dies with the run), a seccomp filter (``grader.seccomp``) and no
way to see the course (``solutions/``, the gradebook, the secret, other students). Memory and
process count hold for the whole tree: a cgroup v2 of its own where the machine allows it
(``grader.cgroup``), otherwise per-process limits plus a watch from outside
(``grader.treewatch``).

Without bubblewrap, grading untrusted notebooks refuses to start (``IsolationUnavailable``)
unless the instructor allows it; it is then a plain subprocess in an empty temporary folder
with a scrubbed environment, and ``docs/grading.md`` says what that does and does not guarantee.
"""

from __future__ import annotations

import functools
import importlib.machinery
import importlib.util
import os
import resource
import secrets
import shutil
import signal
import site
import subprocess
import sys
import sysconfig
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import autodiff_lib
from grader import cgroup, seccomp, treewatch

RUNNER = Path(__file__).with_name("runner.py")
SANDBOX_RUNNER = "/opt/grader/runner.py"
STUDENT_HOME = "/home/student"
LIBRARY_DIR = Path(autodiff_lib.__file__).resolve().parent
ALLOW_UNSANDBOXED = "AUTODIFF_GRADER_ALLOW_UNSANDBOXED"
INSTALL_HINT = (
    "install it (`sudo apt-get install bubblewrap`), or pass --allow-unsandboxed "
    f"(sets {ALLOW_UNSANDBOXED}=1) to grade without isolation: the notebooks can then read "
    "and change every file you can, the course secret, gradebook and masters included"
)


class IsolationUnavailable(RuntimeError):
    """Untrusted notebooks would run without bubblewrap, and the instructor did not allow it."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one grading run."""

    cell_timeout: float = 30.0
    notebook_timeout: float = 300.0
    memory_bytes: int = 2 * 1024**3
    file_bytes: int = 64 * 1024**2
    processes: int = 64
    output_chars: int = 20_000
    scratch_bytes: int = 256 * 1024**2  # each of /tmp, the home folder and /dev/shm


# --- what the sandbox sees ---------------------------------------------------------------------


def _python_dirs() -> list[Path]:
    """The folders the Python interpreter and its packages live in."""
    dirs = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix)}
    dirs.add(Path(sysconfig.get_paths()["stdlib"]).parent.parent)
    return sorted({d.resolve() for d in dirs if d.exists()})


def _site_dirs() -> set[Path]:
    """The site-packages this interpreter imports from (the venv's: what the course installed)."""
    paths = sysconfig.get_paths()
    own = {paths["purelib"], paths["platlib"], *site.getsitepackages()}
    return {Path(p).resolve() for p in own}


def _foreign_site_dirs() -> list[Path]:
    """Site-packages of other interpreters inside the mounted folders (the base of the venv,
    Debian's ``dist-packages``): a ``sys.path`` addition would reach whatever is installed there,
    forbidden packages included, so they are hidden whole."""
    roots = {*_python_dirs(), Path("/usr"), Path("/usr/local")}
    patterns = (
        "lib*/python3*/site-packages",
        "lib*/python3*/dist-packages",
        "lib/python3/dist-packages",
    )
    found = {p.resolve() for root in roots for pattern in patterns for p in root.glob(pattern)}
    own = _site_dirs()
    return sorted(
        p
        for p in found
        if p.is_dir() and p not in own and not any(o.is_relative_to(p) for o in own)
    )


def module_locations(name: str) -> list[Path]:
    """The files or folders ``import name`` would load, found by importlib without running any.

    The top level is looked up with ``importlib.util.find_spec`` (every finder, the editable
    install's included); submodules with ``PathFinder`` inside their parent's folders, so a
    forbidden ``torch.x`` does not import torch. Empty when nothing by that name is installed.
    """
    parts = name.split(".")
    try:
        spec = importlib.util.find_spec(parts[0])
    except (ImportError, ValueError):
        return []
    for depth in range(2, len(parts) + 1):
        if spec is None or not spec.submodule_search_locations:
            return []
        search = list(spec.submodule_search_locations)
        spec = importlib.machinery.PathFinder.find_spec(".".join(parts[:depth]), search)
    if spec is None:
        return []
    if spec.submodule_search_locations:
        return [Path(p).resolve() for p in spec.submodule_search_locations]
    return [Path(spec.origin).resolve()] if spec.has_location and spec.origin else []


def _with_bytecode(module_file: Path) -> list[Path]:
    """A module's file and every bytecode cache of it (``SourcelessFileLoader`` loads those)."""
    stem = module_file.name.split(".")[0]
    caches = sorted(module_file.parent.glob(f"__pycache__/{stem}.*.pyc"))
    legacy = module_file.parent / f"{stem}.pyc"
    return [module_file, *caches, *([legacy] if legacy.exists() else [])]


def _masked_paths(forbidden: tuple[str, ...], visible: list[Path]) -> list[Path]:
    """Files and folders of forbidden modules inside the mounted folders, to hide."""
    masked = []
    for name in forbidden:
        for location in module_locations(name):
            if any(location.is_relative_to(v) for v in visible):
                masked += [location] if location.is_dir() else _with_bytecode(location)
    return masked


def _system_mounts() -> list[str]:
    args: list[str] = []
    for system_dir in ("/usr", "/bin", "/lib", "/lib64", "/sbin"):
        if os.path.isdir(system_dir) and not os.path.islink(system_dir):
            args += ["--ro-bind", system_dir, system_dir]
        elif os.path.islink(system_dir):
            args += ["--symlink", os.readlink(system_dir), system_dir]
    return args


def _bwrap_mounts(forbidden: tuple[str, ...], limits: Limits | None = None) -> list[str]:
    scratch = str((limits or Limits()).scratch_bytes)
    args = _system_mounts()
    # The private /tmp comes before the binds: a checkout or venv under /tmp (as CI clones often
    # are) is then bound on top of it instead of being hidden by it.
    args += ["--size", scratch, "--perms", "1777", "--tmpfs", "/tmp"]
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
    for hidden in _foreign_site_dirs():
        args += ["--perms", "0555", "--tmpfs", str(hidden)]
    for path in _masked_paths(forbidden, visible):
        if path.is_dir():
            args += ["--perms", "0555", "--tmpfs", str(path)]
        else:
            args += ["--ro-bind", "/dev/null", str(path)]
    # The student's code starts in an empty folder of its own, whatever /tmp holds.
    args += ["--size", scratch, "--perms", "1777", "--tmpfs", STUDENT_HOME]
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += ["--size", scratch, "--perms", "1777", "--tmpfs", "/dev/shm"]
    args += ["--chdir", STUDENT_HOME]
    args += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
    args += ["--unshare-cgroup-try", "--die-with-parent", "--new-session"]
    return args


# --- which isolation -------------------------------------------------------------------------


def bubblewrap_problem() -> str | None:
    """Why bubblewrap (with the seccomp filter) cannot create a sandbox here; None when it can."""
    if os.environ.get("AUTODIFF_GRADER_NO_BWRAP"):
        return "AUTODIFF_GRADER_NO_BWRAP is set"
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed"
    return _probe_bubblewrap(bwrap)


@functools.cache
def _probe_bubblewrap(bwrap: str) -> str | None:
    """One real sandbox start per bwrap program and process (a probe costs about 50 ms)."""
    try:
        filter_fd = seccomp.program_fd()
    except seccomp.SeccompUnavailable as error:
        return str(error)
    try:
        command = [bwrap, *_bwrap_mounts(()), "--seccomp", str(filter_fd), "--", "/bin/true"]
        probe = subprocess.run(command, capture_output=True, timeout=30, pass_fds=(filter_fd,))
    finally:
        os.close(filter_fd)
    if probe.returncode != 0:
        error = probe.stderr.decode(errors="replace")[:300]
        return f"bubblewrap cannot create a sandbox here: {error}"
    return None


def bubblewrap_available() -> bool:
    """True when bubblewrap is installed and can create a sandbox here."""
    return bubblewrap_problem() is None


def choose_isolation(untrusted: bool = True) -> str:
    """``bubblewrap`` when it works here; otherwise ``subprocess``, on conditions.

    Untrusted notebooks (grading) without bubblewrap raise ``IsolationUnavailable`` unless
    ``$AUTODIFF_GRADER_ALLOW_UNSANDBOXED=1`` (``--allow-unsandboxed``), and then every call
    warns. Students validating their own notebook (``untrusted=False``) fall back quietly.
    """
    problem = bubblewrap_problem()
    if problem is None:
        return "bubblewrap"
    if not untrusted:
        return "subprocess"
    if os.environ.get(ALLOW_UNSANDBOXED) != "1":
        raise IsolationUnavailable(
            f"refusing to grade without a sandbox: {problem}; {INSTALL_HINT}"
        )
    warnings.warn(
        f"grading WITHOUT a sandbox ({problem}): submissions can read and change the course "
        f"folder, its secret, gradebook and masters",
        RuntimeWarning,
        stacklevel=2,
    )
    return "subprocess"


# --- one run ---------------------------------------------------------------------------------


def sandbox_command(
    forbidden: tuple[str, ...],
    isolation: str,
    limits: Limits | None = None,
    filter_fd: int | None = None,
) -> list[str]:
    """The command line that starts the runner with the given isolation."""
    python = [sys.executable, "-I", "-X", "utf8"]
    if isolation == "subprocess":
        return [*python, str(RUNNER)]
    command = [shutil.which("bwrap") or "bwrap", *_bwrap_mounts(forbidden, limits)]
    if filter_fd is not None:
        command += ["--seccomp", str(filter_fd)]
    if os.geteuid() == 0:  # the runner drops to an unprivileged uid itself
        return [
            *command,
            "--cap-add",
            "CAP_SETUID",
            "--cap-add",
            "CAP_SETGID",
            "--",
            *python,
            SANDBOX_RUNNER,
        ]
    # In its own user namespace the process limit counts only the sandbox's processes (Linux 5.14+),
    # bubblewrap's own one among them.
    processes = (limits or Limits()).processes + 1
    nproc = [prlimit, f"--nproc={processes}", "--"] if (prlimit := shutil.which("prlimit")) else []
    return [*command, "--unshare-user", "--", *nproc, *python, SANDBOX_RUNNER]


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

    The process limit counts every process of a user, so it is only set here when the runner
    drops to a fresh uid of its own (bubblewrap started as root); an ordinary user's sandbox
    sets it inside its user namespace (``sandbox_command``).
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
    """One running sandbox: the runner's process, whose stdin/stdout are the grader's channel.

    Its tree's limits are kept by ``run_cgroup`` (the kernel) or, without one, by ``watch``.
    """

    process: subprocess.Popen
    limits: Limits
    isolation: str
    drop_to_uid: int | None = None
    run_cgroup: cgroup.RunCgroup | None = None
    watch: treewatch.TreeWatch | None = None
    _hit: list[str] = field(default_factory=list)
    _stopped: bool = False

    def _limits_hit(self) -> list[str]:
        """``memory`` and/or ``processes``, as the kernel or the watch saw them (kept on stop)."""
        if self._stopped:
            return self._hit
        if self.run_cgroup is not None:
            kernel = {
                "memory": self.run_cgroup.memory_kills(),
                "processes": self.run_cgroup.refused_forks(),
            }
            hit = [name for name, count in kernel.items() if count]
        else:
            hit = list(self.watch.over) if self.watch is not None else []
        self._hit = list(dict.fromkeys([*self._hit, *hit]))
        return self._hit

    def limit_reasons(self) -> list[str]:
        """The limits the sandbox's process tree hit (processes, memory), as flag reasons."""
        memory = f"{self.limits.memory_bytes / 1024**3:g} GiB"
        texts = {
            "memory": f"the notebook's processes used more than {memory} of memory together",
            "processes": f"the notebook tried to start more than {self.limits.processes} processes",
        }
        return [texts[hit] for hit in self._limits_hit()]

    def death_reason(self, current: str) -> str:
        """Why the runner's process ended during ``current`` (a limit, a signal, an exit code)."""
        limits = self.limits
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        reasons = self.limit_reasons()
        if reasons:
            return f"{reasons[0]} (during {current})"
        if code is not None and code > 128:  # bubblewrap reports a signal as 128 + its number
            code = 128 - code
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            if -code == signal.SIGXCPU:
                return f"{current} used more than {limits.notebook_timeout:g} s of CPU time"
            return f"the notebook's process was killed by {name} during {current} (memory?)"
        return f"the notebook's process stopped during {current} (exit code {code})"

    def _kill(self, also: list[int] = ()) -> None:
        """SIGKILL the run: its session, and ``also`` (processes that left the session)."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        treewatch.kill_all(list(also))

    def stop(self) -> None:
        """End the run and everything it started (its cgroup, session, pid namespace)."""
        if self.watch is not None:
            self.watch.close()
        self._limits_hit()
        self._stopped = True
        self._kill(treewatch.descendants(self.process.pid) if self.run_cgroup is None else [])
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.process.wait()
        if self.run_cgroup is not None:
            self.run_cgroup.remove()


def launch(forbidden: tuple[str, ...], limits: Limits, isolation: str, workdir: str) -> Sandbox:
    """Start the runner in a fresh sandbox.

    The process's stdin and stdout are the grader's private channel to the runner; when the
    sandbox starts as root, ``drop_to_uid`` is the fresh uid the runner must switch to.
    """
    bubblewrap = isolation == "bubblewrap"
    drops_privileges = bubblewrap and os.geteuid() == 0
    uid = 100_000 + secrets.randbelow(800_000) if drops_privileges else None
    parent = cgroup.base()
    run_cgroup = (
        cgroup.RunCgroup.create(parent, limits.memory_bytes, limits.processes) if parent else None
    )

    def prepare_child() -> None:
        _limit_resources(limits, count_processes=drops_privileges)
        if run_cgroup is not None:
            run_cgroup.enter()

    filter_fd = seccomp.program_fd() if bubblewrap else None
    try:
        process = subprocess.Popen(
            sandbox_command(forbidden, isolation, limits, filter_fd),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=workdir,
            env=_sandbox_env(STUDENT_HOME if bubblewrap else workdir),
            start_new_session=True,
            pass_fds=() if filter_fd is None else (filter_fd,),
            preexec_fn=prepare_child,
        )
    except BaseException:
        if run_cgroup is not None:
            run_cgroup.remove()
        raise
    finally:
        if filter_fd is not None:
            os.close(filter_fd)
    sandbox = Sandbox(process, limits, isolation, uid, run_cgroup)
    if run_cgroup is None:
        sandbox.watch = treewatch.TreeWatch(
            process.pid,
            limits.memory_bytes,
            limits.processes,
            sandbox._kill,
            below=2 if bubblewrap else 0,
        )
    return sandbox
