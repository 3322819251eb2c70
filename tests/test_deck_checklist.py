"""docs/deck-checklist.md names real sections of the masters, and covers every slide of the deck."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
CHECKLIST = ROOT / "docs" / "deck-checklist.md"
DECK_SLIDES = [
    "What is Automatic Differentiation?",
    "Types of Automatic Differentiation",
    "Computational Graphs",
    "Computational Graph Example",
    "Forward Pass vs. Backward Pass",
    "PyTorch Autograd Basics",
    "Building a Simple Autograd Engine",
    "Custom Autograd Example (continued)",
    "The Chain Rule in Autograd",
    "The Vanishing Gradient Problem",
    "Visualizing Vanishing Gradients",
    "Gradient Flow in Deep Networks",
    "Demonstrating Vanishing Gradients with Code",
    "Solutions to the Vanishing Gradient Problem",
    "Activation Functions Comparison",
    "Residual Connections",
    "Implementing Solutions in PyTorch",
    "Training a Deep Network with PyTorch",
    "Visualizing Gradient Flow",
    "Summary",
    "References",
]


def _rows() -> list[dict[str, str]]:
    rows = []
    for line in CHECKLIST.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0].isdigit():
            rows.append(
                dict(zip(["n", "slide", "content", "lesson", "section"], cells, strict=True))
            )
    return rows


def _headings(lesson: str) -> set[str]:
    master = ROOT / "solutions" / lesson / f"{lesson}.ipynb"
    headings = set()
    for cell in nbformat.read(master, as_version=4).cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                match = re.match(r"^#{1,4}\s+(.*?)\s*$", line)
                if match:
                    headings.add(match.group(1))
    return headings


def test_every_slide_of_the_deck_is_in_the_checklist():
    listed = {row["slide"] for row in _rows()}
    assert [slide for slide in DECK_SLIDES if slide not in listed] == []


@pytest.mark.parametrize("row", _rows(), ids=lambda row: f"{row['n']}-{row['lesson']}")
def test_every_listed_section_exists_in_its_master(row):
    assert row["section"] in _headings(row["lesson"]), (
        f"slide {row['slide']!r}: no section {row['section']!r} in {row['lesson']}"
    )
