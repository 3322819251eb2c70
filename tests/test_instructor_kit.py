"""The instructor kit (docs/instructor/): slides, rubrics, syllabus, guide and licences.

- ``python -m grader slides`` builds reveal.js slides for every lesson, and no slide holds a
  line of solution code, a model answer, a hidden test or a graded self-check, with or without
  the executed master's outputs;
- with ``--assets`` the slides reference nothing on the network;
- every written question of every master has a rubric whose criteria add up to its points;
- the syllabus's assessment table has the points of the masters' nbgrader metadata, a week per
  lesson in a 12-14 week term, and cites the seed deck's slides by their real numbers and titles;
- the guide has, for every lesson, misconceptions, activities and timings that fill the
  syllabus's class hours;
- the lesson text is CC BY 4.0 and the code MIT, and the README and pyproject say so.
"""

from __future__ import annotations

import html
import io
import re
import shutil
from contextlib import redirect_stdout
from pathlib import Path

import nbformat
import pytest

from grader.cli import main
from grader.master import load_master, split_hidden
from grader.paths import master_ids
from grader.slides import ASSET_SOURCES, build_slides, slide_notebook

ROOT = Path(__file__).resolve().parent.parent
KIT = ROOT / "docs" / "instructor"
SYLLABUS = KIT / "syllabus.md"
MASTERS = master_ids(ROOT)
# The seed deck's slides, numbered as its PDF pages (the text shows "15 / 23" on slide 15).
DECK = {
    1: "Autograd, Computational Graphs and Vanishing Gradients",
    2: "Table of Contents",
    3: "What is Automatic Differentiation?",
    4: "Types of Automatic Differentiation",
    5: "Computational Graphs",
    6: "Computational Graph Example",
    7: "Forward Pass vs. Backward Pass",
    8: "PyTorch Autograd Basics",
    9: "Building a Simple Autograd Engine",
    10: "Custom Autograd Example (continued)",
    11: "The Chain Rule in Autograd",
    12: "The Vanishing Gradient Problem",
    13: "Visualizing Vanishing Gradients",
    14: "Gradient Flow in Deep Networks",
    15: "Demonstrating Vanishing Gradients with Code",
    16: "Solutions to the Vanishing Gradient Problem",
    17: "Activation Functions Comparison",
    18: "Residual Connections",
    19: "Implementing Solutions in PyTorch",
    20: "Training a Deep Network with PyTorch",
    21: "Visualizing Gradient Flow",
    22: "Summary",
    23: "References",
}
# A deck slide cited in the syllabus: its number and its title in quotes, 9 "Building a ...".
CITATION = r'\b(\d{1,2}) "([^"]+)"'


def master(assignment: str):
    return load_master(ROOT / "solutions" / assignment / f"{assignment}.ipynb")


def cells_of(line: str) -> list[str]:
    """The cells of a Markdown table row (``\\|`` is a pipe inside a cell)."""
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))]


