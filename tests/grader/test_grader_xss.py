"""Stored XSS: HTML a student writes runs neither in the feedback nor in the formgrader.

One submission is full of payloads (markdown, raw cells, attachments, outputs, metadata, MathJax);
each payload's script would tell on itself: set ``window.PWNED``, set the title to ``PWNED`` and
ask a local HTTP server (run by the test) for ``/<payload name>``. The batch is graded with
``grader.batch.autograde`` and ``grader.course.generate_feedback``; then

- the autograded notebook and the feedback HTML hold none of the payloads' markers;
- the feedback page, opened in headless Chromium, and the formgrader's page of that submission,
  served by a real JupyterLab with nbgrader's formgrader on the course directory, ran nothing
  (no marker, no request to the server, no dialog, no active element or attribute left), and
  still show the written answer's legitimate text and math;
- an honest written answer (markdown, math, a table, code) is kept exactly as written.
"""

from __future__ import annotations

import base64
import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import kit  # noqa: E402
import nbformat
import pytest

pytestmark = pytest.mark.xdist_group("browser")

ASSIGNMENT = kit.ASSIGNMENT
LEGIT = "LEGIT-ANSWER: a node's gradient is complete once every consumer has sent its share"
HONEST_ANSWER = f"""{LEGIT}.

The chain rule, $\\frac{{\\partial L}}{{\\partial x}} =
\\sum_i \\frac{{\\partial L}}{{\\partial y_i}} \\frac{{\\partial y_i}}{{\\partial x}}$,
needs **every** term, and `a < b` holds.

| node | visited |
|:-----|--------:|
| out  | first   |

```python
order = reversed(topological_order)  # 1 < 2
```
"""
# a 1x1 PNG
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9"
PNG += "awAAAABJRU5ErkJggg=="
SVG = "http://www.w3.org/2000/svg"
# What the sanitised pages must not contain anywhere (case-insensitive).
MARKERS = ("onerror", "onload", "onfocus", "ontoggle", "javascript:", "pwned", "srcdoc", "<script")


def js(name: str, port: int) -> str:
    """Script that tells on itself: a marker on the page and a request to the collector.

    It has no space, so that it is one markdown link target.
    """
    return f"top.PWNED='{name}';top.document.title='PWNED';fetch('http://127.0.0.1:{port}/{name}')"


def markdown_payloads(port: int) -> dict[str, str]:
    """Raw HTML, links and MathJax in markdown, by name."""
    url = f"http://127.0.0.1:{port}"
    script_page = base64.b64encode(f"<script>{js('data_page', port)}</script>".encode()).decode()
    return {
        "script": f"<script>{js('script', port)}</script>",
        "img_onerror": f'<img src="x" onerror="{js("img_onerror", port)}">',
        "svg_onload": f'<svg onload="{js("svg_onload", port)}"><circle r="5"/></svg>',
        "iframe_srcdoc": f'<iframe srcdoc="<script>{js("iframe_srcdoc", port)}</script>"></iframe>',
        "iframe_src": f'<iframe src="{url}/iframe_src"></iframe>',
        "a_javascript": f'<a id="a-js" href="javascript:{js("a_javascript", port)}">raw link</a>',
        "a_tab_javascript": f'<a href="java&#x09;script:{js("a_tab", port)}">tab link</a>',
        "md_javascript": f"[markdown link](javascript:{js('md_javascript', port)})",
        "md_data": f"[data link](data:text/html;base64,{script_page})",
        "style_overlay": "<style>body { display: none }</style>"
        '<div style="position:fixed;top:0;left:0;width:100%;height:100%">overlay</div>',
        "form": f'<form action="javascript:{js("form", port)}"><button id="go">go</button></form>',
        "meta_refresh": f'<meta http-equiv="refresh" content="0;url={url}/meta_refresh">',
        "object": f'<object data="{url}/object"></object><embed src="{url}/embed">',
        "base": f'<base href="{url}/base/"><link rel="stylesheet" href="{url}/link">',
        "details_ontoggle": f'<details open ontoggle="{js("details_ontoggle", port)}">d</details>',
        "input_onfocus": f'<input autofocus onfocus="{js("input_onfocus", port)}">',
        "mxss_math": "<math><mtext><table><mglyph><style><img src=x "
        f'onerror="{js("mxss_math", port)}">',
        "noscript": f'<noscript><p title="</noscript><img src=x onerror={js("noscript", port)}>">',
        "comment": f"<!--> <img src=x onerror={js('comment', port)}> -->",
        "mathjax_href": f"$\\href{{javascript:{js('mathjax_href', port)}}}{{x}}$",
    }


