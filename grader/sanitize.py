"""Student-written HTML made inert before anyone's browser renders it.

A submission's markdown, raw cells, outputs and metadata end up in two HTML pages: nbgrader's
feedback and the formgrader (served from the instructor's Jupyter origin, where script means
code execution as the instructor). Both are rendered by nbconvert from the autograded notebook,
so the defence is in two places:

1. :class:`SanitizeStudentHTML`, in the ``Autograde`` pipeline, rewrites the autograded notebook:
   a markdown cell whose rendering holds raw HTML or an unsafe link becomes the sanitised HTML of
   that rendering (ordinary markdown, math included, stays as it was written); raw cells are
   sanitised; outputs keep only inert MIME types; attachments only PNG/JPEG/GIF images; cell tags
   only word characters; notebook metadata only the kernel's.
2. At export (feedback and formgrader), the same preprocessor runs again, every ``markdown2html``
   result goes through :func:`clean_html` and nbconvert's ``sanitize_html`` drops script outputs,
   so a notebook that did not pass through (1) is made safe as well.

The sanitiser is ammonia (``nh3``): an allow-list of formatting tags, no event handler, no
``style`` or ``id``, and URLs only ``http``, ``https``, ``mailto``, relative, and ``data:`` PNG,
JPEG or GIF images in ``<img src>``.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import jinja2
import nh3
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbconvert.preprocessors import Preprocessor
from nbformat import from_dict
from traitlets import Bool

URL_SCHEMES = {"http", "https", "mailto"}
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif")
# What a display output may keep (the templates escape text/latex and embed images as data).
OUTPUT_TYPES = {"text/plain", "text/html", "text/latex", "image/png", "image/jpeg"}
NOTEBOOK_METADATA = ("kernelspec", "language_info")
CELL_TAG = re.compile(r"[\w-]{1,64}")
IMAGE_DATA_URL = re.compile(r"data:image/(png|jpeg|gif);base64,[A-Za-z0-9+/=\s]*", re.IGNORECASE)
URL_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):")
# Syntax highlighting classes (pygments' short token classes, ``highlight``, ``language-*``);
# long layout classes of the page's own CSS (``navbar-fixed-top``, ``modal``) are dropped.
HIGHLIGHT_CLASS = re.compile(r"[a-z][a-z0-9]{0,3}|highlight|anchor-link|language-[\w+#.-]{1,40}")
# MathJax commands that add links, styles, ids or load code: shown as text instead.
ACTIVE_TEX = re.compile(r"\\(href|class|cssId|style|require|unicode)(?![A-Za-z])")

_TAGS = set(nh3.ALLOWED_TAGS) - {"area", "map"}
_ATTRIBUTES = {
    **{tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()},
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": nh3.ALLOWED_ATTRIBUTES["th"] | {"style"},
    "td": nh3.ALLOWED_ATTRIBUTES["td"] | {"style"},
    "span": {"class"},
    "div": {"class"},
    "pre": {"class"},
    "code": {"class"},
}


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    """Keep only inert values of the attributes ``_ATTRIBUTES`` allows."""
    if attribute == "class":
        kept = [name for name in value.split() if HIGHLIGHT_CLASS.fullmatch(name)]
        return " ".join(kept) or None
    if attribute in ("href", "src"):
        return value if is_safe_url(value, image=tag == "img" and attribute == "src") else None
    return value


_CLEANER = nh3.Cleaner(
    tags=_TAGS,
    clean_content_tags={"script", "style"},
    attributes=_ATTRIBUTES,
    attribute_filter=_filter_attribute,
    url_schemes=URL_SCHEMES | {"data"},
    filter_style_properties={"text-align"},
)


def is_safe_url(url: str, image: bool = False) -> bool:
    """True for http(s), mailto and relative URLs (and PNG/JPEG/GIF data when ``image``).

    Browsers drop control characters and spaces from a URL before reading its scheme
    (``java\\tscript:`` is ``javascript:``), so they are dropped here too.
    """
    compact = re.sub(r"[\x00-\x20\x7f]", "", url)
    scheme = URL_SCHEME.match(compact.lower())
    if scheme is None:
        return True
    if scheme.group(1) == "data":
        return image and IMAGE_DATA_URL.fullmatch(url.strip()) is not None
    return scheme.group(1) in URL_SCHEMES


def clean_html(html: str) -> str:
    """``html`` with only inert formatting left (ammonia with the allow-list above)."""
    return _CLEANER.clean(html)


class _Renderer(IPythonRenderer):
    """nbconvert's markdown renderer; a reference to a missing attachment shows its alt text."""

    def image(self, text: str, url: str, title: str | None = None) -> str:
        if url.startswith("attachment:") and url[len("attachment:") :] not in self.attachments:
            return self.escape_html(text)
        return super().image(text, url, title)