def text_of(page: str) -> str:
    """The text a reader of an HTML page sees: tags dropped, entities decoded."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z]{3,}", text)


def secret_lines(assignment: str) -> set[str]:
    """Code lines only a master holds: solution regions and hidden tests (not the release's)."""
    release = nbformat.read(ROOT / "course" / assignment / f"{assignment}.ipynb", as_version=4)
    public = {line.strip() for cell in release.cells for line in cell.source.splitlines()}
    secret = set()
    for cell in master(assignment).cells:
        if cell.cell_type != "code":
            continue
        inside = False
        for line in cell.source.splitlines():
            if "### BEGIN SOLUTION" in line:
                inside = True
            elif "### END SOLUTION" in line:
                inside = False
            elif inside:
                secret.add(line.strip())
        secret |= {line.strip() for line in split_hidden(cell.source)[1].splitlines()}
    return {line for line in secret - public if len(line) >= 12 and not line.startswith("#")}


def self_check_lines(assignment: str) -> set[str]:
    """Lines of the graded cells' visible self-checks (public, but not lecture material)."""
    lines = set()
    for cell in master(assignment).graded_tests:
        for line in split_hidden(cell.source)[0].splitlines():
            if line.strip().startswith("assert ") and len(line.strip()) >= 20:
                lines.add(line.strip())
    return lines


def runs_of(text: str, size: int = 8) -> set[tuple[str, ...]]:
    """Every run of ``size`` consecutive words of ``text``."""
    found = words(text)
    return {tuple(found[i : i + size]) for i in range(len(found) - size + 1)}


def model_answer_runs(assignment: str) -> set[tuple[str, ...]]:
    """Runs of words of the model answers that the student release does not also hold."""
    release = nbformat.read(ROOT / "course" / assignment / f"{assignment}.ipynb", as_version=4)
    public = set().union(*(runs_of(cell.source) for cell in release.cells))
    answers = set()
    for cell in master(assignment).written_answers:
        answers |= runs_of(cell.source.replace("BEGIN SOLUTION", "").replace("END SOLUTION", ""))
    return answers - public


def assert_holds_nothing_secret(assignment: str, page: str) -> None:
    text = text_of(page)
    lines = {line.strip() for line in text.splitlines()}
    leaked = sorted(secret_lines(assignment) & lines)
    assert not leaked, f"{assignment}: slides show solution or hidden-test lines: {leaked[:5]}"
    checks = sorted(self_check_lines(assignment) & lines)
    assert not checks, f"{assignment}: slides show graded self-checks: {checks[:3]}"
    for marker in ("BEGIN SOLUTION", "HIDDEN TESTS", "hidden_test(", "YOUR ANSWER HERE"):
        assert marker not in text, f"{assignment}: slides contain {marker!r}"
    assert "raise NotImplementedError" not in text, f"{assignment}: slides show an exercise stub"
    answers = model_answer_runs(assignment) & runs_of(text)
    assert not answers, f"{assignment}: slides quote a model answer: {sorted(answers)[:2]}"


@pytest.fixture(scope="module")
def text_slides(tmp_path_factory) -> Path:
    """Slides of every lesson, text and code only (no executed masters needed)."""
    out = tmp_path_factory.mktemp("slides")
    output = io.StringIO()
    with redirect_stdout(output):
        assert main(["slides", "--out", str(out), "--no-outputs"]) == 0
    assert f"wrote {out / 'index.html'}" in output.getvalue()
    return out


@pytest.mark.parametrize("assignment", MASTERS)
def test_slides_build_for_every_lesson_and_hold_no_solution(text_slides, assignment):
    page = (text_slides / f"{assignment}.slides.html").read_text(encoding="utf-8")
    assert "Reveal.initialize" in page and '<div class="reveal">' in page
    sections = page.count("<section")
    assert sections >= 8, f"{assignment}: only {sections} slides"
    title = re.search(r"<title>(.*?) slides</title>", page)
    assert title and title.group(1) in text_of(
        (text_slides / "index.html").read_text(encoding="utf-8")
    )
    assert "CC BY 4.0" in page and "Sayan Chaki" in page
    assert_holds_nothing_secret(assignment, page)


def test_the_leak_check_catches_a_slide_built_from_the_master(tmp_path, monkeypatch):
    """Built from the master with every cell kept, the check above must fail."""
    assignment = "05_value_engine"
    for folder in ("solutions", "course"):
        shutil.copytree(ROOT / folder / assignment, tmp_path / folder / assignment)
    shutil.copy(master(assignment).path, tmp_path / "course" / assignment)
    monkeypatch.setattr("grader.slides.shown", lambda master_cell, cell: True)
    (lesson,) = build_slides(tmp_path, [assignment], tmp_path / "out", outputs=False)
    with pytest.raises(AssertionError, match="solution or hidden-test lines"):
        assert_holds_nothing_secret(assignment, lesson.path.read_text(encoding="utf-8"))


def test_every_lesson_section_is_on_a_slide(text_slides):
    for assignment in MASTERS:
        text = " ".join(text_of((text_slides / f"{assignment}.slides.html").read_text()).split())
        for cell in master(assignment).cells:
            heading = re.match(r"^##\s+(.+)$", cell.source.splitlines()[0] if cell.source else "")
            if cell.cell_type == "markdown" and heading and "$" not in heading.group(1):
                plain = re.sub(r"[`*]", "", heading.group(1)).strip()
                assert plain in text, f"{assignment}: section {plain!r} has no slide"


def test_slides_with_executed_outputs_keep_figures_and_no_secrets(tmp_path):
    """Run one master as `--execute` would and build its slides with the demo outputs."""
    assignment = "03_forward_mode"
    for folder in ("solutions", "course"):
        shutil.copytree(ROOT / folder / assignment, tmp_path / folder / assignment)
    (lesson,) = build_slides(tmp_path, [assignment], tmp_path / "out", execute=True)
    assert lesson.with_outputs and (tmp_path / "build/solutions" / f"{assignment}.ipynb").is_file()
    page = lesson.path.read_text(encoding="utf-8")
    assert "data:image/png;base64," in page, "the demo figure is missing"
    assert_holds_nothing_secret(assignment, page)
    assert "Traceback" not in page and "Warning:" not in page


def test_outputs_are_only_taken_for_released_demo_cells(tmp_path):
    """An executed copy whose exercise or test cells have outputs contributes none of them."""
    assignment = "05_value_engine"
    lesson = master(assignment)
    release = nbformat.read(ROOT / "course" / assignment / f"{assignment}.ipynb", as_version=4)
    executed = nbformat.read(lesson.path, as_version=4)
    for cell in executed.cells:
        if cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="SECRET-OUT")]
    slides = slide_notebook(lesson, release, executed)
    on_slides = {cell.source for cell in slides.cells}
    released = {
        cell.metadata["nbgrader"]["grade_id"]: cell.source
        for cell in release.cells
        if "nbgrader" in cell.metadata
    }
    for cell in lesson.cells:
        if cell.is_exercise or cell.is_graded_test or cell.is_written_answer or cell.is_setup:
            assert released[cell.grade_id] not in on_slides, f"{cell.grade_id} is on a slide"
    demos = [cell for cell in slides.cells if cell.cell_type == "code"]
    assert demos, "no demo cell on the slides"
    assert all([o.text for o in c.outputs] == ["SECRET-OUT"] for c in demos), "outputs lost"
    stderr = nbformat.v4.new_output("stream", name="stderr", text="a warning")
    error = nbformat.v4.new_output("error", ename="E", evalue="boom", traceback=[])
    widget = nbformat.v4.new_output(
        "display_data",
        data={"application/vnd.jupyter.widget-view+json": {"model_id": "x"}, "text/plain": "w"},
    )
    for cell in executed.cells:
        cell.outputs = [stderr, error, widget] if cell.cell_type == "code" else []
    slides = slide_notebook(lesson, release, executed)
    assert not any(c.outputs for c in slides.cells if c.cell_type == "code")


