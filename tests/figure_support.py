"""What a lesson's figures look like, read from the running kernel (lesson standards, "Figures").

:data:`PROBE` is a cell put first into a notebook before it runs: after every cell it records,
for each open figure, every labelled curve's colour, line style and marker and how many of
the axes' data points its legend covers, then closes the figures (as Jupyter's inline backend
does). :func:`readability_problems` reads the record.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

PROBE = r"""
def _figure_probe(result, _path={path!r}):
    import json
    import matplotlib.pyplot as plt
    from matplotlib.collections import PathCollection

    def _style(line):
        # get_linestyle() says "--" for every dash pattern: the pattern itself tells them apart
        return str(line.get_linestyle()) + str(getattr(line, "_unscaled_dash_pattern", ""))

    found = []
    for number in plt.get_fignums():
        figure = plt.figure(number)
        figure.canvas.draw()
        for ax in figure.axes:
            curves = [
                {{"label": line.get_label(), "kind": "line", "color": str(line.get_color()),
                  "style": _style(line), "marker": str(line.get_marker())}}
                for line in ax.get_lines() if not line.get_label().startswith("_")
            ]
            curves += [
                {{"label": points.get_label(), "kind": "points",
                  "color": str(points.get_facecolor()[:1].tolist()), "style": "",
                  "marker": str(points.get_paths()[0].vertices.round(2).tolist())}}
                for points in ax.collections
                if isinstance(points, PathCollection) and points.get_paths()
                and not points.get_label().startswith("_")
            ]
            covered = 0
            legend = ax.get_legend()
            if legend is not None:
                box = legend.get_window_extent()
                for line in ax.get_lines():
                    if len(line.get_xydata()):
                        x, y = ax.transData.transform(line.get_xydata()).T
                        inside = (x > box.x0) & (x < box.x1) & (y > box.y0) & (y < box.y1)
                        covered += int(inside.sum())
            found.append({{"title": ax.get_title(), "curves": curves, "covered": covered}})
    plt.close("all")
    if found:
        with open(_path, "a") as handle:
            handle.write(json.dumps({{"cell": result.info.raw_cell[:60], "axes": found}}) + "\n")


get_ipython().events.register("post_run_cell", _figure_probe)
"""


def probe_cell(record: Path) -> str:
    """The source of the probe cell, writing its record to ``record`` (JSON lines)."""
    return PROBE.format(path=str(record))


def readability_problems(record: Path) -> list[str]:
    """Axes whose labelled curves differ by colour alone, or whose legend covers data."""
    problems = []
    lines = record.read_text().splitlines() if record.exists() else []
    for entry in map(json.loads, lines):
        for ax in entry["axes"]:
            where = f"cell {entry['cell']!r}, axes {ax['title']!r}"
            looks = defaultdict(set)
            for curve in ax["curves"]:
                looks[(curve["kind"], curve["style"], curve["marker"])].add(curve["label"])
            for (kind, style, marker), labels in looks.items():
                if len(labels) > 1:
                    problems.append(
                        f"{where}: {sorted(labels)} are {kind}s with the same line style "
                        f"{style!r} and marker {marker[:20]!r}: told apart by colour alone"
                    )
            if ax["covered"]:
                problems.append(f"{where}: the legend covers {ax['covered']} data points")
    return problems
