"""Generated mutants: every single-site mutation of a master's solution code.

The mutants of ``benchmarks/mutants/<id>.py`` are bugs their authors thought of. The mutants
here are derived mechanically from each exercise (solution) cell of a master, between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` when the cell is marked, with

* the node operators of **mutmut** (``mutmut.mutation.mutators.mutation_operators``, libcst
  based): arithmetic, comparison and boolean operator swaps, augmented assignment to plain
  assignment, numbers changed by one, ``True``/``False``, ``is``/``in`` negations, removed
  ``not``, call arguments replaced by ``None`` or dropped, assignments of ``None``, lambdas
  returning ``None``, string method swaps. Its string operator is left out: the strings of the
  solution cells are operation labels and error messages that no hidden test compares;
* the course's own derivative operators (:data:`COURSE_OPERATORS`): drop a chain-rule factor
  (``* out.grad``), swap the two children's local derivatives, reverse the traversal, forget to
  accumulate (a removed ``+=``) or to reset a gradient, and a removed call statement.

Each mutant changes one place of one cell. Its id, ``cell:operator:function:hash``, names
the cell, the operator, the function or method around the site and the first 10 hex digits of
the SHA-256 of the mutated cell's syntax tree without its docstrings, so that a judgement about
it (``benchmarks/mutants/equivalent.json``) applies to exactly that mutant, survives edits of
the cell's docstrings and comments, and lapses when the cell's code changes.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider, WhitespaceInclusivePositionProvider
from mutmut.mutation.mutators import mutation_operators

from grader.checks import parse_code

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"

#: mutmut operators not used, with the reason (see the module docstring).
SKIPPED_MUTMUT = {"operator_string": "strings are labels and messages, never graded"}

#: Names that hold an upstream gradient in the course's code (``out.grad`` is an attribute).
UPSTREAM_NAMES = frozenset({"grad", "upstream", "grad_output", "dout", "g"})

#: Subtrees never mutated: type annotations, f-strings (messages), raise and assert statements
#: (their messages; the conditions guarding a ``raise`` are mutated).
FROZEN_NODES = (cst.Annotation, cst.FormattedString, cst.Raise, cst.Assert)


@dataclass(frozen=True)
class GeneratedMutant:
    """One single-site mutation of the solution cell ``cell``."""

    cell: str
    operator: str
    line: int
    column: int
    original: str  # the master's source of the cell
    source: str  # the mutated source of the cell
    function: str = ""  # the outermost function or method around the site, e.g. "__mul__"
    owner: str = ""  # the class of that method, e.g. "Value" ("" for a function)

    @property
    def qualified_function(self) -> str:
        """``Class.method`` or ``function``, as a message names it."""
        return f"{self.owner}.{self.function}" if self.owner else self.function

    @property
    def digest(self) -> str:
        """The first 10 hex digits of the SHA-256 of the mutated code (:func:`code_digest`)."""
        return code_digest(self.source)

    @property
    def id(self) -> str:
        """``cell:operator:function:digest``, stable while the cell's code does not change."""
        return f"{self.cell}:{self.operator}:{self.function or '-'}:{self.digest}"

    def diff_line(self) -> str:
        """The mutated line, ``before -> after``, for reports."""
        before = self.original.splitlines()
        after = self.source.splitlines()
        index = self.line - 1
        old = before[index].strip() if index < len(before) else ""
        new = after[index].strip() if index < len(after) else ""
        if len(before) != len(after) or old == new:
            changed = [a.strip() for a, b in zip(after, before, strict=False) if a != b]
            new = changed[0] if changed else "(line removed)"
        return f"{old} -> {new}"


# --------------------------------------------------------------------------- course operators


def _is_upstream(node: cst.CSTNode) -> bool:
    """``out.grad``, ``self.grad`` or a name that holds an upstream gradient."""
    if isinstance(node, cst.Attribute):
        return node.attr.value == "grad"
    return isinstance(node, cst.Name) and node.value in UPSTREAM_NAMES


def _is_grad_target(node: cst.CSTNode) -> bool:
    """An assignment target that is a gradient: ``x.grad``, ``x.grad[...]``, ``grads[i]``."""
    if isinstance(node, cst.Subscript):
        return _is_grad_target(node.value) or (
            isinstance(node.value, cst.Name) and "grad" in node.value.value
        )
    return isinstance(node, cst.Attribute) and node.attr.value == "grad"


