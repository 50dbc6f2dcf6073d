"""Draws a computational graph as text: boxes in rows, inputs first and the loss last, within a width."""

from __future__ import annotations

import math
from collections.abc import Callable

from tutor.core.evaluate.results import NodeValue
from tutor.core.graph.model import OP, PARAM, GraphModel, GraphNode, resolve_loss
from tutor.core.text.matrix import format_number, format_plain, format_value, shape_of, to_lines

GAP = 3          # columns between boxes in a row
# Laying a graph out takes time that grows steeply with its size (500 nodes took minutes): beyond
# these it is not drawn, and the view says so. A lesson's graph has a few dozen nodes at most.
MAX_DRAWN_NODES = 100
MAX_DRAWN_BOXES = 1_000  # nodes and the lanes long edges take through the rows between
MIN_INNER = 9    # a box narrower than this cannot show a value

_N, _S, _E, _W = 1, 2, 4, 8
_WIRE = {
    _N | _S: "│", _E | _W: "─", _S | _E: "╭", _S | _W: "╮", _N | _E: "╰", _N | _W: "╯",
    _N | _S | _E: "├", _N | _S | _W: "┤", _S | _E | _W: "┬", _N | _E | _W: "┴",
    _N | _S | _E | _W: "┼", _N: "│", _S: "│", _E: "─", _W: "─",
}
# corners, horizontal, vertical, out-port, in-arrow
_SINGLE = "┌┐└┘─│┬▼"
_DOUBLE = "╔╗╚╝═║╤▼"   # the loss stands out without colour
_PLAIN = "++++-|+v"


class GraphTooBig(ValueError):
    """A graph too big to lay out in a terminal; the message says how big, and the limit."""


class DrawingCancelled(Exception):
    """The drawing was given up (the view closed, or a newer drawing was asked for)."""


def check_drawable(model: GraphModel) -> None:
    """Raises GraphTooBig for a graph with more nodes than the view draws."""
    if len(model.nodes) > MAX_DRAWN_NODES:
        raise GraphTooBig(f"the graph has {len(model.nodes)} nodes, too many to draw here "
                          f"(at most {MAX_DRAWN_NODES})")


def render_graph(
    model: GraphModel,
    values: dict[str, NodeValue] | None = None,
    grads: dict[str, NodeValue] | None = None,
    width: int = 80,
    *,
    ascii: bool = False,
    cancelled: Callable[[], bool] = lambda: False,
    fill: dict[str, list[tuple[str, NodeValue]]] | None = None,
    selected: tuple[str, int] | None = None,
    outputs: tuple[str, ...] = (),
) -> list[str]:
    """Layers from the inputs at the top to the loss at the bottom, boxes joined by arrows.

    `fill` (node id -> (label, value) lines) replaces a node's value and gradient lines: a graph
    being filled in, its `selected` line marked ▸; `outputs` name the functions its gradients are of.
    Raises GraphTooBig beyond MAX_DRAWN_NODES nodes or MAX_DRAWN_BOXES boxes and lanes, and
    DrawingCancelled as soon as it notices `cancelled()` (it asks once per layout pass)."""
    check_drawable(model)
    fills = fill
    if fills is not None and values is None:
        values = {node: lines[0][1] for node, lines in fills.items() if lines}
    loss = resolve_loss(model, values)

    def build(node_id: str, cap: int) -> list[str]:
        lines = _box_lines(model.node(node_id), values, grads, cap, loss, ascii, fills)
        if selected is not None and selected[0] == node_id:
            return _marked(lines, model.node(node_id), fills, selected[1], cap, ascii)
        return lines

    moved: dict[str, int] = {}
    for _ in range(2 * len(model.nodes) + 1):
        if cancelled():
            raise DrawingCancelled()
        rows, links = _rows(model, loss, moved)
        boxes: dict[str, list[str]] = {}
        movable: list[str] = []
        for row in rows:
            fitted, squeezed = _fit_row(row, width, build)
            boxes.update(fitted)
            if squeezed and len(fitted) > 1 and not movable:
                movable = [i for i in fitted if _can_move(model.node(i), loss)]
        if not movable:
            break
        # a given moved up a row, or an output down one, leaves room for the rest to show their numbers
        widest = max(movable, key=lambda i: _width(build(i, width)))
        moved[widest] = moved.get(widest, 0) + 1
    widths = {i: (_width(boxes[i]) + 4 if i in boxes else 1) for row in rows for i in row}
    xs = _place(rows, links, widths, width)
    canvas = _Canvas()
    y = 0
    for k, row in enumerate(rows):
        height = max([len(boxes[i]) + 2 for i in row if i in boxes] or [1])
        outgoing = {src for src, _ in links if src in row}
        incoming = _arrow_columns(rows, k, links, xs, widths)
        for node_id in row:
            if node_id in boxes:
                style = _PLAIN if ascii else _DOUBLE if node_id == loss else _SINGLE
                canvas.box(xs[node_id], y, widths[node_id], boxes[node_id], style,
                           incoming.get(node_id), node_id in outgoing, height)
            else:
                canvas.vertical(xs[node_id], y, y + height - 1)
        y += height
        if k + 1 < len(rows):
            y += canvas.channel(y, [(s, t) for s, t in links if s in row], xs, widths,
                                _arrow_columns(rows, k + 1, links, xs, widths))
    lines = canvas.lines(ascii)
    return lines + _legend(model, loss, values, grads, ascii, fills, outputs)