def test_offline_slides_reference_nothing_on_the_network(tmp_path):
    node_modules = tmp_path / "node_modules"
    for source in ASSET_SOURCES.values():
        (node_modules / source).mkdir(parents=True)
    for part in ("dist", "plugin/notes"):
        (node_modules / "reveal.js" / part).mkdir(parents=True, exist_ok=True)
    (node_modules / "reveal.js/dist/reveal.js").write_text("// stand-in")
    for name in ("requirejs/require.js", "jquery/dist/jquery.min.js"):
        (node_modules / name).rmdir()
        (node_modules / name).write_text("// stand-in")
    (node_modules / "mathjax/MathJax.js").write_text("// stand-in")
    out = tmp_path / "out"
    (lesson,) = build_slides(
        ROOT, ["04_computational_graphs"], out, outputs=False, assets=node_modules
    )
    page = lesson.path.read_text(encoding="utf-8")
    loads = re.findall(r"""<(?:script|link|img)\b[^>]*(?:src|href)=["']([^"']+)["']""", page)
    loads += re.findall(r"""import \w+ from ['"]([^'"]+)['"]""", page)
    loads += re.findall(r'"([^"]+\.js)"', page)
    remote = [url for url in loads if re.match(r"https?:|//", url)]
    assert not remote, f"offline slides still load {remote}"
    assert (out / "_assets/reveal.js/dist/reveal.js").is_file()
    assert (out / "_assets/mathjax/MathJax.js").is_file()


