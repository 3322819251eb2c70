"""autodiff_lib.scalar.viz.draw_graph: a pure-Python SVG of the graph, inline in Jupyter."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET

import pytest

from autodiff_lib import Value, draw_graph
from autodiff_lib.scalar.nn import Neuron

SVG = "{http://www.w3.org/2000/svg}"


def deck_graph() -> Value:
    x, y = Value(2.0, label="x"), Value(3.0, label="y")
    f = (x + y) * (x * y)
    f.label = "f"
    f.backward()
    return f


def boxes(svg: str) -> list[tuple[float, float, float, float]]:
    """(left, top, right, bottom) of every value box and op ellipse."""
    root = ET.fromstring(svg)
    shapes = []
    for rect in root.iter(f"{SVG}rect"):
        left, top = float(rect.get("x")), float(rect.get("y"))
        shapes.append((left, top, left + float(rect.get("width")), top + float(rect.get("height"))))
    for ellipse in root.iter(f"{SVG}ellipse"):
        cx, cy = float(ellipse.get("cx")), float(ellipse.get("cy"))
        rx, ry = float(ellipse.get("rx")), float(ellipse.get("ry"))
        shapes.append((cx - rx, cy - ry, cx + rx, cy + ry))
    return shapes


def overlapping(shapes) -> list:
    return [
        (a, b)
        for a, b in itertools.combinations(shapes, 2)
        if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
    ]


def test_deck_graph_shows_every_value_op_and_edge() -> None:
    drawing = draw_graph(deck_graph())
    assert (drawing.num_values, drawing.num_ops) == (5, 3)
    root = ET.fromstring(drawing.svg)  # well-formed XML
    assert len(list(root.iter(f"{SVG}rect"))) == 5
    assert len(list(root.iter(f"{SVG}ellipse"))) == 3
    assert len(list(root.iter(f"{SVG}path"))) == 1 + 9  # arrow marker + 3 ops x (2 in + 1 out)
    text = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    for expected in ("x  data 2", "y  data 3", "f  data 30", "grad 21", "grad 16", "+", "*"):
        assert expected in text
    assert drawing._repr_svg_() == drawing.svg == str(drawing)


def test_layers_run_from_inputs_to_output() -> None:
    svg = draw_graph(deck_graph()).svg
    centres = {}
    for group in ET.fromstring(svg).iter(f"{SVG}g"):
        label = " ".join(t.text or "" for t in group.iter(f"{SVG}text"))
        rect = group.find(f"{SVG}rect")
        if rect is not None:
            centres[label.split()[0]] = float(rect.get("x"))
    assert centres["x"] == centres["y"] < centres["f"]
    top_down = draw_graph(deck_graph(), rankdir="TB").svg
    ys = [float(r.get("y")) for r in ET.fromstring(top_down).iter(f"{SVG}rect")]
    assert max(ys) > min(ys)
    assert 'class="value root"' in top_down


def test_a_few_hundred_nodes_stay_legible_without_overlaps() -> None:
    neuron = Neuron(70, activation="tanh", rng=0)
    out = neuron([Value(0.1 * i) for i in range(70)])
    out.backward()
    drawing = draw_graph(out)
    assert drawing.num_values > 200
    assert overlapping(boxes(drawing.svg)) == []


def test_value_used_twice_gets_two_edges() -> None:
    x = Value(3.0, label="x")
    y = x * x
    svg = draw_graph(y).svg
    assert len(re.findall(r'<path class="edge"', svg)) == 3


def test_refuses_huge_graphs_with_a_hint() -> None:
    v = Value(1.0)
    for _ in range(400):
        v = v.tanh()
    with pytest.raises(ValueError, match="max_nodes=300"):
        draw_graph(v)
    assert draw_graph(v, max_nodes=500).num_values == 401


def test_bad_rankdir() -> None:
    with pytest.raises(ValueError, match="rankdir"):
        draw_graph(deck_graph(), rankdir="RL")


def test_save_writes_the_svg(tmp_path) -> None:
    drawing = draw_graph(deck_graph())
    path = drawing.save(tmp_path / "graph.svg")
    assert path.read_text(encoding="utf-8") == drawing.svg


def test_labels_are_escaped() -> None:
    svg = draw_graph(Value(1.0, label="<a & b>") * 2).svg
    ET.fromstring(svg)
    assert "&lt;a &amp; b&gt;" in svg


def test_draws_micrograd_values_too() -> None:
    from micrograd.engine import Value as MicrogradValue

    a = MicrogradValue(2.0)
    b = (a * 3 + 1).relu()
    b.backward()
    drawing = draw_graph(b)
    assert (drawing.num_values, drawing.num_ops) == (6, 3)  # a, 3, a * 3, 1, + 1, relu
    assert "ReLU" in drawing.svg


def test_long_edges_run_in_their_own_lane_not_through_boxes() -> None:
    x, y = Value(2.0, label="x"), Value(3.0, label="y")
    f = (x + y) * (x * y)
    out = (f * f).sigmoid() + x**2 - 2 * y / x.tanh()  # x**2 and the quotient skip layers
    out.backward()
    svg = draw_graph(out).svg
    shapes = boxes(svg)
    waypoints = []
    for d in re.findall(r'<path class="edge" d="([^"]+)"', svg):
        segments = d.split("C")[1:]
        for segment in segments[:-1]:  # the end of every segment but the last is a bend
            numbers = [float(t) for t in segment.split()]
            waypoints.append((numbers[-2], numbers[-1]))
    assert waypoints, "this graph has edges that skip layers"
    for px, py in waypoints:
        inside = [s for s in shapes if s[0] <= px <= s[2] and s[1] <= py <= s[3]]
        assert inside == [], f"a long edge passes through a box at ({px}, {py})"