MARK = "\x01"   # a box line starting with this is drawn with ▸ in the box's left margin


def _width(lines: list[str]) -> int:
    return max(len(line) - line.startswith(MARK) for line in lines)


def _marked(lines: list[str], node: GraphNode, rows, row: int, cap: int, ascii: bool) -> list[str]:
    """The box's lines with the first line of its `row`-th value line marked."""
    if not rows or node.id not in rows or row >= len(rows[node.id]):
        return lines
    start = 2 if node.kind == OP else 1
    for prefix, value in rows[node.id][:row]:
        start += len(_value_lines(prefix, value, cap, ascii))
    if start >= len(lines):
        return lines
    return lines[:start] + [MARK + lines[start]] + lines[start + 1:]


def _can_move(node: GraphNode, loss: str | None) -> bool:
    return node.kind != OP or (node.is_output and node.id != loss)


def _is_waypoint(node_id: str) -> bool:
    return node_id.startswith("~")


def _rows(model: GraphModel, loss: str | None,
          moved: dict[str, int]) -> tuple[list[list[str]], list[tuple[str, str]]]:
    """Layers (givens above their first reader, the loss last) and links between adjacent ones.

    `moved` lifts givens and sinks outputs by that many extra rows, to unclutter crowded rows.
    """
    layer: dict[str, int] = {}
    ops = [n for n in model.nodes if n.kind == OP]
    for n in ops:
        layer[n.id] = 1 + max((layer[i] for i in n.inputs if i in layer), default=0)
        layer[n.id] += moved.get(n.id, 0) if n.is_output and n.id != loss else 0
    readers: dict[str, list[int]] = {}
    for n in ops:
        for i in n.inputs:
            readers.setdefault(i, []).append(layer[n.id])
    for n in model.nodes:
        if n.kind != OP:
            layer[n.id] = min(readers.get(n.id, [1])) - 1 - moved.get(n.id, 0)
    if loss is not None and loss not in readers and ops:
        layer[loss] = max(layer[n.id] for n in ops)
    top = min(layer.values(), default=0)
    layer = {i: k - top for i, k in layer.items()}
    depth = max(layer.values(), default=0) + 1
    rows: list[list[str]] = [[] for _ in range(depth)]
    for n in model.nodes:
        rows[layer[n.id]].append(n.id)
    links: list[tuple[str, str]] = []
    boxes = len(model.nodes)
    lanes: set[str] = set()
    for src, dst in model.edges:
        step = src
        for k in range(layer[src] + 1, layer[dst]):
            waypoint = f"~{src}~{k}"   # one shared lane per source and layer
            if waypoint not in lanes:
                lanes.add(waypoint)
                boxes += 1
                if boxes > MAX_DRAWN_BOXES:
                    raise GraphTooBig(f"the graph's {len(model.nodes)} nodes and the lanes between them "
                                      f"take more than {MAX_DRAWN_BOXES} places, too many to draw here")
                rows[k].append(waypoint)
                links.append((step, waypoint))
            step = waypoint
        if (step, dst) not in links:
            links.append((step, dst))
    _order(rows, links)
    return rows, links


def _order(rows: list[list[str]], links: list[tuple[str, str]]) -> None:
    """Barycentre sweeps: each node moves toward the middle of its neighbours to cut crossings."""
    for sweep in range(4):
        down = sweep % 2 == 0
        span = range(1, len(rows)) if down else range(len(rows) - 2, -1, -1)
        for k in span:
            other = rows[k - 1] if down else rows[k + 1]
            where = {n: i for i, n in enumerate(other)}

            def key(pair: tuple[int, str], where=where, down=down) -> float:
                pos, node_id = pair
                near = [where[s] for s, t in links if t == node_id and s in where] if down else \
                       [where[t] for s, t in links if s == node_id and t in where]
                return sum(near) / len(near) if near else pos

            rows[k] = [n for _, n in sorted(enumerate(rows[k]), key=key)]


