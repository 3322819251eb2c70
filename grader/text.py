"""Student-controlled text made safe for the places it reaches.

Anything a submission controls (folder names, printed output, exception messages, values its
code returns) can reach a message, a report, a CSV cell, a terminal line or an HTML page. Each
destination gets the text through one of these functions: bounded, without control or escape
characters (ANSI sequences, bidirectional overrides), and neutralised for spreadsheets.
"""

from __future__ import annotations

import re
import unicodedata

# C0 and C1 controls except tab and newline, DEL, and the bidirectional/invisible formatting
# characters that can make a line read differently from what it holds.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?")
_CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def clean(text: object, limit: int = 500) -> str:
    """``text`` as a string of at most ``limit`` characters, without control characters.

    >>> clean("ok\\x1b[31m red\\u202e", 40)
    'ok red'
    >>> clean("x" * 10, 8)
    'xxxxx...'
    """
    try:
        value = text if isinstance(text, str) else str(text)
    except Exception:  # an object whose __str__ fails
        value = "<unprintable>"
    value = _ANSI.sub("", value[: limit * 4])
    value = _UNSAFE.sub("", unicodedata.normalize("NFC", value))
    if len(value) > limit:
        value = value[: max(limit - 3, 0)] + "..."
    return value


def one_line(text: object, limit: int = 300) -> str:
    """``clean`` text on a single line (newlines and tabs become spaces): terminals, logs."""
    return clean(re.sub(r"[\t\r\n]+", " ", clean(text, limit * 2)), limit)


def csv_cell(text: object, limit: int = 2000) -> str:
    """A CSV cell a spreadsheet shows as text, never runs as a formula.

    >>> csv_cell("=HYPERLINK(\\"http://x\\")"), csv_cell("+1+1"), csv_cell("jane")
    ('\\'=HYPERLINK("http://x")', "'+1+1", 'jane')
    """
    value = clean(text, limit)
    if value.startswith(_CSV_FORMULA_START):
        return "'" + value
    return value