def markdown_to_html(source: str, attachments: dict | None = None, escape: bool = False) -> str:
    """Markdown rendered as nbconvert renders it (``escape`` shows raw HTML as text)."""
    renderer = _Renderer(escape=escape, attachments=attachments or {})
    return MarkdownWithMath(renderer=renderer).render(source)


@jinja2.pass_context
def markdown2html(context: Any, source: str) -> str:
    """The exporters' ``markdown2html`` filter with its result sanitised (attachments kept)."""
    cell = context.get("cell", {})
    return clean_html(markdown_to_html(source, cell.get("attachments", {})))


class _LinkTargets(HTMLParser):
    """The ``(is_image_src, url)`` of every ``href`` and ``src`` in an HTML fragment."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[bool, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src"):
                self.urls.append((tag == "img" and name == "src", value or ""))


def _has_unsafe_url(html: str) -> bool:
    parser = _LinkTargets()
    parser.feed(html)
    parser.close()
    return not all(is_safe_url(url, image) for image, url in parser.urls)


def safe_markdown(source: str, attachments: dict | None = None) -> str:
    """Markdown whose rendering cannot run anything.

    Plain markdown (its rendering holds no raw HTML and only safe links) is returned as written;
    otherwise the sanitised HTML of its rendering, on one line so the markdown renderer passes
    it through unchanged as one HTML block (math stays as ``$...$`` text for MathJax). Applied
    again to its own result, it returns it unchanged.
    """
    source = ACTIVE_TEX.sub(r"\\mathrm{\1}", source)
    rendered = markdown_to_html(source, attachments)
    # raw HTML starts with "<"; where there is some, rendering it as text changes the result
    raw_html = "<" in source and rendered != markdown_to_html(source, attachments, escape=True)
    if not raw_html and not _has_unsafe_url(rendered):
        return source
    cleaned = _one_line(clean_html(rendered))
    if rendered.strip() == source == cleaned:
        return source
    return f"<div>{cleaned}</div>"


def _one_line(html: str) -> str:
    """``html`` on one line (newlines as character references, which HTML reads the same)."""
    return html.strip().replace("\n", "&#10;")


def safe_attachments(attachments: dict) -> dict:
    """Only PNG, JPEG and GIF images of a markdown cell's attachments."""
    kept = {}
    for name, bundle in attachments.items():
        images = {mime: data for mime, data in bundle.items() if mime in IMAGE_TYPES}
        if images:
            kept[name] = images
    return kept


def safe_output(output: Any) -> Any:
    """A code cell's output with only inert MIME types, HTML sanitised, no metadata."""
    if "data" not in output:
        return output  # stream and error text is escaped by every template
    data = {mime: value for mime, value in output.data.items() if mime in OUTPUT_TYPES}
    if "text/html" in data:
        html = data["text/html"]
        data["text/html"] = clean_html("".join(html) if isinstance(html, list) else html)
    output.data = from_dict(data)
    output.metadata = from_dict({})
    return output


class SanitizeStudentHTML(Preprocessor):
    """Make every piece of a notebook that a browser would render inert (see the module doc)."""

    enabled = Bool(True).tag(config=True)

    def preprocess(self, nb, resources):
        kept = {key: nb.metadata[key] for key in NOTEBOOK_METADATA if key in nb.metadata}
        nb.metadata = from_dict(kept)
        for cell in nb.cells:
            self._sanitize(cell)
        return nb, resources

    def _sanitize(self, cell) -> None:
        if "tags" in cell.metadata:
            cell.metadata.tags = [tag for tag in cell.metadata.tags if CELL_TAG.fullmatch(str(tag))]
        if cell.cell_type == "markdown":
            if "attachments" in cell:
                cell.attachments = safe_attachments(cell.attachments)
            cell.source = safe_markdown(cell.source, cell.get("attachments"))
        elif cell.cell_type == "raw":
            cell.source = clean_html(cell.source)
        elif cell.cell_type == "code":
            cell.outputs = [safe_output(output) for output in cell.outputs]