def _fit_row(row: list[str], width: int, build) -> tuple[dict[str, list[str]], bool]:
    """Box contents for one row, and whether some box had to drop its numbers to fit.

    Narrow boxes take what they need; wide ones share what is left.
    """
    ids = [i for i in row if not _is_waypoint(i)]
    room = width - GAP * (len(row) - 1) - (len(row) - len(ids)) - 4 * len(ids)
    natural = {i: build(i, max(MIN_INNER, width - 4)) for i in ids}
    boxes: dict[str, list[str]] = {}
    squeezed = False
    pending = sorted(ids, key=lambda i: _width(natural[i]))
    for done, i in enumerate(pending):
        share = max(MIN_INNER, room // (len(pending) - done))
        boxes[i] = natural[i] if _width(natural[i]) <= share else build(i, share)
        squeezed |= _summarised(boxes[i]) and not _summarised(natural[i])
        room -= _width(boxes[i])
    return boxes, squeezed


def _summarised(lines: list[str]) -> bool:
    return any(line.endswith(("values)", "…", "~")) for line in lines)


def _box_lines(node: GraphNode, values, grads, cap: int, loss: str | None, ascii: bool,
               rows: dict[str, list[tuple[str, NodeValue]]] | None = None) -> list[str]:
    """The text inside a node's box: name and role, operation, value, gradient; each line at most `cap`."""
    tag = _tag(node, loss)
    lines = [node.display + tag]
    if node.kind == OP:
        lines.append(node.label)
    if rows is not None and node.id in rows:
        for prefix, shown in rows[node.id]:
            lines += _value_lines(prefix, shown, cap, ascii)
    else:
        value = values.get(node.name) if values and node.final else None
        if value is not None:
            lines += _value_lines("= ", value, cap, ascii)
        elif values is None and node.kind != OP:
            lines += _written_value(node, cap, ascii)
        grad = grads.get(node.name) if grads and node.final and node.id != loss else None
        if grad is not None:
            output = model_loss_name(loss)
            lines += _value_lines(f"∂{output}/∂{node.name} = ", grad, cap, ascii)
    if ascii:
        lines = [_ascii_math(line) for line in lines]
    return [line if len(line) <= cap else line[:cap - 1] + ("~" if ascii else "…") for line in lines]


def _tag(node: GraphNode, loss: str | None) -> str:
    """What a node is, in words, so the drawing needs no colour: param, loss, output."""
    if node.id == loss:
        return "" if node.display == "loss" else " · loss"
    if node.kind == PARAM:
        return " · param"
    return " · output" if node.is_output else ""


def _written_value(node: GraphNode, cap: int, ascii: bool) -> list[str]:
    """A given's value as the lesson writes it, before the live values arrive."""

    if node.literal is None:
        return ["= " + node.label]
    return _value_lines("= ", NodeValue(shape_of(node.literal), node.literal), cap, ascii)


def _value_lines(prefix: str, value: NodeValue, cap: int, ascii: bool) -> list[str]:
    """A value in as few lines as fit `cap`: inline, under its label, as a grid, or as its shape."""

    shape = tuple(value.shape)
    label = prefix.rstrip()
    if not shape:
        number = format_number(value.value)
        return [prefix + number] if len(prefix + number) <= cap else [label, "  " + number]
    # a vector that is too long for a line stands as a column, the way it is written on paper
    grid_shape = (shape[0], 1) if len(shape) == 1 else shape
    for decimals in (4, 3, 2):  # fewer digits only when no layout fits with more
        plain = format_plain(value.value, shape, decimals=decimals, max_elements=12)
        if "values)" not in plain:
            if len(prefix + plain) <= cap:
                return [prefix + plain]
            if len(plain) + 2 <= cap and len(prefix) > 2:
                return [label, "  " + plain]
        if len(shape) <= 2 and math.prod(shape) <= 16:
            grid = to_lines(format_value(_as_grid(value.value, shape), grid_shape,
                                         decimals=decimals, ascii=ascii))
            if len(prefix) <= 2:
                lines = [prefix + grid[0]] + [" " * len(prefix) + g for g in grid[1:]]
            else:
                lines = [label] + ["  " + g for g in grid]
            if max(map(len, lines)) <= cap:
                return lines
    return [prefix + f"{format_plain(value.value, shape, max_elements=0)}"]


def _as_grid(value, shape):
    return [[v] for v in value] if len(shape) == 1 else value


_ASCII_TEXT = {"−": "-", "²": "**2", "³": "**3", "×": "x", "…": "~", "⋮": ":", "·": "-", "∂": "d", "✗": "x",
               "✓": "ok", "≈": "~", **dict(zip("ℬℰℱℋℐℒℳℛℯℊℴ", "BEFHILMRego", strict=True))}


def _ascii_math(text: str) -> str:
    for fancy, plain in _ASCII_TEXT.items():
        text = text.replace(fancy, plain)
    return text


def _place(rows, links, widths, width) -> dict[str, int]:
    """Left edges: each node centred under the nodes it reads when there is room, in row order."""
    xs: dict[str, int] = {}
    for row in rows:
        desired = []
        for node_id in row:
            sources = [xs[s] + widths[s] // 2 for s, t in links if t == node_id and s in xs]
            desired.append(sum(sources) // len(sources) - widths[node_id] // 2 if sources else None)
        x = 0
        for node_id, want in zip(row, desired, strict=False):
            xs[node_id] = max(x, want if want is not None else x)
            x = xs[node_id] + widths[node_id] + GAP
        limit = max(width, sum(widths[i] for i in row) + GAP * (len(row) - 1))
        right = limit
        for node_id in reversed(row):  # pull back whatever ran past the right edge
            xs[node_id] = max(0, min(xs[node_id], right - widths[node_id]))
            right = xs[node_id] - GAP
    return xs


def _arrow_columns(rows, k, links, xs, widths) -> dict[str, int]:
    """Where each box in row k takes its arrow: its centre, nudged off any wire passing down there."""
    if k == 0:
        return {}
    columns = {}
    for node_id in rows[k]:
        feeds = [xs[s] + widths[s] // 2 for s, t in links if t == node_id]
        if not feeds:
            continue
        left, right = xs[node_id], xs[node_id] + widths[node_id] - 1
        centre = xs[node_id] + widths[node_id] // 2
        if _is_waypoint(node_id):
            columns[node_id] = centre
            continue
        inside = sorted((f for f in feeds if left < f < right), key=lambda f: abs(f - centre))
        if inside:
            columns[node_id] = inside[0]  # join the wire of an input right above it
            continue
        foreign = {xs[s] + widths[s] // 2 for s, t in links if s in rows[k - 1] and t != node_id}
        for shift in (0, 1, -1, 2, -2, 3, -3):
            column = centre + shift
            if column not in foreign and left < column < right:
                break
        else:
            column = centre
        columns[node_id] = column
    return columns


class _Canvas:
    """Characters by position; wires that meet merge into joints, wires that only cross do not."""

    def __init__(self) -> None:
        self.chars: dict[tuple[int, int], str] = {}
        self.wires: dict[tuple[int, int], int] = {}
        self.keys: dict[tuple[int, int], set[str]] = {}   # which connections a wire cell carries
        self.crossings: set[tuple[int, int]] = set()

    def text(self, x: int, y: int, s: str) -> None:
        for i, ch in enumerate(s):
            self.chars[(x + i, y)] = ch

    def box(self, x, y, width, lines, style, arrow, has_out, height) -> None:
        tl, tr, bl, br, h, v, port, tip = style
        top = [h] * (width - 2)
        if arrow is not None:
            top[arrow - x - 1] = tip
        self.text(x, y, tl + "".join(top) + tr)
        for i, line in enumerate(lines, start=1):
            margin = " "
            if line.startswith(MARK):
                line, margin = line[1:], (">" if style is _PLAIN else "▸")
            self.text(x, y + i, v + margin + line.ljust(width - 4) + " " + v)
        bottom = [h] * (width - 2)
        centre = x + width // 2
        if has_out:
            bottom[centre - x - 1] = port
            self.vertical(centre, y + len(lines) + 2, y + height - 1)
        self.text(x, y + len(lines) + 1, bl + "".join(bottom) + br)

    def vertical(self, x: int, y0: int, y1: int) -> None:
        for y in range(y0, y1 + 1):
            self._mark(x, y, _N | _S, {f"col:{x}"})

    def channel(self, y, links, xs, widths, arrows) -> int:
        """Wires from one row's sources down to the next row's arrows; returns the lines used.

        Every target with more than one input, or an input off to the side, gets its own line (track).
        """
        port = {s: xs[s] + widths[s] // 2 for s, _ in links}
        feeds: dict[str, list[str]] = {}
        for s, t in links:
            feeds.setdefault(t, []).append(s)
        bent = sorted((t for t, ss in feeds.items() if len(ss) > 1 or port[ss[0]] != arrows[t]),
                      key=lambda t: arrows[t])
        # targets fed by exactly the same inputs share one track: every input reaches every one of them
        buses = list(dict.fromkeys(tuple(sorted(feeds[t])) for t in bent))
        track = {t: y + buses.index(tuple(sorted(feeds[t]))) for t in bent}
        last = y + max(1, len(buses)) - 1
        for s in dict.fromkeys(s for s, _ in links):
            targets = [t for t, ss in feeds.items() if s in ss]
            straight = any(t not in track for t in targets)
            end = last if straight else max(track[t] for t in targets)
            keys = {f"{s}>{t}" for t in targets} | {f">{t}" for t in targets}
            self._vertical(port[s], y, end, _N, _S if straight else 0, keys)
        for bus in buses:
            targets = [t for t in bent if tuple(sorted(feeds[t])) == bus]
            line = track[targets[0]]
            keys = {f"{s}>{t}" for s in bus for t in targets} | {f">{t}" for t in targets}
            columns = [port[s] for s in bus] + [arrows[t] for t in targets]
            lo, hi = min(columns), max(columns)
            for x in range(lo, hi + 1):
                self._mark(x, line, (_E if x < hi else 0) | (_W if x > lo else 0), keys)
            for t in targets:
                self._vertical(arrows[t], line, last, 0, _S, {f">{t}"})
        return last - y + 1

    def _vertical(self, x, y0, y1, top, bottom, keys) -> None:
        for y in range(y0, y1 + 1):
            self._mark(x, y, (_N if y > y0 else top) | (_S if y < y1 else bottom), keys)

    def _mark(self, x: int, y: int, bits: int, keys: set[str]) -> None:
        pos = (x, y)
        if pos in self.keys and not self.keys[pos] & keys:
            self.crossings.add(pos)
        self.keys.setdefault(pos, set()).update(keys)
        self.wires[pos] = self.wires.get(pos, 0) | bits

    def lines(self, ascii: bool) -> list[str]:
        cells = dict(self.chars)
        for pos, bits in self.wires.items():
            if pos in self.chars:
                continue
            crossing = pos in self.crossings and bits & _N and bits & _S
            # a wire that only crosses a track hops over it instead of joining it
            cells[pos] = "│" if crossing else _WIRE.get(bits, " ")
        if not cells:
            return []
        out = [[" "] * (max(x for x, _ in cells) + 1) for _ in range(max(y for _, y in cells) + 1)]
        for (x, y), ch in cells.items():
            out[y][x] = _to_ascii(ch) if ascii else ch
        return ["".join(row).rstrip() for row in out]


def _to_ascii(ch: str) -> str:
    if ch in "│║⋮":
        return "|"
    if ch in "─═…":
        return "-"
    if ch in "▼":
        return "v"
    return "+" if ch in "╭╮╰╯├┤┬┴┼┌┐└┘╔╗╚╝╤" else ch


def model_loss_name(loss: str | None) -> str:
    """The name of the loss node: its id without a binding number."""
    return (loss or "L").partition("#")[0]


def _legend(model: GraphModel, loss: str | None, values, grads, ascii: bool, rows=None,
            outputs: tuple[str, ...] = ()) -> list[str]:
    notes = []
    if outputs and rows is not None:
        each = ", ".join(f"∂{o}/∂v" for o in outputs)
        of = " and ".join(outputs)
        text = f"{each}: gradient{'s' if len(outputs) > 1 else ''} of {of} with respect to node v"
        notes.append(_ascii_math(text) if ascii else text)
    elif loss is not None and grads:
        name = model.node(loss).name
        d = f"d{name}/d" if ascii else f"∂{name}/∂"
        notes.append(f"{d}v: gradient of the loss ({name}) with respect to v")
    if any(n.kind == PARAM for n in model.nodes):
        notes.append("param: a weight that SGD trains")
    if model.other_givens:
        shown = [f"{name} = {format_plain(values[name].value, values[name].shape)}"
                 if values and name in values else name for name in model.other_givens]
        notes.append("also given: " + ", ".join(shown))
    return [""] + notes if notes else []