def drop_chain_factor(node: cst.BinaryOperation) -> Iterable[cst.CSTNode]:
    """``local * out.grad`` -> ``local``; ``out.grad / x`` -> ``1.0 / x`` (chain rule lost)."""
    if isinstance(node.operator, cst.Multiply | cst.MatrixMultiply):
        if _is_upstream(node.right):
            yield node.left.with_changes(lpar=node.lpar, rpar=node.rpar)
        if _is_upstream(node.left):
            yield node.right.with_changes(lpar=node.lpar, rpar=node.rpar)
    elif isinstance(node.operator, cst.Divide) and _is_upstream(node.left):
        yield node.with_changes(left=cst.Float("1.0"))


def _aug_grad(statement: cst.CSTNode) -> cst.AugAssign | None:
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
        small = statement.body[0]
        if isinstance(small, cst.AugAssign) and _is_grad_target(small.target):
            return small
    return None


def swap_child_derivatives(node: cst.IndentedBlock) -> Iterable[cst.CSTNode]:
    """Two consecutive ``a.grad += X`` / ``b.grad += Y`` exchange ``X`` and ``Y``."""
    body = list(node.body)
    for index in range(len(body) - 1):
        first, second = _aug_grad(body[index]), _aug_grad(body[index + 1])
        if first is None or second is None:
            continue
        if cst.Module([]).code_for_node(first.target) == cst.Module([]).code_for_node(
            second.target
        ):
            continue
        swapped = [
            body[index].with_changes(body=[first.with_changes(value=second.value)]),
            body[index + 1].with_changes(body=[second.with_changes(value=first.value)]),
        ]
        yield node.with_changes(body=[*body[:index], *swapped, *body[index + 2 :]])


def reverse_traversal(node: cst.CSTNode) -> Iterable[cst.CSTNode]:
    """``reversed(order)`` -> ``order``; ``order[::-1]`` -> ``order``; drop ``reverse=True``."""
    if isinstance(node, cst.Call):
        if isinstance(node.func, cst.Name) and node.func.value == "reversed" and node.args:
            yield node.args[0].value
        kept = [a for a in node.args if not (a.keyword and a.keyword.value == "reverse")]
        if len(kept) != len(node.args):
            if kept:
                kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            yield node.with_changes(args=kept)
    elif isinstance(node, cst.Subscript) and len(node.slice) == 1:
        index = node.slice[0].slice
        if (
            isinstance(index, cst.Slice)
            and index.lower is None
            and index.upper is None
            and isinstance(index.step, cst.UnaryOperation)
            and isinstance(index.step.operator, cst.Minus)
        ):
            yield node.value


def forget_to_accumulate(node: cst.SimpleStatementLine) -> Iterable[cst.CSTNode]:
    """``x.grad = x.grad + g`` -> ``x.grad = g``: the old gradient overwritten."""
    if len(node.body) != 1 or not isinstance(node.body[0], cst.Assign):
        return
    assign = node.body[0]
    value = assign.value
    if (
        len(assign.targets) == 1
        and _is_grad_target(assign.targets[0].target)
        and isinstance(value, cst.BinaryOperation)
        and isinstance(value.operator, cst.Add)
        and value.left.deep_equals(assign.targets[0].target)
    ):
        yield node.with_changes(body=[assign.with_changes(value=value.right)])


def _is_reset(small: cst.BaseSmallStatement) -> bool:
    """``x.grad = 0.0`` / ``zeros_like(...)``, ``x.zero_grad()``, ``x.grad.fill(0)``."""
    if isinstance(small, cst.Assign):
        return any(_is_grad_target(target.target) for target in small.targets) and not any(
            isinstance(n, cst.Attribute) and n.attr.value == "grad"
            for n in _walk(small.value)  # x.grad = x.grad * 0.9 is an update, not a reset
        )
    if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
        func = small.value.func
        name = func.attr.value if isinstance(func, cst.Attribute) else ""
        return name in {"zero_grad", "fill"} or (
            isinstance(func, cst.Name) and func.value == "zero_grad"
        )
    return False


def forget_to_reset(node: cst.SimpleStatementLine) -> Iterable[cst.CSTNode]:
    """A gradient reset (``p.grad = 0.0``, ``model.zero_grad()``) removed."""
    if len(node.body) == 1 and _is_reset(node.body[0]):
        yield node.with_changes(body=[cst.Pass()])