def payload_submission(root: Path, port: int) -> nbformat.NotebookNode:
    """The released notebook answered with payloads in every place a student controls."""
    payloads = markdown_payloads(port)
    printed = f"<script>{js('stdout', port)}</script><img src=x onerror={js('stdout_img', port)}>"
    notebook = kit.submission(root, kit.wrong_tanh(root) + f"\nprint({printed!r})\n")
    kit.cell(notebook, "answer_order").source = (
        HONEST_ANSWER + "\n\n" + "\n\n".join(payloads.values())
    )
    added = nbformat.v4.new_markdown_cell(
        "Attachments: ![ok](attachment:ok.png) ![evil](attachment:evil.html)\n\n"
        + "\n\n".join(payloads.values()),
        attachments={
            "ok.png": {"image/png": PNG},
            "evil.html": {"text/html": base64.b64encode(payloads["script"].encode()).decode()},
        },
    )
    added.metadata["tags"] = [f'"><script>{js("tag", port)}</script>']
    raw = nbformat.v4.new_raw_cell(payloads["script"] + payloads["img_onerror"])
    raw.metadata.update({"format": "text/html", "raw_mimetype": "text/html"})
    code = nbformat.v4.new_code_cell("print('student code cell')")
    code.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={
                "text/html": payloads["script"] + payloads["img_onerror"],
                "application/javascript": js("output_js", port),
                "image/svg+xml": f'<svg xmlns="{SVG}" onload="{js("out_svg", port)}"/>',
                "text/markdown": payloads["md_javascript"],
                "text/plain": "plain",
            },
            metadata={"text/html": {"isolated": True}},
        )
    ]
    notebook.cells[1:1] = [added, raw, code]
    notebook.metadata["title"] = f"</title><script>{js('title', port)}</script>"
    notebook.metadata["widgets"] = {
        "application/vnd.jupyter.widget-state+json": {"state": {}, "version_major": 2}
    }
    return notebook


