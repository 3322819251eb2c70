"""Lecture slides for each lesson: a reveal.js export of the lesson's public cells.

``python -m grader slides [ID ...] --out build/slides`` writes ``<id>.slides.html`` per lesson
and an ``index.html`` linking them. No cell of a master needs slide metadata: the slides are
chosen by rules from the **student release** (``course/<id>/<id>.ipynb``), so nothing that the
release strips (solution code, model answers, hidden tests) can reach a slide:

- every markdown cell of the lesson text is shown; a cell that opens with a ``#`` or ``##``
  heading starts a new slide, one that opens with ``###`` or deeper a sub-slide (reveal.js's
  vertical slide), any other continues the slide before it; a demo cell with a figure starts
  a sub-slide, and shows only the figure when its code is long (the code then goes to the
  speaker notes, key ``s``);
- demo code cells (locked, not setup) are shown with their outputs, taken from the executed
  master ``build/solutions/<id>.ipynb`` only where that cell's source is the released one;
  only figures, HTML, LaTeX and plain text are kept (no errors, no warnings on stderr, no
  widget views, which need a live kernel);
- setup cells, exercises, graded test cells (their visible self-checks too) and written
  answers are left out;
- a last slide names the licences and the seed deck the lesson draws on.

Executed masters come from ``python -m grader release`` (or ``--execute`` here); without them
(``--no-outputs``) the slides hold the text and code but no figures. The HTML loads reveal.js,
require.js, jQuery and MathJax from nbconvert's default CDN addresses unless ``--assets DIR``
names a local ``node_modules`` holding ``reveal.js@4``, ``requirejs``, ``jquery`` and
``mathjax@2`` (``make slides-offline`` installs them with npm): they are then copied beside the
slides and referenced relatively, so the slides work with no network (docs/instructor/README.md).
"""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbconvert import SlidesExporter
from nbformat import NotebookNode
from traitlets.config import Config

from grader.master import Master, MasterCell, load_master
from grader.paths import (
    executed_master_path,
    master_path,
    release_path,
)

SLIDES_SUFFIX = ".slides.html"
ASSETS_FOLDER = "_assets"
# Output data kept on a slide, in nbconvert's order of preference; anything else is dropped.
KEPT_MIME_TYPES = (
    "image/svg+xml",
    "image/png",
    "image/jpeg",
    "text/html",
    "text/latex",
    "text/markdown",
    "text/plain",
)
WIDGET_MIME_TYPE = "application/vnd.jupyter.widget-view+json"
# Text that only an instructor's copy holds; a slide cell holding one is refused outright.
INSTRUCTOR_MARKERS = (
    "### BEGIN SOLUTION",
    "### END SOLUTION",
    "### BEGIN HIDDEN TESTS",
    "### END HIDDEN TESTS",
    "def hidden_test(",
)
MAX_TEXT_OUTPUT_LINES = 30
# A plotting cell longer than this shows its figure alone (the code in the speaker notes).
MAX_CODE_LINES_WITH_FIGURE = 12
# The template imports Mermaid as a module; offline, a stand-in (the lessons draw no diagrams).
NO_MERMAID = "data:text/javascript,export default {initialize() {}}"
CREDITS = """## Credits and licences

Lesson text and figures: [CC BY 4.0](https://creativecommons.org/licenses/by/4.0/)
(`LICENSE-CONTENT`); code: MIT (`LICENSE`). The lesson follows the seed slide deck
supplied with the course, *Autograd, Computational Graphs and Vanishing Gradients:
A Comprehensive Overview* by Sayan Chaki (March 20, 2025); see `docs/instructor/attribution.md`.
"""

# Local copies for --assets: (what nbconvert's template asks for, path under node_modules).
ASSET_SOURCES = {
    "reveal.js": "reveal.js",
    "require.js": "requirejs/require.js",
    "jquery.min.js": "jquery/dist/jquery.min.js",
    "mathjax": "mathjax",
}
# Parts of the MathJax 2 package the CommonHTML output needs (the rest is large and unused).
MATHJAX_PARTS = (
    "MathJax.js",
    "config",
    "extensions",
    "jax/input/TeX",
    "jax/output/CommonHTML",
    "jax/element",
    "fonts/HTML-CSS/TeX/woff",
    "localization/en",
)


@dataclass(frozen=True)
class LessonSlides:
    """What was written for one lesson."""

    assignment: str
    path: Path
    slides: int
    with_outputs: bool


def slide_type(cell: NotebookNode) -> str:
    """The reveal.js role of a kept cell: ``slide``, ``subslide`` or ``-`` (continue).

    Headings start slides (``#``, ``##``) or sub-slides (deeper); a demo cell that draws a
    figure starts a sub-slide, so that its code and figure are seen together.
    """
    if cell.cell_type == "code":
        figures = any(
            key.startswith("image/") for output in cell.outputs for key in output.get("data", {})
        )
        return "subslide" if figures else "-"
    first = next((line for line in cell.source.splitlines() if line.strip()), "")
    heading = re.match(r"^(#{1,6})\s", first)
    if not heading:
        return "-"
    return "slide" if len(heading.group(1)) <= 2 else "subslide"


