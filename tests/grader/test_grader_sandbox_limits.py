"""Attacks on the sandbox itself: limits of the whole tree, seccomp, lost isolation, hidden modules.

Each test starts the real sandbox (``grader.sandbox.launch``) with a tiny probe program in place
of the runner: it becomes the unprivileged user the runner would, runs the attack and prints
what it found as one JSON line. These tests need bubblewrap (CI installs it) and never skip.
"""

from __future__ import annotations

import importlib.util
import json
import os
import py_compile
import shutil
import sys
import sysconfig
import tempfile
import time
import warnings
from pathlib import Path

import nbformat
import pytest

from grader import cgroup, sandbox, treewatch
from grader.master import load_master
from grader.paths import master_ids
from grader.permissions import protect_course_files
from grader.release import release, unknown_forbidden_modules
from grader.sandbox import IsolationUnavailable, Limits, choose_isolation, module_locations

REPO = Path(__file__).resolve().parents[2]
PROBE = """
import json, os, sys
job = json.loads(sys.stdin.readline())
if job["uid"] is not None:
    os.setgroups([]); os.setgid(job["uid"]); os.setuid(job["uid"])
out = {}
try:
    exec(job["source"], {"out": out, "job": job})
except BaseException as error:
    out["error"] = repr(error)
sys.stdout.write(json.dumps(out) + "\\n")
sys.stdout.flush()
"""
SMALL = Limits(memory_bytes=512 * 1024**2, processes=16, scratch_bytes=8 * 1024**2)


@pytest.fixture
def probe(monkeypatch, tmp_path):
    """``probe(source, ...)``: run ``source`` in a fresh sandbox; (out, reasons, seconds)."""
    program = tmp_path / "probe.py"
    program.write_text(PROBE)
    monkeypatch.setattr(sandbox, "RUNNER", program)

    def run(source, forbidden=("torch",), limits=SMALL, isolation="bubblewrap", **data):
        with tempfile.TemporaryDirectory(prefix="grader-probe-") as workdir:
            started = time.monotonic()
            box = sandbox.launch(forbidden, limits, isolation, workdir)
            job = {"uid": box.drop_to_uid, "source": source, **data}
            try:
                output, _ = box.process.communicate(json.dumps(job).encode() + b"\n", timeout=60)
            finally:
                box.stop()
            left = treewatch.descendants(box.process.pid)
            assert left == [], "processes of the run outlived it"
            seconds = time.monotonic() - started
        lines = output.decode().splitlines()
        return (json.loads(lines[0]) if lines else None), box.limit_reasons(), seconds

    return run


# --- A: limits of the whole tree, seccomp --------------------------------------------------------

TREE_OF_CHILDREN = """
import os, time
for _ in range(4):
    if os.fork() == 0:
        block = bytearray(200 * 1024**2)  # each child stays under the per-process limit
        time.sleep(30)
        os._exit(0)
time.sleep(30)
"""


def test_a_tree_of_children_is_stopped_at_the_memory_limit_of_the_whole_tree(probe):
    out, reasons, seconds = probe(TREE_OF_CHILDREN)
    assert out is None  # stopped before it could report
    assert reasons == ["the notebook's processes used more than 0.5 GiB of memory together"]
    assert seconds < 15


FORK_BOMB = """
import os, time
started = 0
try:
    while started < 500:
        if os.fork() == 0:
            time.sleep(30)
            os._exit(0)
        started += 1
except OSError as error:
    out["refused"] = str(error)
out["started"] = started
time.sleep(30)
"""


@pytest.mark.parametrize("isolation", ["bubblewrap", "subprocess"])
def test_a_fork_bomb_is_stopped_and_flagged(probe, isolation):
    out, reasons, seconds = probe(FORK_BOMB, isolation=isolation)
    assert reasons == ["the notebook tried to start more than 16 processes"]
    assert out is None or out["started"] < 16
    assert seconds < 15