class Collector(http.server.BaseHTTPRequestHandler):
    """Records every path asked for (a payload's script reporting that it ran)."""

    requests: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        Collector.requests.append(self.path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def collector() -> Iterator[http.server.HTTPServer]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def attacked(tmp_path_factory, collector) -> dict:
    """A course with an attacker's and an honest submission, graded and with feedback."""
    from grader.batch import autograde
    from grader.course import generate_feedback

    base = tmp_path_factory.mktemp("xss")
    root = kit.make_course(base / "course")
    port = collector.server_address[1]
    incoming = base / "incoming"
    kit.write(payload_submission(root, port), incoming / "attacker" / f"{ASSIGNMENT}.ipynb")
    (incoming / "attacker" / "evil.html").write_text(markdown_payloads(port)["script"])
    honest = kit.submission(root, kit.wrong_tanh(root))
    kit.cell(honest, "answer_order").source = HONEST_ANSWER
    kit.write(honest, incoming / "honest" / f"{ASSIGNMENT}.ipynb")
    reports = autograde(root, ASSIGNMENT, incoming, workers=2, progress=False)
    generate_feedback(root, ASSIGNMENT)
    return {"root": root, "port": port, "reports": {r["student"]: r for r in reports}}


def autograded(root: Path, student: str) -> Path:
    return root / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


def feedback(root: Path, student: str) -> Path:
    return root / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"


def test_payloads_are_graded_like_the_honest_wrong_code(attacked):
    attacker, honest = attacked["reports"]["attacker"], attacked["reports"]["honest"]
    assert attacker["score"] == honest["score"] == 1.0
    assert not attacker["flagged"]


class ActiveHTML(HTMLParser):
    """What in an HTML page could run or load something: tags, attributes, script bodies."""

    ACTIVE_TAGS = {"iframe", "object", "embed", "form", "base", "input", "svg", "math", "link"}

    def __init__(self, port: int) -> None:
        super().__init__()
        self.port, self.found, self._in_script = str(port), [], False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_script = tag in ("script", "style", "title")
        if tag in self.ACTIVE_TAGS or (tag == "meta" and dict(attrs).get("http-equiv")):
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            value = (value or "").lower().replace("\t", "").replace("\n", "")
            if name.startswith("on") or name == "srcdoc":
                self.found.append(f"<{tag} {name}>")
            elif value.startswith(("javascript:", "data:text", "vbscript:")):
                self.found.append(f"<{tag} {name}={value[:30]}>")

    def handle_data(self, data: str) -> None:
        if self._in_script and (self.port in data or "PWNED" in data or "display: none" in data):
            self.found.append(f"script/style/title text {data[:60]!r}")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False


def active_html(html: str, port: int) -> list[str]:
    parser = ActiveHTML(port)
    parser.feed(html)
    parser.close()
    return parser.found


def rendered_parts(notebook: nbformat.NotebookNode) -> list[str]:
    """Every part of a notebook a template renders as HTML (not code or stream text)."""
    parts = [json.dumps(notebook.metadata)]
    for cell in notebook.cells:
        parts.append(json.dumps(cell.metadata) + json.dumps(cell.get("attachments", {})))
        if cell.cell_type != "code":
            parts.append(cell.source)
        parts += [
            json.dumps(o.get("data", {})) + json.dumps(o.get("metadata", {}))
            for o in cell.get("outputs", [])
        ]
    return parts


def test_autograded_notebook_holds_no_payload(attacked):
    notebook = kit.read(autograded(attacked["root"], "attacker"))
    for part in rendered_parts(notebook):
        for marker in MARKERS:
            assert marker not in part.lower(), (marker, part[:300])
    assert LEGIT in kit.cell(notebook, "answer_order").source


def test_feedback_html_holds_nothing_active(attacked):
    html = feedback(attacked["root"], "attacker").read_text()
    print("FOUND", active_html(html, attacked["port"]))
    assert active_html(html, attacked["port"]) == []
    assert LEGIT.replace("'", "&#39;") in html or LEGIT in html


def test_an_honest_written_answer_is_kept_as_written(attacked):
    cell = kit.cell(kit.read(autograded(attacked["root"], "honest")), "answer_order")
    assert cell.source == HONEST_ANSWER


# Run in the page after load: what of the student's content could still run, and what it did.
PAGE_STATE = """() => {
  const root = document.querySelector('#notebook-container') || document.body;
  const active = [];
  const tags = ['SCRIPT', 'IFRAME', 'OBJECT', 'EMBED', 'FORM', 'BASE', 'META', 'LINK', 'SVG',
                'MATH', 'STYLE'];
  for (const element of root.querySelectorAll('*')) {
    if (tags.includes(element.tagName.toUpperCase())) active.push(element.tagName);
    for (const attribute of element.attributes) {
      const value = attribute.value.replace(/[\\s\\x00-\\x1f]/g, '').toLowerCase();
      if (attribute.name.startsWith('on') || attribute.name === 'srcdoc'
          || /^(javascript|vbscript|data:text)/.test(value)) {
        active.push(`${element.tagName} ${attribute.name}=${value.slice(0, 40)}`);
      }
    }
  }
  for (const link of root.querySelectorAll('a')) {
    if (!/^(https?|file|mailto):/.test(link.href || 'none:')) link.click();
  }
  return {active, text: root.innerText,
          hidden: getComputedStyle(document.body).display === 'none'};
}"""
RAN = "() => ({pwned: window.PWNED || null, title: document.title, url: location.href})"


def open_and_inspect(page, url: str) -> dict:
    """Load ``url``, let any payload fire (and click the links), report what the page shows
    and which payloads reported to the collector."""
    Collector.requests.clear()
    page.goto(url, wait_until="load")
    page.wait_for_timeout(500)
    state = page.evaluate(PAGE_STATE)
    page.wait_for_timeout(500)
    return {**state, **page.evaluate(RAN), "requests": sorted(set(Collector.requests))}


@pytest.fixture
def browser(tmp_path):
    """A headless Chromium page that reaches only this machine; records dialogs."""
    from browser_support import chromium_page, local_requests_only
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright, chromium_page(playwright, tmp_path / "profile") as page:
        page.dialogs = []
        page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
        local_requests_only(page)
        yield page


def assert_nothing_ran(state: dict, page, url: str) -> None:
    assert state["active"] == []
    assert state["pwned"] is None and "PWNED" not in state["title"]
    assert state["url"] == url and not state["hidden"] and page.dialogs == []
    assert state["requests"] == []
    assert LEGIT in state["text"]


def test_the_payloads_run_in_a_page_rendered_without_the_sanitiser(attacked, browser, tmp_path):
    """The check can see a payload run: nbconvert's plain HTML of the submission runs them."""
    from nbconvert import HTMLExporter

    submitted = attacked["root"] / "submitted" / "attacker" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    html, _ = HTMLExporter().from_filename(str(submitted))
    page = tmp_path / "unsanitised.html"
    page.write_text(html)
    state = open_and_inspect(browser, page.as_uri())
    assert state["pwned"] and state["title"] == "PWNED"
    assert {"/script", "/img_onerror", "/svg_onload", "/a_javascript"} <= set(state["requests"])


def test_feedback_page_runs_nothing_in_chromium(attacked, browser):
    url = feedback(attacked["root"], "attacker").as_uri()
    state = open_and_inspect(browser, url)
    assert_nothing_ran(state, browser, url)
    assert "needs every term" in state["text"].replace("\n", " ")


def test_formgrader_page_runs_nothing_in_chromium(attacked, browser, tmp_path):
    from browser_support import ROOT, jupyter_lab
    from nbgrader.api import Gradebook

    root = attacked["root"]
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, "attacker").id
    with jupyter_lab(root, tmp_path) as base:
        url = f"{base}/formgrader/submissions/{submission}/"
        state = open_and_inspect(browser, url)
        assert_nothing_ran(state, browser, url)
        assert "Student's answer" in state["text"]
        extra = browser.goto(f"{url}evil.html")
        assert extra.status == 404  # only the notebook of a submission reaches autograded/