def remove_statement(node: cst.SimpleStatementLine) -> Iterable[cst.CSTNode]:
    """A call statement or an augmented assignment (``+=``, a forgotten accumulation) removed."""
    if len(node.body) != 1 or _is_reset(node.body[0]):
        return
    small = node.body[0]
    if isinstance(small, cst.AugAssign) or (
        isinstance(small, cst.Expr) and isinstance(small.value, cst.Call)
    ):
        yield node.with_changes(body=[cst.Pass()])


def accumulate_to_assign(node: cst.AugAssign) -> Iterable[cst.CSTNode]:
    """``x.grad += g`` -> ``x.grad = g`` (named for the course; mutmut makes it too)."""
    if _is_grad_target(node.target) and isinstance(node.operator, cst.AddAssign):
        yield cst.Assign([cst.AssignTarget(node.target)], node.value, node.semicolon)


Operator = tuple[str, type, Callable[[cst.CSTNode], Iterable[cst.CSTNode]]]

#: The course's derivative operators: tried before mutmut's, so that a mutation both make
#: (``+=`` to ``=`` on a gradient is also mutmut's augmented assignment) keeps the course name.
COURSE_OPERATORS: list[Operator] = [
    ("course.drop_chain_factor", cst.BinaryOperation, drop_chain_factor),
    ("course.swap_child_derivatives", cst.IndentedBlock, swap_child_derivatives),
    ("course.reverse_traversal", cst.CSTNode, reverse_traversal),
    ("course.accumulate_to_assign", cst.AugAssign, accumulate_to_assign),
    ("course.forget_to_accumulate", cst.SimpleStatementLine, forget_to_accumulate),
    ("course.forget_to_reset", cst.SimpleStatementLine, forget_to_reset),
    ("course.remove_statement", cst.SimpleStatementLine, remove_statement),
]


#: mutmut's operators, named ``mutmut.<name>``.
MUTMUT_OPERATORS: list[Operator] = [
    (f"mutmut.{function.__name__.removeprefix('operator_')}", node_type, function)
    for node_type, function in mutation_operators
    if function.__name__ not in SKIPPED_MUTMUT
]

OPERATORS: list[Operator] = COURSE_OPERATORS + MUTMUT_OPERATORS


# --------------------------------------------------------------------------- generation


def _walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """``node`` and every node below it, depth first, children in source order."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def solution_lines(source: str) -> list[tuple[int, int]]:
    """The 1-based line ranges (inclusive) of the solution code of a cell.

    Between each ``### BEGIN SOLUTION`` and ``### END SOLUTION``; the whole cell when it has
    no markers.

    >>> solution_lines("def f():\\n    ### BEGIN SOLUTION\\n    return 1\\n    ### END SOLUTION")
    [(3, 3)]
    """
    lines = source.splitlines()
    starts = [i + 1 for i, line in enumerate(lines) if line.strip() == BEGIN]
    ends = [i + 1 for i, line in enumerate(lines) if line.strip() == END]
    if not starts:
        return [(1, len(lines))]
    return [(start + 1, end - 1) for start, end in zip(starts, ends, strict=True)]


def _docstrings(module: cst.Module) -> set[int]:
    """The ids of the docstring expressions (never mutated)."""
    found: set[int] = set()
    for node in _walk(module):
        body = getattr(node, "body", None)
        if isinstance(body, cst.IndentedBlock):
            body = body.body
        if isinstance(body, list | tuple) and body:
            first = body[0]
            if (
                isinstance(first, cst.SimpleStatementLine)
                and isinstance(first.body[0], cst.Expr)
                and isinstance(first.body[0].value, cst.SimpleString | cst.ConcatenatedString)
            ):
                found.add(id(first))
    return found


def _outer_functions(module: cst.Module) -> Iterator[tuple[str, cst.FunctionDef]]:
    """The module's functions and its classes' methods (not the functions nested in them),
    each with its class's name (``""`` for a function)."""
    for statement in module.body:
        if isinstance(statement, cst.FunctionDef):
            yield "", statement
        elif isinstance(statement, cst.ClassDef) and isinstance(statement.body, cst.IndentedBlock):
            owner = statement.name.value
            yield from ((owner, s) for s in statement.body.body if isinstance(s, cst.FunctionDef))