HONEST = """
import subprocess, threading
import numpy as np
import matplotlib
import matplotlib.pyplot as plt
plt.plot(np.linspace(0, 1, 50) ** 2)
plt.savefig("plot.png")
worker = threading.Thread(target=lambda: out.setdefault("thread", True))
worker.start()
worker.join()
out["echo"] = subprocess.run(["/bin/echo", "hi"], capture_output=True, text=True).stdout
out["sum"] = float(np.arange(1000.0).sum())
"""


def test_what_grading_needs_passes_the_filter_and_hits_no_limit(probe):
    out, reasons, _ = probe(HONEST, limits=Limits())
    assert out == {"thread": True, "echo": "hi\n", "sum": 499500.0}
    assert reasons == []


SYSTEM_CALLS = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
buffer = ctypes.create_string_buffer(256)
calls = {  # x86_64 numbers
    "unshare": (272, 0x10000000), "setns": (308, 0, 0),
    "mount": (165, b"none", b"/tmp", b"tmpfs", 0, 0), "umount2": (166, b"/tmp", 0),
    "pivot_root": (155, b"/tmp", b"/tmp"), "keyctl": (250, 0, 0), "add_key": (248, 0, 0, 0, 0, 0),
    "io_uring_setup": (425, 8, buffer), "ptrace": (101, 16, 1, 0, 0),
    "process_vm_readv": (310, 1, 0, 0, 0, 0, 0), "bpf": (321, 0, buffer, 48),
    "perf_event_open": (298, buffer, 0, -1, -1, 0), "userfaultfd": (323, 0),
    "init_module": (175, 0, 0, 0), "open_by_handle_at": (304, 0, buffer, 0),
    "personality": (135, 0x0040000), "memfd_create": (319, b"x", 0),
    "clone_with_new_user_namespace": (56, 0x10000000 | 17, 0, 0, 0, 0),
    "clone3": (435, buffer, 88),
}
for name, (number, *args) in calls.items():
    result = libc.syscall(number, *args)
    out[name] = os.strerror(ctypes.get_errno()) if result < 0 else "allowed"
"""


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="system call numbers of x86_64")
def test_seccomp_refuses_what_grading_never_needs(probe):
    out, _, _ = probe(SYSTEM_CALLS)
    assert out.pop("clone3") == "Function not implemented"  # glibc then falls back to clone
    assert out == dict.fromkeys(out, "Operation not permitted")


SCRATCH = """
import os
for folder in ("/tmp", os.environ.get("HOME", "/home/student"), "/dev/shm"):
    try:
        with open(os.path.join(folder, "filler"), "wb") as sink:
            for _ in range(64):
                sink.write(b"x" * 1024**2)
        out[folder] = "no limit"
    except OSError as error:
        out[folder] = error.strerror
"""


def test_scratch_folders_are_size_limited(probe):
    out, _, _ = probe(SCRATCH)
    assert out == {"/tmp": "No space left on device", "/home/student": "No space left on device",
                   "/dev/shm": "No space left on device"}  # fmt: skip


def test_kernel_counters_of_a_run_cgroup_become_flag_reasons(tmp_path):
    """Where cgroup v2 is usable, the kernel's counters are the signal (here read from files)."""
    (tmp_path / "memory.events").write_text("low 0\nhigh 0\nmax 7\noom 1\noom_kill 1\n")
    (tmp_path / "pids.events").write_text("max 3\n")
    box = sandbox.Sandbox(process=None, limits=Limits(), isolation="bubblewrap")
    box.run_cgroup = cgroup.RunCgroup(tmp_path)
    assert box.limit_reasons() == [
        "the notebook's processes used more than 2 GiB of memory together",
        "the notebook tried to start more than 64 processes",
    ]


# --- B: no silent loss of isolation, private course files ----------------------------------------


