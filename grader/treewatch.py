"""Memory and process count of a whole sandbox tree, watched from outside (no cgroup v2 here).

Where the grader cannot give a run a cgroup of its own, the kernel's limits are per process
(``RLIMIT_AS``, and ``RLIMIT_NPROC`` for the sandbox's own uid or user namespace): 64 children
of 2 GiB each would still fit. This thread looks at the run's processes from the grader's side
every ``INTERVAL`` seconds, adds up their memory, counts them, and stops the run (with its
reason) when the tree as a whole goes over a limit. It cannot see between two looks: the total
can pass the limit by what the tree allocates in one interval before it is stopped.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path

INTERVAL = 0.1
PAGE = os.sysconf("SC_PAGE_SIZE")


def _parents() -> dict[int, int]:
    """Every process's parent, from ``/proc/<pid>/stat`` (its name may hold spaces or ')')."""
    parents = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_bytes()
        except OSError:  # ended meanwhile
            continue
        parents[int(entry.name)] = int(stat[stat.rindex(b")") + 2 :].split()[1])
    return parents


def descendants(root: int, below: int = 1) -> list[int]:
    """The processes ``below`` or more levels under ``root`` (0: ``root`` too); orphans of a pid
    namespace stay (they are adopted by its first process).

    bubblewrap's own process in the sandbox is the one level right under its outer process.
    """
    children: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    found, todo = [], [(root, 0)]
    while todo:
        pid, level = todo.pop()
        if level >= below:
            found.append(pid)
        todo += [(child, level + 1) for child in children.get(pid, [])]
    return found


def _anonymous_bytes(pid: int) -> int:
    """An upper bound of what the process holds privately (copy-on-write pages count twice)."""
    try:
        size, resident, shared = Path(f"/proc/{pid}/statm").read_text().split()[:3]
    except (OSError, ValueError):
        return 0
    return (int(resident) - int(shared)) * PAGE


def _proportional_bytes(pid: int) -> int:
    """Its anonymous and shared-memory pages, shared ones split between their users."""
    total = 0
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return _anonymous_bytes(pid)
    for line in lines:
        if line.startswith(("Pss_Anon:", "Pss_Shmem:")):
            total += int(line.split()[1]) * 1024
    return total


def tree_memory(pids: list[int], limit: int) -> int:
    """The tree's memory: the cheap bound first, the exact sum only when the bound is over."""
    rough = sum(_anonymous_bytes(pid) for pid in pids)
    return rough if rough <= limit else sum(_proportional_bytes(pid) for pid in pids)


class TreeWatch:
    """Watches the processes below ``root`` and calls ``stop_run`` when they go over a limit.

    ``below`` is 2 when ``root`` is bubblewrap (its process inside the sandbox counts towards
    neither limit), 0 when ``root`` is the runner itself.
    """

    def __init__(
        self,
        root: int,
        memory_bytes: int,
        processes: int,
        stop_run: Callable[[list[int]], None],
        below: int = 1,
    ) -> None:
        self.root, self.below = root, below
        self.memory_bytes, self.processes = memory_bytes, processes
        self.stop_run = stop_run
        self.over: list[str] = []  # "memory", "processes"
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._done.wait(INTERVAL):
            if self.look():
                return

    def look(self) -> bool:
        """One look at the tree; True (and the run stopped) when it is over a limit."""
        pids = descendants(self.root, self.below)
        if len(pids) >= self.processes and "processes" not in self.over:
            self.over.append("processes")
        if tree_memory(pids, self.memory_bytes) > self.memory_bytes and "memory" not in self.over:
            self.over.append("memory")
        if self.over:
            self.stop_run(pids)
        return bool(self.over)

    def close(self) -> None:
        """Stop watching (the run is over), after a last look: a run shorter than one interval
        (a fork bomb whose processes wait quietly) is seen too."""
        self._done.set()
        if self._thread is not threading.current_thread():
            self._thread.join()
        if not self.over:
            self.look()


def kill_all(pids: list[int]) -> None:
    """SIGKILL each process (those that left the run's session too)."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
