"""Draw a computational graph of :class:`~autodiff_lib.Value` nodes as SVG, in pure Python.

``draw_graph(root)`` returns a :class:`GraphDrawing` that JupyterLab shows inline (it has
``_repr_svg_``) and that can be saved with ``.save("graph.svg")``. No graphviz binary is needed:
the layout is a small layered ("Sugiyama-style") drawing done here:

1. **layers** by longest path from the inputs: an op sits one layer right of its deepest
   input and its result one layer right of the op; an input (leaf) sits just left of the first
   op that uses it, so constants do not drag long edges across the picture;
2. **order** within each layer by the barycenter heuristic (a node moves towards the mean
   position of its neighbours), a few sweeps left-to-right and right-to-left, which removes most
   edge crossings;
3. **draw** values as rounded boxes (label, data, grad), ops as circles (ellipses for long
   names), edges as curved arrows.

Any object with ``data``, ``grad``, ``_prev`` and ``_op`` attributes can be drawn, so
micrograd's ``Value`` works too.

Example:
    >>> from autodiff_lib import Value
    >>> x, y = Value(2.0, label="x"), Value(3.0, label="y")
    >>> f = (x + y) * (x * y)
    >>> f.backward()
    >>> drawing = draw_graph(f)
    >>> drawing.num_values, drawing.num_ops
    (5, 3)
    >>> drawing.svg.startswith("<svg")
    True
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autodiff_lib.core.topological import topological_order

DEFAULT_MAX_NODES = 300

_BOX_WIDTH = 150
_BOX_HEIGHT = 46
_OP_RADIUS = 17
_BEND_SIZE = 8  # the lane a long edge takes in each layer it crosses
_LAYER_GAP = 46  # between neighbouring layers
_NODE_GAP = 16  # between neighbours in one layer
_MARGIN = 12
_BARYCENTER_SWEEPS = 4

_STYLE = """
  .value rect { fill: #ffffff; stroke: #4a4a4a; stroke-width: 1.2; }
  .value.leaf rect { fill: #e8f1fb; }
  .value.root rect { fill: #fdf0d5; stroke-width: 2; }
  .op ellipse { fill: #f2f2f2; stroke: #4a4a4a; stroke-width: 1.2; }
  .edge { fill: none; stroke: #6b6b6b; stroke-width: 1.2; }
  text { font-family: Helvetica, Arial, sans-serif; font-size: 12px; fill: #1f1f1f; }
  .op text { font-size: 13px; font-weight: bold; }
  .grad { fill: #b0303a; }
"""


@dataclass
class GraphDrawing:
    """An SVG drawing of a computational graph; shown inline by Jupyter.

    Attributes:
        svg: the SVG document as a string.
        num_values: how many value nodes (boxes) it shows.
        num_ops: how many operation nodes (circles) it shows.
    """

    svg: str
    num_values: int
    num_ops: int

    def _repr_svg_(self) -> str:
        return self.svg

    def save(self, path: str | Path) -> Path:
        """Write the SVG to ``path`` (e.g. ``"graph.svg"``) and return the path."""
        path = Path(path)
        path.write_text(self.svg, encoding="utf-8")
        return path

    def __str__(self) -> str:
        return self.svg


@dataclass
class _Node:
    """One box (a value) or circle (an op) of the drawing, with its place in the layout."""

    key: str
    kind: str  # "value", "op", or "bend" (a point on a long edge)
    value: Any
    is_root: bool = False
    layer: int = 0
    position: float = 0.0  # order within the layer
    x: float = 0.0
    y: float = 0.0

    @property
    def width(self) -> float:
        if self.kind == "value":
            return _BOX_WIDTH
        if self.kind == "bend":
            return _BEND_SIZE
        return max(2 * _OP_RADIUS, 8 * len(str(self.value._op)) + 12)  # long names: an ellipse

    @property
    def height(self) -> float:
        sizes = {"value": _BOX_HEIGHT, "op": 2 * _OP_RADIUS, "bend": _BEND_SIZE}
        return sizes[self.kind]


def draw_graph(root: Any, rankdir: str = "LR", max_nodes: int = DEFAULT_MAX_NODES) -> GraphDrawing:
    """Draw the graph that produced ``root``: each value with its data and grad, each op.

    Args:
        root: the output :class:`~autodiff_lib.Value` (anything with ``data``, ``grad``,
            ``_prev``, ``_op``).
        rankdir: ``"LR"`` (inputs on the left) or ``"TB"`` (inputs at the top).
        max_nodes: refuse graphs with more values than this; past a few hundred nodes a
            drawing stops being readable.

    Returns:
        a :class:`GraphDrawing` (shown inline in Jupyter; ``.save(path)`` writes the SVG).

    Raises:
        ValueError: on an unknown ``rankdir`` or a graph with more than ``max_nodes`` values.
    """
    if rankdir not in ("LR", "TB"):
        raise ValueError(f'rankdir must be "LR" or "TB", got {rankdir!r}')
    values = _values_inputs_first(root, max_nodes)
    nodes, edges = _build_layout_graph(values, root)
    layers = _assign_layers(nodes, edges)
    routes = _route_long_edges(nodes, edges, layers)
    segments = [(a, b) for route in routes for a, b in zip(route, route[1:], strict=False)]
    _order_layers(layers, segments)
    width, height = _place(layers, rankdir)
    svg = _render(nodes, routes, width, height, rankdir)
    num_ops = sum(1 for node in nodes.values() if node.kind == "op")
    return GraphDrawing(svg=svg, num_values=len(values), num_ops=num_ops)


def _values_inputs_first(root: Any, max_nodes: int) -> list[Any]:
    """The values below ``root``, each after its children (the engines' backward order)."""
    order = topological_order(root, lambda value: value._prev)
    if len(order) > max_nodes:
        raise ValueError(
            f"the graph has more than max_nodes={max_nodes} values, too many to draw "
            "legibly. Draw a smaller piece (one neuron, one term of the loss), or pass "
            "draw_graph(root, max_nodes=...) to draw it anyway."
        )
    return order


def _build_layout_graph(
    values: list[Any], root: Any
) -> tuple[dict[str, _Node], list[tuple[str, str]]]:
    """Boxes for values, circles for ops; edges child -> op -> result (one per use)."""
    nodes: dict[str, _Node] = {}
    edges: list[tuple[str, str]] = []
    for value in values:  # inputs first, and each op before its result
        key = f"v{id(value)}"
        if value._op:
            op_key = f"o{id(value)}"
            nodes[op_key] = _Node(op_key, "op", value)
            edges.extend((f"v{id(child)}", op_key) for child in value._prev)
            edges.append((op_key, key))
        nodes[key] = _Node(key, "value", value)
    nodes[f"v{id(root)}"].is_root = True
    return nodes, edges


def _assign_layers(nodes: dict[str, _Node], edges: list[tuple[str, str]]) -> list[list[_Node]]:
    """Longest-path layering; leaves are then moved right, next to their first consumer."""
    inputs_of: dict[str, list[str]] = {key: [] for key in nodes}
    users_of: dict[str, list[str]] = {key: [] for key in nodes}
    for source, target in edges:
        inputs_of[target].append(source)
        users_of[source].append(target)
    for node in nodes.values():  # nodes are inputs-first: inputs get their layer first
        if node.kind == "op":
            node.layer = 1 + max((nodes[k].layer for k in inputs_of[node.key]), default=-1)
        elif inputs_of[node.key]:
            node.layer = nodes[inputs_of[node.key][0]].layer + 1
    for node in nodes.values():
        if node.kind == "value" and not inputs_of[node.key] and users_of[node.key]:
            node.layer = min(nodes[k].layer for k in users_of[node.key]) - 1
    depth = max(node.layer for node in nodes.values()) + 1
    layers: list[list[_Node]] = [[] for _ in range(depth)]
    for node in nodes.values():
        node.position = len(layers[node.layer])
        layers[node.layer].append(node)
    return layers


def _route_long_edges(
    nodes: dict[str, _Node], edges: list[tuple[str, str]], layers: list[list[_Node]]
) -> list[list[str]]:
    """Give an edge that skips layers a small "bend" node in each layer it crosses.

    The bends take part in ordering and placement like real nodes, so a long edge gets its own
    lane instead of cutting through the boxes in between. Returns each edge as its list of keys.
    """
    routes = []
    for source, target in edges:
        route = [source]
        for layer in range(nodes[source].layer + 1, nodes[target].layer):
            key = f"b{len(nodes)}"
            bend = _Node(key, "bend", None, layer=layer, position=len(layers[layer]))
            nodes[key] = bend
            layers[layer].append(bend)
            route.append(key)
        route.append(target)
        routes.append(route)
    return routes


def _order_layers(layers: list[list[_Node]], edges: list[tuple[str, str]]) -> None:
    """Barycenter heuristic: sort each layer by the mean position of its neighbours."""
    by_key = {node.key: node for layer in layers for node in layer}
    neighbours: dict[str, list[_Node]] = {key: [] for key in by_key}
    for source, target in edges:
        neighbours[source].append(by_key[target])
        neighbours[target].append(by_key[source])

    def barycenter(node: _Node, neighbour_layer: int) -> float:
        adjacent = [n.position for n in neighbours[node.key] if n.layer == neighbour_layer]
        return sum(adjacent) / len(adjacent) if adjacent else node.position

    def sweep(layer_indices: range, towards: int) -> None:
        for i in layer_indices:
            layers[i].sort(key=lambda node, i=i: barycenter(node, i + towards))
            for position, node in enumerate(layers[i]):
                node.position = position

    for _ in range(_BARYCENTER_SWEEPS):
        sweep(range(1, len(layers)), towards=-1)
        sweep(range(len(layers) - 2, -1, -1), towards=+1)


def _place(layers: list[list[_Node]], rankdir: str) -> tuple[float, float]:
    """Give every node its centre (x, y); return the canvas size."""
    across = "height" if rankdir == "LR" else "width"  # extent of a node within its layer
    along = "width" if rankdir == "LR" else "height"  # extent of a node along the layers
    layer_thickness = [max(getattr(n, along) for n in layer) for layer in layers]
    layer_length = [
        sum(getattr(n, across) for n in layer) + _NODE_GAP * (len(layer) - 1) for layer in layers
    ]
    longest = max(layer_length)
    offset_along = _MARGIN
    for layer, thickness, length in zip(layers, layer_thickness, layer_length, strict=True):
        offset_across = _MARGIN + (longest - length) / 2
        for node in layer:
            extent = getattr(node, across)
            centre_along = offset_along + thickness / 2
            centre_across = offset_across + extent / 2
            if rankdir == "LR":
                node.x, node.y = centre_along, centre_across
            else:
                node.x, node.y = centre_across, centre_along
            offset_across += extent + _NODE_GAP
        offset_along += thickness + _LAYER_GAP
    total_along = offset_along - _LAYER_GAP + _MARGIN
    total_across = longest + 2 * _MARGIN
    return (total_along, total_across) if rankdir == "LR" else (total_across, total_along)


def _format_number(x: Any) -> str:
    try:
        return f"{x:.4g}"
    except (TypeError, ValueError):
        return str(x)


def _render(
    nodes: dict[str, _Node],
    routes: list[list[str]],
    width: float,
    height: float,
    rankdir: str,
) -> str:
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}">',
        f"<style>{_STYLE}</style>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#6b6b6b"/></marker></defs>',
    ]
    uses: dict[tuple[str, str], int] = {}
    for route in routes:
        ends = (route[0], route[-1])
        repeat = uses.get(ends, 0)  # x * x: two edges, drawn apart
        uses[ends] = repeat + 1
        parts.append(_edge_path([nodes[key] for key in route], rankdir, repeat))
    for node in nodes.values():
        if node.kind == "value":
            parts.append(_value_box(node))
        elif node.kind == "op":
            parts.append(_op_circle(node))
    parts.append("</svg>")
    return "\n".join(parts)


def _edge_path(route: list[_Node], rankdir: str, repeat: int) -> str:
    """A smooth path leaving the source, through each bend, into the target, with an arrow."""
    shift = 8.0 * repeat
    horizontal = rankdir == "LR"

    def point(node: _Node, side: int) -> tuple[float, float]:
        """Where the path leaves (side=+1) or enters (side=-1) a node."""
        if horizontal:
            return node.x + side * node.width / 2, node.y + shift
        return node.x + shift, node.y + side * node.height / 2

    points = [point(route[0], +1)] + [(n.x, n.y) for n in route[1:-1]] + [point(route[-1], -1)]
    commands = [f"M {points[0][0]:.1f} {points[0][1]:.1f}"]
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        if horizontal:
            bend = max(10.0, (x1 - x0) / 2)
            controls = f"{x0 + bend:.1f} {y0:.1f} {x1 - bend:.1f} {y1:.1f}"
        else:
            bend = max(10.0, (y1 - y0) / 2)
            controls = f"{x0:.1f} {y0 + bend:.1f} {x1:.1f} {y1 - bend:.1f}"
        commands.append(f"C {controls} {x1:.1f} {y1:.1f}")
    return f'<path class="edge" d="{" ".join(commands)}" marker-end="url(#arrow)"/>'


def _value_box(node: _Node) -> str:
    value = node.value
    classes = "value" + ("" if value._prev else " leaf") + (" root" if node.is_root else "")
    label = str(getattr(value, "label", "") or "")
    left, top = node.x - node.width / 2, node.y - node.height / 2
    first_line = f"{label + '  ' if label else ''}data {_format_number(value.data)}"
    return (
        f'<g class="{classes}"><title>{html.escape(repr(value))}</title>'
        f'<rect x="{left:.1f}" y="{top:.1f}" width="{node.width}" height="{node.height}" '
        'rx="8" ry="8"/>'
        f'<text x="{node.x:.1f}" y="{node.y - 5:.1f}" text-anchor="middle">'
        f"{html.escape(first_line)}</text>"
        f'<text class="grad" x="{node.x:.1f}" y="{node.y + 13:.1f}" text-anchor="middle">'
        f"grad {html.escape(_format_number(value.grad))}</text></g>"
    )


def _op_circle(node: _Node) -> str:
    return (
        f'<g class="op"><ellipse cx="{node.x:.1f}" cy="{node.y:.1f}" rx="{node.width / 2:.1f}" '
        f'ry="{_OP_RADIUS}"/>'
        f'<text x="{node.x:.1f}" y="{node.y + 4.5:.1f}" text-anchor="middle">'
        f"{html.escape(str(node.value._op))}</text></g>"
    )