def test_grading_without_bubblewrap_refuses_unless_the_instructor_allows_it(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap anywhere
    monkeypatch.delenv("AUTODIFF_GRADER_NO_BWRAP", raising=False)
    monkeypatch.delenv(sandbox.ALLOW_UNSANDBOXED, raising=False)
    with pytest.raises(IsolationUnavailable) as refused:
        choose_isolation()
    assert "sudo apt-get install bubblewrap" in str(refused.value)
    assert "--allow-unsandboxed" in str(refused.value)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert choose_isolation(untrusted=False) == "subprocess"  # a student's own notebook
    monkeypatch.setenv(sandbox.ALLOW_UNSANDBOXED, "1")
    for _ in range(2):  # every run warns, not only the first
        with pytest.warns(RuntimeWarning, match="WITHOUT a sandbox"):
            assert choose_isolation() == "subprocess"


def test_the_fallback_can_still_be_forced_for_tests(monkeypatch):
    monkeypatch.setenv("AUTODIFF_GRADER_NO_BWRAP", "1")
    monkeypatch.setenv(sandbox.ALLOW_UNSANDBOXED, "1")
    with pytest.warns(RuntimeWarning):
        assert choose_isolation() == "subprocess"
    monkeypatch.delenv("AUTODIFF_GRADER_NO_BWRAP")
    assert choose_isolation() == "bubblewrap"  # CI has it: grading is sandboxed


def test_gradebook_secret_and_masters_become_owner_only(tmp_path):
    outside = tmp_path / "someone_elses.txt"
    outside.write_text("not ours")
    outside.chmod(0o644)
    course = tmp_path / "course"
    master = course / "solutions" / "01_x" / "01_x.ipynb"
    master.parent.mkdir(parents=True)
    master.write_text("{}")
    (master.parent / "helper.sh").write_text("#!/bin/sh\n")
    (master.parent / "helper.sh").chmod(0o755)
    (master.parent / "link").symlink_to(outside)
    for name in ("gradebook.db", ".course_secret"):
        (course / name).write_text("x")
        (course / name).chmod(0o644)
    changed = protect_course_files(course)
    modes = {p.relative_to(course).as_posix(): p.stat().st_mode & 0o777 for p in changed}
    assert modes == {
        "gradebook.db": 0o600, ".course_secret": 0o600, "solutions": 0o700,
        "solutions/01_x": 0o700, "solutions/01_x/01_x.ipynb": 0o600,
        "solutions/01_x/helper.sh": 0o700,
    }  # fmt: skip
    assert outside.stat().st_mode & 0o777 == 0o644
    assert protect_course_files(course) == []


# --- C: forbidden modules hidden wholesale -------------------------------------------------------

BASE_SITE = Path(
    sysconfig.get_path("purelib", vars={"base": sys.base_prefix, "platbase": sys.base_exec_prefix})
)
SEARCH_DIRS = sorted(
    {str(REPO), str(REPO / "autodiff_lib"), *sysconfig.get_paths().values(), str(BASE_SITE),
     "/usr/lib/python3/dist-packages", "/usr/local/lib/python3.11/dist-packages"}
)  # fmt: skip

ATTEMPTS = r"""
import glob, importlib.machinery, importlib.util, json, os, subprocess, sys

def reached(how):
    out.setdefault("reached", []).append(how)

def has_code(module):
    return any(not name.startswith("__") for name in vars(module))

IMPORT = (
    "import importlib, json, sys; sys.path[:0] = json.loads(sys.argv[2]); "
    "print(any(not n.startswith('__') for n in vars(importlib.import_module(sys.argv[1]))))"
)

def imports_code(name, search):  # a fresh interpreter each time: nothing cached from before
    args = [sys.executable, "-I", "-c", IMPORT, name, json.dumps(search)]
    return subprocess.run(args, capture_output=True, text=True).stdout.strip() == "True"

def load(name, spec):
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        return has_code(module)
    except BaseException:  # ImportError, SyntaxError, bad magic number, ...
        return False
    finally:
        sys.modules.pop(name, None)

for name, places in job["modules"].items():
    if imports_code(name, []):
        reached(f"import {name}")
    if imports_code(name, job["search"]):
        reached(f"import {name} after sys.path additions")
    for place in places:
        package = os.path.isdir(place)
        files = sorted(glob.glob(place + "/**/*", recursive=True)) if package else [place]
        for path in files:
            try:
                with open(path, "rb") as source:
                    if source.read(1):
                        reached(f"open({path})")
            except OSError:
                pass
        init = os.path.join(place, "__init__.py") if package else place
        locations = [place] if package else None
        spec = importlib.util.spec_from_file_location(
            name, init, submodule_search_locations=locations
        )
        if spec is not None and load(name, spec):
            reached(f"spec_from_file_location {init}")
    for cache in job["caches"].get(name, []):
        loader = importlib.machinery.SourcelessFileLoader(name, cache)
        if load(name, importlib.util.spec_from_loader(name, loader)):
            reached(f"SourcelessFileLoader {cache}")
out["repo_root"] = sorted(os.listdir(job["repo"])) if os.path.isdir(job["repo"]) else []
"""


def _bytecode_of(locations: list[Path]) -> list[str]:
    """The caches of these modules (a package's top level) on the host, written where missing."""
    caches = []
    for location in locations:
        sources = sorted(location.glob("*.py")) if location.is_dir() else [location]
        for source in sources:
            if source.suffix == ".py":
                cache = Path(importlib.util.cache_from_source(str(source)))
                if not cache.exists():
                    py_compile.compile(str(source), cfile=str(cache), doraise=True)
                caches.append(str(cache))
    return caches


@pytest.mark.parametrize("assignment", master_ids(REPO))
def test_no_forbidden_module_is_reachable(probe, assignment):
    """By import, by file path, by bytecode and through sys.path additions: nothing of them."""
    forbidden = load_master(
        REPO / "solutions" / assignment / f"{assignment}.ipynb"
    ).forbidden_imports
    modules = {name: [str(p) for p in module_locations(name)] for name in forbidden}
    assert any(modules.values()), "the attack needs at least one installed forbidden module"
    caches = {name: _bytecode_of([Path(p) for p in places]) for name, places in modules.items()}
    if "sympy" in forbidden and (BASE_SITE / "sympy").is_dir():
        modules["sympy"].append(str(BASE_SITE / "sympy"))  # the base interpreter's copy too
    out, _, _ = probe(ATTEMPTS, forbidden=forbidden, limits=Limits(), modules=modules,
                      caches=caches, search=SEARCH_DIRS, repo=str(REPO))  # fmt: skip
    assert "error" not in out, out.get("error")
    assert out.get("reached", []) == []
    allowed = {".venv", "autodiff_lib"} if "autodiff_lib" not in forbidden else {".venv"}
    assert set(out["repo_root"]) <= allowed  # no solutions/, grader/, secret or gradebook


def test_the_base_interpreters_site_packages_is_hidden_whole(probe):
    listing = "out['entries'] = os.listdir(job['base']) if os.path.isdir(job['base']) else []"
    out, _, _ = probe("import os\n" + listing, base=str(BASE_SITE))
    if BASE_SITE.resolve() not in {Path(p).resolve() for p in sysconfig.get_paths().values()}:
        assert out == {"entries": []}


def test_release_refuses_a_forbid_list_naming_a_missing_library_module(tmp_path):
    assignment = "06_neural_networks"
    shutil.copytree(REPO / "solutions" / assignment, tmp_path / "solutions" / assignment)
    path = tmp_path / "solutions" / assignment / f"{assignment}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    notebook.metadata["grader"]["forbidden_imports"] = ["autodiff_lib.nn_scalar_moved", "torch"]
    nbformat.write(notebook, path)
    problems = unknown_forbidden_modules(tmp_path, [assignment])
    assert problems == [
        f"{assignment}: forbidden_imports names autodiff_lib.nn_scalar_moved, which is no module "
        "of autodiff_lib (moved or renamed?); fix the master's metadata"
    ]
    with pytest.raises(ValueError, match="autodiff_lib.nn_scalar_moved"):
        release(tmp_path, [assignment], execute=False)
    assert not (tmp_path / "course").exists()
    assert unknown_forbidden_modules(REPO, master_ids(REPO)) == []