@functools.lru_cache(maxsize=4096)
def code_digest(source: str) -> str:
    """The first 10 hex digits of the SHA-256 of ``source``'s syntax tree without docstrings:
    the same for two sources that differ only in docstrings, comments or layout.

    >>> first, second = 'def f():\\n    "doc"\\n    return 1', "def f():  # a\\n  return 1"
    >>> code_digest(first) == code_digest(second)
    True
    """
    tree = parse_code(source)  # one thread at a time (CPython 3.11, see grader.checks)
    if tree is None:
        raise SyntaxError("a mutant that does not parse")
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return hashlib.sha256(ast.dump(tree).encode()).hexdigest()[:10]


def _same_program(first: str, second: str) -> bool:
    """Whether two sources compile to the same syntax tree (a mutation that changes nothing)."""
    return ast.dump(parse_code(first)) == ast.dump(parse_code(second))


def mutate_cell(
    cell: str, source: str, operators: list[Operator] = OPERATORS
) -> list[GeneratedMutant]:
    """Every distinct single-site mutant of the solution code of one cell, in source order.

    A mutant whose source equals the cell's or another mutant's, or that compiles to the same
    syntax tree as the cell, is dropped; every mutant parses.
    """
    wrapper = MetadataWrapper(cst.parse_module(source))
    module = wrapper.module
    positions = wrapper.resolve(PositionProvider)
    owned = wrapper.resolve(WhitespaceInclusivePositionProvider)
    line_starts = [0]
    for line in source.splitlines(keepends=True):
        line_starts.append(line_starts[-1] + len(line))

    def replaced(node: cst.CSTNode, replacement: cst.CSTNode) -> str:
        """The source with ``node`` replaced: spliced as text, by the tree when that fails."""
        span = owned[node]
        start = line_starts[span.start.line - 1] + span.start.column
        end = line_starts[span.end.line - 1] + span.end.column
        if source[start:end] == module.code_for_node(node):
            return source[:start] + module.code_for_node(replacement) + source[end:]
        mutated = module.deep_replace(node, replacement)
        assert isinstance(mutated, cst.Module)
        return mutated.code

    regions = solution_lines(source)
    docstrings = _docstrings(module)
    frozen: set[int] = set()
    for node in _walk(module):
        if isinstance(node, FROZEN_NODES) or id(node) in docstrings:
            frozen.update(id(n) for n in _walk(node))

    def inside(node: cst.CSTNode) -> bool:
        span = positions.get(node)
        return span is not None and any(
            first <= span.start.line and span.end.line <= last for first, last in regions
        )

    functions = [
        (positions[node].start.line, positions[node].end.line, owner, node.name.value)
        for owner, node in _outer_functions(module)
    ]

    def function_of(line: int) -> tuple[str, str]:
        found = ((owner, name) for first, last, owner, name in functions if first <= line <= last)
        return next(found, ("", ""))

    seen = {source}
    digests: set[str] = set()
    mutants = []
    for node in _walk(module):
        if id(node) in frozen or not inside(node):
            continue
        for name, node_type, operator in operators:
            if not isinstance(node, node_type):
                continue
            for replacement in operator(node):
                text = replaced(node, replacement)
                if text in seen or _same_program(text, source):
                    continue
                seen.add(text)
                digest = code_digest(text)
                if digest in digests:  # the same program as an earlier mutant
                    continue
                digests.add(digest)
                start = positions[node].start
                owner, function = function_of(start.line)
                mutants.append(
                    GeneratedMutant(
                        cell, name, start.line, start.column, source, text, function, owner
                    )
                )
    return mutants


def generate(exercises: Iterable[tuple[str, str]]) -> list[GeneratedMutant]:
    """The mutants of every ``(grade_id, source)`` exercise cell, cell by cell."""
    return [mutant for cell, source in exercises for mutant in mutate_cell(cell, source)]


def sample(mutants: list[GeneratedMutant], count: int, salt: str = "") -> list[GeneratedMutant]:
    """``count`` mutants chosen by the hash of their ids (deterministic, spread over cells).

    >>> sample([], 3)
    []
    """
    ranked = sorted(mutants, key=lambda m: hashlib.sha256((salt + m.id).encode()).hexdigest())
    return sorted(ranked[:count], key=mutants.index)


ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]+:[a-z]+\.[a-z_]+:[A-Za-z0-9_-]+:[0-9a-f]{10}$")