def test_missing_assets_say_how_to_get_them(tmp_path, capsys):
    code = main(
        [
            "slides",
            "01_finite_differences",
            "--out",
            str(tmp_path),
            "--assets",
            str(tmp_path / "nothing"),
        ]
    )
    assert code == 2
    assert "make slides-offline" in capsys.readouterr().err


# --- rubrics -----------------------------------------------------------------------------

RUBRIC_HEADING = re.compile(
    r"^### (?P<lesson>\d\d_\w+) · `(?P<grade_id>[\w-]+)` \((?P<points>[\d.]+) points?\)\s*$"
)


def rubrics() -> dict[tuple[str, str], tuple[float, list[tuple[str, float]]]]:
    """(lesson, grade_id) -> (stated points, [(criterion, points)]) from rubrics.md."""
    found: dict[tuple[str, str], tuple[float, list[tuple[str, float]]]] = {}
    key = None
    for line in (KIT / "rubrics.md").read_text(encoding="utf-8").splitlines():
        heading = RUBRIC_HEADING.match(line)
        if heading:
            key = (heading["lesson"], heading["grade_id"])
            assert key not in found, f"two rubrics for {key}"
            found[key] = (float(heading["points"]), [])
        elif line.startswith("#"):
            key = None
        elif key and line.startswith("|"):
            cells = cells_of(line)
            if len(cells) >= 2 and re.fullmatch(r"\d+(\.\d+)?", cells[-1]):
                found[key][1].append((cells[0], float(cells[-1])))
    return found


def test_every_written_question_has_a_rubric_summing_to_its_points():
    written = {
        (assignment, cell.grade_id): cell.points
        for assignment in MASTERS
        for cell in master(assignment).written_answers
    }
    assert len(written) >= len(MASTERS)
    found = rubrics()
    assert set(found) == set(written), (
        f"no rubric: {sorted(set(written) - set(found))}; "
        f"no such question: {sorted(set(found) - set(written))}"
    )
    for key, (stated, criteria) in found.items():
        assert stated == written[key], f"{key}: heading says {stated}, the master {written[key]}"
        assert len(criteria) >= 2, f"{key}: a rubric needs at least two criteria"
        total = sum(points for _, points in criteria)
        assert total == pytest.approx(written[key]), f"{key}: criteria add up to {total}"
        assert all(points > 0 and len(text) > 15 for text, points in criteria), key


# --- syllabus -----------------------------------------------------------------------------


def table_rows(text: str, header: str, column: int = 0) -> list[list[str]]:
    """The rows of the Markdown tables whose header has ``header`` in that ``column``."""
    rows, inside = [], False
    for line in text.splitlines():
        cells = cells_of(line)
        if line.startswith("|") and cells[column].lower() == header:
            inside = True
        elif inside and line.startswith("|"):
            if not set(cells[0]) <= set("-: "):
                rows.append(cells)
        else:
            inside = False
    return rows


def test_syllabus_points_are_the_masters_points():
    rows = {row[0]: row for row in table_rows(SYLLABUS.read_text(encoding="utf-8"), "assignment")}
    total_auto = total_written = 0.0
    for assignment in MASTERS:
        lesson = master(assignment)
        auto = sum(cell.points for cell in lesson.graded_tests)
        written = sum(cell.points for cell in lesson.written_answers)
        row = rows.get(f"`{assignment}`")
        assert row, f"the syllabus's assessment table has no row for {assignment}"
        numbers = [float(cell) for cell in row[1:4]]
        assert numbers == [auto, written, auto + written], f"{assignment}: {row}"
        total_auto, total_written = total_auto + auto, total_written + written
    total = rows.get("**total**")
    assert total and [float(c.strip("*")) for c in total[1:4]] == [
        total_auto,
        total_written,
        total_auto + total_written,
    ]


