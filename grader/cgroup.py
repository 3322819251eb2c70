"""One cgroup v2 per sandboxed run: memory and process count enforced by the kernel for the tree.

Where the machine allows it (cgroup v2 with the ``memory`` and ``pids`` controllers, and a
cgroup the grader may write: the hierarchy's root when it runs as root, or the folder named by
``$AUTODIFF_GRADER_CGROUP``, e.g. a delegated one of a systemd user service), each run gets a
cgroup ``run-*`` under ``autodiff-grader/`` with ``memory.max`` (everything the tree holds: its
processes, the files in its tmpfs, shared memory), ``memory.swap.max = 0`` and ``pids.max``. The
kernel counts in ``memory.events`` (``oom_kill``) and ``pids.events`` (``max``) every time the
tree hit a limit, which is how the grader can flag it after the run. ``cgroup.kill`` ends the
whole tree at once, whatever sessions or namespaces its processes made.
"""

from __future__ import annotations

import functools
import os
import secrets
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

CONTROLLERS = ("memory", "pids")
GRADER_CGROUP = "autodiff-grader"


def _cgroup2_mount() -> Path | None:
    """Where the cgroup v2 hierarchy is mounted, from ``/proc/self/mountinfo``."""
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        fstype = fields[fields.index("-") + 1]
        if fstype == "cgroup2":
            return Path(fields[4])
    return None


def _enable_controllers(cgroup: Path) -> None:
    """Let the children of ``cgroup`` use memory and pids limits (OSError when they cannot)."""
    available = (cgroup / "cgroup.controllers").read_text().split()
    if not set(CONTROLLERS) <= set(available):
        raise OSError(f"{cgroup} offers only {available}")
    enabled = (cgroup / "cgroup.subtree_control").read_text().split()
    missing = [name for name in CONTROLLERS if name not in enabled]
    if missing:
        (cgroup / "cgroup.subtree_control").write_text(" ".join(f"+{n}" for n in missing))


@functools.cache
def base() -> Path | None:
    """The cgroup the runs' cgroups are made in, or None when this machine does not allow it.

    Checked once per grader process, the whole way: a run's cgroup is made, a process is moved
    into it and it is removed again.
    """
    try:
        configured = os.environ.get("AUTODIFF_GRADER_CGROUP")
        if configured:
            parent = Path(configured)
        else:
            mount = _cgroup2_mount()
            if mount is None:
                return None
            _enable_controllers(mount)
            parent = mount / GRADER_CGROUP
            parent.mkdir(exist_ok=True)
        _enable_controllers(parent)
        probe = RunCgroup.create(parent, 64 * 1024**2, 4)
        try:
            subprocess.run(["true"], preexec_fn=probe.enter, check=True, timeout=10)
        finally:
            probe.remove()
    except (OSError, subprocess.SubprocessError):
        return None
    return parent


def _count(events_file: Path, key: str) -> int:
    """One counter of a ``*.events`` file ("oom_kill 1" lines); 0 when unreadable."""
    try:
        lines = events_file.read_text().splitlines()
    except OSError:
        return 0
    counts = dict(line.split() for line in lines if line.strip())
    return int(counts.get(key, 0))


@dataclass(frozen=True)
class RunCgroup:
    """The cgroup of one run."""

    path: Path

    @classmethod
    def create(cls, parent: Path, memory_bytes: int, processes: int) -> RunCgroup:
        path = parent / f"run-{os.getpid()}-{secrets.token_hex(4)}"
        path.mkdir()
        (path / "memory.max").write_text(str(memory_bytes))
        if (path / "memory.swap.max").exists():
            (path / "memory.swap.max").write_text("0")
        (path / "pids.max").write_text(str(processes))
        return cls(path)

    def enter(self) -> None:
        """Move the calling process into the cgroup (in the child, before it starts the run)."""
        fd = os.open(self.path / "cgroup.procs", os.O_WRONLY)
        try:
            os.write(fd, b"0")
        finally:
            os.close(fd)

    def memory_kills(self) -> int:
        """How many processes the kernel killed because the tree used all its memory."""
        return _count(self.path / "memory.events", "oom_kill")

    def refused_forks(self) -> int:
        """How many times the tree tried to start a process past its limit."""
        return _count(self.path / "pids.events", "max")

    def remove(self) -> None:
        """Kill everything in the cgroup, then remove it."""
        kill = self.path / "cgroup.kill"
        for _ in range(200):
            try:
                if kill.exists():
                    kill.write_text("1")
                else:  # kernels before 5.14
                    for pid in (self.path / "cgroup.procs").read_text().split():
                        os.kill(int(pid), 9)
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except (OSError, ProcessLookupError):  # still busy: the kill takes a moment
                time.sleep(0.01)