def shown(master_cell: MasterCell | None, cell: NotebookNode) -> bool:
    """Whether a released cell belongs on the slides (its kind read from the master)."""
    if master_cell is None or cell.cell_type not in ("markdown", "code"):
        return False
    if master_cell.solution or master_cell.graded or master_cell.is_setup:
        return False
    if cell.cell_type == "code" and not master_cell.locked:
        return False
    return not any(marker in cell.source for marker in INSTRUCTOR_MARKERS)


def figure_only(cell: NotebookNode) -> list[NotebookNode]:
    """Show only the figure of a long plotting cell; its code goes to the speaker notes."""
    if len(cell.source.splitlines()) <= MAX_CODE_LINES_WITH_FIGURE:
        return []
    cell.metadata["transient"] = {"remove_source": True}
    notes = nbformat.v4.new_markdown_cell(
        f"The code of this figure (in the notebook):\n\n```python\n{cell.source}\n```"
    )
    notes.metadata["slideshow"] = {"slide_type": "notes"}
    return [notes]


def kept_outputs(outputs: Iterable[NotebookNode]) -> list[NotebookNode]:
    """The outputs of a demo cell that a static slide can show."""
    kept = []
    for output in outputs:
        if output.output_type == "stream":
            if output.get("name") == "stdout":
                lines = output.text.splitlines()
                if len(lines) > MAX_TEXT_OUTPUT_LINES:
                    lines = lines[:MAX_TEXT_OUTPUT_LINES] + ["..."]
                kept.append(nbformat.v4.new_output("stream", name="stdout", text="\n".join(lines)))
        elif output.output_type in ("display_data", "execute_result"):
            data = output.get("data", {})
            if WIDGET_MIME_TYPE in data:
                continue
            chosen = {key: data[key] for key in KEPT_MIME_TYPES if key in data}
            if chosen:
                kept.append(
                    nbformat.v4.new_output(
                        "display_data", data=chosen, metadata=output.get("metadata", {})
                    )
                )
    return kept


def slide_notebook(
    master: Master, release: NotebookNode, executed: NotebookNode | None
) -> NotebookNode:
    """The notebook the slides are exported from: the released cells the rules keep."""
    kinds = master.by_id()
    outputs: dict[str, tuple[str, list[NotebookNode]]] = {}
    for cell in executed.cells if executed is not None else []:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "code" and grade_id:
            outputs[grade_id] = (cell.source, cell.outputs)
    cells = []
    for cell in release.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if not shown(kinds.get(grade_id), cell):
            continue
        if cell.cell_type == "markdown":
            kept = nbformat.v4.new_markdown_cell(cell.source)
        else:
            kept = nbformat.v4.new_code_cell(cell.source)
            executed_source, executed_outputs = outputs.get(grade_id, ("", []))
            if executed_source == cell.source:
                kept.outputs = kept_outputs(executed_outputs)
        kept.metadata["slideshow"] = {"slide_type": slide_type(kept)}
        cells.append(kept)
        if kept.metadata["slideshow"]["slide_type"] == "subslide" and kept.cell_type == "code":
            cells += figure_only(kept)
    if cells:
        cells[0].metadata["slideshow"] = {"slide_type": "slide"}
    credits = nbformat.v4.new_markdown_cell(CREDITS)
    credits.metadata["slideshow"] = {"slide_type": "slide"}
    cells.append(credits)
    notebook = nbformat.v4.new_notebook(cells=cells, metadata=dict(release.metadata))
    notebook.metadata.pop("widgets", None)
    notebook.metadata["title"] = lesson_title(release, master.assignment)
    return notebook


def lesson_title(notebook: NotebookNode, fallback: str) -> str:
    """The text of the lesson's first ``#`` heading (``fallback`` when it has none)."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+?)\s*$", cell.source, re.MULTILINE)
            if match:
                return match.group(1)
    return fallback


def executed_master(course_root: Path, assignment: str, execute: bool) -> NotebookNode | None:
    """The executed master, if it matches the master cell for cell (run it if ``execute``)."""
    path = executed_master_path(course_root, assignment)
    master = nbformat.read(master_path(course_root, assignment), as_version=4)
    if path.is_file():
        executed = nbformat.read(path, as_version=4)
        if [c.source for c in executed.cells] == [c.source for c in master.cells]:
            return executed
    if not execute:
        return None
    from grader.release import execute_master

    return nbformat.read(execute_master(course_root, assignment), as_version=4)


def exporter(asset_prefix: str | None) -> SlidesExporter:
    """nbconvert's reveal.js exporter, set up for lecture slides (local assets if a prefix)."""
    config = Config()
    config.SlidesExporter.reveal_scroll = True
    config.SlidesExporter.reveal_number = "c/t"
    config.SlidesExporter.reveal_transition = "none"
    config.SlidesExporter.reveal_theme = "white"
    config.SlidesExporter.reveal_width = "1280"
    config.SlidesExporter.reveal_height = "800"
    config.SlidesExporter.embed_images = True
    config.SlidesExporter.exclude_input_prompt = True
    config.SlidesExporter.exclude_output_prompt = True
    if asset_prefix is not None:
        config.SlidesExporter.reveal_url_prefix = f"{asset_prefix}/reveal.js"
        config.SlidesExporter.require_js_url = f"{asset_prefix}/require.js"
        config.SlidesExporter.jquery_url = f"{asset_prefix}/jquery.min.js"
        config.SlidesExporter.mathjax_url = (
            f"{asset_prefix}/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"
        )
    slides = SlidesExporter(config=config)
    if asset_prefix is not None:
        # Not a configurable trait in nbconvert 7; the lessons draw no Mermaid diagrams.
        slides.mermaid_js_url = NO_MERMAID
    return slides