def test_syllabus_paces_a_12_to_14_week_term_citing_real_deck_slides():
    weeks = table_rows(SYLLABUS.read_text(encoding="utf-8"), "week")
    numbers = [int(row[0]) for row in weeks]
    assert numbers == list(range(1, len(numbers) + 1)) and 12 <= len(numbers) <= 14
    taught = {lesson for row in weeks for lesson in re.findall(r"\b0\d_[a-z_]+", row[1])}
    assert taught == set(MASTERS)
    cited = 0
    for row in weeks:
        for number, title in re.findall(CITATION, row[2]):
            assert DECK.get(int(number)) == title, f"week {row[0]}: slide {number} is not {title!r}"
            cited += 1
        hours = [float(h) for h in re.findall(r"[\d.]+", row[3])]
        assert hours and all(0 < h <= 6 for h in hours), f"week {row[0]}: hours {row[3]!r}"
    assert cited >= 20, "the syllabus cites too few deck slides"
    cited_numbers = {int(n) for row in weeks for n, _ in re.findall(CITATION, row[2])}
    assert set(range(3, 24)) <= cited_numbers, "a deck slide is taught in no week"


def test_deck_slide_titles_are_the_seed_decks():
    """The titles the syllabus cites are the deck's, as docs/deck-checklist.md records them
    (the checklist is the repository's copy of the seed deck's slide list)."""
    checklist = (ROOT / "docs" / "deck-checklist.md").read_text(encoding="utf-8")
    titles = {row[1] for row in table_rows(checklist, "#")}
    missing = [title for page, title in DECK.items() if page >= 3 and title not in titles]
    assert not missing, f"not slide titles of the deck: {missing}"


# --- guide -------------------------------------------------------------------------------


def guide_sections() -> dict[str, str]:
    text = (KIT / "guide.md").read_text(encoding="utf-8")
    parts = re.split(r"^## Lesson (\d\d)\b.*$", text, flags=re.MULTILINE)
    return {number: body for number, body in zip(parts[1::2], parts[2::2], strict=True)}


def test_guide_has_misconceptions_activities_and_timings_per_lesson():
    sections = guide_sections()
    hours = {}
    for row in table_rows(SYLLABUS.read_text(encoding="utf-8"), "week"):
        for lesson in re.findall(r"\b(0\d)_[a-z_]+", row[1]):
            hours[lesson] = hours.get(lesson, 0.0) + float(re.findall(r"[\d.]+", row[3])[0])
    assert sorted(sections) == sorted(a[:2] for a in MASTERS)
    for number, body in sections.items():
        for part in ("### Misconceptions to watch", "### In-class activities", "### Timings"):
            assert part in body, f"lesson {number}: no {part!r}"
        misconceptions = re.search(r"### Misconceptions to watch\n(.*?)\n###", body, re.DOTALL)
        assert misconceptions and misconceptions.group(1).count("\n- ") >= 3
        minutes = [
            int(row[-1]) for row in table_rows(body, "minutes", column=-1) if row[-1].isdigit()
        ]
        assert sum(minutes) == round(60 * hours[number]), (
            f"lesson {number}: timings add up to {sum(minutes)} min, the syllabus gives "
            f"{hours[number]} h of class"
        )


# --- licences and attribution -------------------------------------------------------------


def test_lesson_text_is_cc_by_and_code_mit():
    content = (ROOT / "LICENSE-CONTENT").read_text(encoding="utf-8")
    assert "Creative Commons Attribution 4.0 International" in content
    assert "https://creativecommons.org/licenses/by/4.0/legalcode" in content
    assert "MIT License" in (ROOT / "LICENSE").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    licence = readme.split("## Licence", 1)[1]
    for needle in ("CC BY 4.0", "LICENSE-CONTENT", "MIT", "LICENSE", "Sayan Chaki"):
        assert needle in licence, f"README's Licence section does not name {needle}"
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'license-files = \[[^\]]*"LICENSE-CONTENT"', pyproject)
    attribution = (KIT / "attribution.md").read_text(encoding="utf-8")
    assert "Autograd, Computational Graphs and Vanishing Gradients" in attribution
    assert "Sayan Chaki" in attribution and "March 20, 2025" in attribution
