"""The course's figure style: curves told apart by line style as well as by colour.

Every lesson calls :func:`use_course_style` before its first figure. Its colours are the
Okabe-Ito palette (Okabe and Ito 2008, "Color Universal Design"), told apart by readers with
every common form of colour blindness; each colour comes with its own line style, so a curve is
found by its dashes too, and in print. Marker shapes cannot go into matplotlib's property cycle
(histograms share it and have no markers): a lesson that draws points passes ``marker=``
itself, from :data:`MARKERS`.

Example:
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> use_course_style()
    >>> import matplotlib.pyplot as plt
    >>> first, second = plt.gca().plot([0, 1])[0], plt.gca().plot([1, 0])[0]
    >>> first.get_linestyle() != second.get_linestyle()
    True
"""

from __future__ import annotations

from typing import Any

__all__ = ["COLORS", "LINE_STYLES", "MARKERS", "course_style", "use_course_style"]

#: Okabe-Ito: blue, vermillion, bluish green, reddish purple, orange, sky blue, black.
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
#: One dash pattern per colour, in the same order.
LINE_STYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 3)), (0, (8, 2)))
#: Marker shapes for points, in the order a lesson should use them.
MARKERS = ("o", "s", "^", "D", "v", "P", "X")


def course_style(figsize: tuple[float, float] = (7.0, 4.0)) -> dict[str, Any]:
    """The course's matplotlib settings (``rcParams``), as a dict; ``figsize`` in inches."""
    from cycler import cycler

    return {
        "axes.prop_cycle": cycler(color=list(COLORS)) + cycler(linestyle=list(LINE_STYLES)),
        "image.cmap": "viridis",  # perceptually uniform, readable in grey
        "figure.figsize": figsize,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "legend.framealpha": 0.9,
        "lines.linewidth": 1.8,
    }


def use_course_style(figsize: tuple[float, float] = (7.0, 4.0)) -> None:
    """Apply :func:`course_style` to matplotlib's settings for the rest of the session."""
    import matplotlib.pyplot as plt

    plt.rcParams.update(course_style(figsize))
