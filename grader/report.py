"""The sidecar report of each graded submission: ``autograded/<student>/<id>/grader_report.json``.

It records what the gradebook cannot: whether the submission was flagged and why, the
isolation used, and each graded cell's message. ``export`` joins it with the gradebook.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from grader.paths import AUTOGRADED_DIRECTORY
from grader.text import clean

REPORT_NAME = "grader_report.json"
REASON_LIMIT = 2000


def write_report(folder: Path, report: dict[str, Any]) -> Path:
    """Write ``report`` into ``folder`` (replacing an older one, even a read-only one).

    Its ``reason`` may quote what a student sent (file names, messages): it is stored bounded
    and without control characters.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / REPORT_NAME
    path.unlink(missing_ok=True)
    report = {**report, "reason": clean(report.get("reason", ""), REASON_LIMIT)}
    path.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def read_report(path: Path) -> dict[str, Any]:
    """Read one report."""
    return json.loads(path.read_text(encoding="utf-8"))


def reports(course_root: Path, assignment: str = "*") -> dict[tuple[str, str], dict[str, Any]]:
    """Every report under ``autograded/``, keyed by (student, assignment)."""
    found = {}
    for path in sorted((course_root / AUTOGRADED_DIRECTORY).glob(f"*/{assignment}/{REPORT_NAME}")):
        found[(path.parent.parent.name, path.parent.name)] = read_report(path)
    return found