def copy_assets(node_modules: Path, out_dir: Path) -> Path:
    """Copy reveal.js, require.js, jQuery and MathJax from ``node_modules`` beside the slides."""
    target = out_dir / ASSETS_FOLDER
    missing = [
        f"{node_modules / source}"
        for source in ASSET_SOURCES.values()
        if not (node_modules / source).exists()
    ]
    if missing:
        raise FileNotFoundError(
            f"--assets {node_modules}: missing {', '.join(missing)} "
            "(run `make slides-offline`, which installs them with npm)"
        )
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    reveal = node_modules / ASSET_SOURCES["reveal.js"]
    for part in ("dist", "plugin"):
        shutil.copytree(reveal / part, target / "reveal.js" / part)
    for name in ("require.js", "jquery.min.js"):
        shutil.copy2(node_modules / ASSET_SOURCES[name], target / name)
    mathjax = node_modules / ASSET_SOURCES["mathjax"]
    for part in MATHJAX_PARTS:
        source = mathjax / part
        if source.is_dir():
            shutil.copytree(source, target / "mathjax" / part)
        elif source.is_file():
            (target / "mathjax" / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / "mathjax" / part)
    return target


def build_slides(
    course_root: Path,
    assignments: list[str],
    out_dir: Path,
    *,
    outputs: bool = True,
    execute: bool = False,
    assets: Path | None = None,
) -> list[LessonSlides]:
    """Write ``<out_dir>/<id>.slides.html`` for each assignment and an ``index.html``.

    With ``outputs`` the demo cells carry the outputs of the executed master (run first when
    ``execute`` and ``build/solutions/<id>.ipynb`` is missing or stale); ``assets`` is a
    ``node_modules`` folder whose reveal.js, require.js, jQuery and MathJax are copied beside
    the slides so that they work offline.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    prefix = None
    if assets is not None:
        copy_assets(assets, out_dir)
        prefix = ASSETS_FOLDER
    slides_exporter = exporter(prefix)
    written = []
    for assignment in assignments:
        released = release_path(course_root, assignment)
        if not released.is_file():
            raise FileNotFoundError(
                f"{released} does not exist: run `python -m grader release {assignment}`"
            )
        master = load_master(master_path(course_root, assignment))
        release = nbformat.read(released, as_version=4)
        executed = executed_master(course_root, assignment, execute) if outputs else None
        notebook = slide_notebook(master, release, executed)
        body, _ = slides_exporter.from_notebook_node(
            notebook, resources={"metadata": {"name": notebook.metadata["title"]}}
        )
        path = out_dir / f"{assignment}{SLIDES_SUFFIX}"
        path.write_text(body, encoding="utf-8")
        count = sum(1 for c in notebook.cells if c.metadata["slideshow"]["slide_type"] == "slide")
        written.append(LessonSlides(assignment, path, count, executed is not None))
    write_index(out_dir, written)
    return written


def write_index(out_dir: Path, lessons: list[LessonSlides]) -> Path:
    """An ``index.html`` listing every lesson's slides found in ``out_dir``."""
    entries = {lesson.path.name: lesson for lesson in lessons}
    rows = []
    for path in sorted(out_dir.glob(f"*{SLIDES_SUFFIX}")):
        title = re.search(r"<title>(.*?) slides</title>", path.read_text(encoding="utf-8"))
        name = html.escape(path.name)
        label = title.group(1) if title else name
        note = ""
        if path.name in entries and not entries[path.name].with_outputs:
            note = " (no figures: built without executed masters)"
        rows.append(f'<li><a href="{name}">{label}</a>{note}</li>')
    index = out_dir / "index.html"
    index.write_text(
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Autodiff from scratch: lecture slides</title></head>\n<body>\n"
        "<h1>Autodiff from scratch: lecture slides</h1>\n<ul>\n"
        + "\n".join(rows)
        + "\n</ul>\n<p>Lesson text and figures: CC BY 4.0; code: MIT.</p>\n</body></html>\n",
        encoding="utf-8",
    )
    return index