def test_rendering_sanitises_a_notebook_that_skipped_the_autograde_step(attacked, tmp_path):
    """Second line of defence: the submitted notebook, payloads intact, put where the autograded
    one goes, renders inert in the feedback and through the formgrader's exporter."""
    from nbconvert import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers

    from grader.course import generate_feedback
    from grader.nbgrader_setup import course_config

    root = shutil.copytree(attacked["root"], tmp_path / "course")
    raw = root / "submitted" / "attacker" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    shutil.copy(raw, autograded(root, "attacker"))
    generate_feedback(root, ASSIGNMENT)
    assert active_html(feedback(root, "attacker").read_text(), attacked["port"]) == []

    config = course_config(root)
    config.HTMLExporter.template_name = "formgrade"  # as nbgrader's formgrader sets it
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    exporter = HTMLExporter(config=config)
    resources = {"base_url": "", "index": 0, "total": 1, "notebook_id": ASSIGNMENT}
    html, _ = exporter.from_filename(str(raw), resources=resources)
    honest, _ = exporter.from_filename(str(autograded(root, "honest")), resources=resources)
    # the formgrader's own page (score inputs, its scripts and styles) is the honest page's
    assert active_html(html, attacked["port"]) == active_html(honest, attacked["port"])
    assert LEGIT.replace("'", "&#39;") in html or LEGIT in html
