"""Plausible student bugs (each must fail a hidden test) and correct alternatives (each must pass)
for lesson 02_symbolic_differentiation. Plain data, used by benchmarks/mutation_testing.py."""

MUTANTS = [
    {
        "cell": "ex_derivative",
        "find": "return d(u, var) * v + u * d(v, var)",
        "replace": "return d(u, var) * v",
        "bug": "product rule with the u v' term missing",
    },
    {
        "cell": "ex_derivative",
        "find": "return d(u, var) * v + u * d(v, var)",
        "replace": "return d(u, var) * d(v, var)",
        "bug": "derivative of a product taken as the product of the derivatives",
    },
    {
        "cell": "ex_derivative",
        "find": "return Const(c) * Pow(u, c - 1) * d(u, var)",
        "replace": "return Const(c) * Pow(u, c) * d(u, var)",
        "bug": "power rule without lowering the exponent",
    },
    {
        "cell": "ex_derivative",
        "find": "return Const(c) * Pow(u, c - 1) * d(u, var)",
        "replace": "return Const(c) * Pow(u, c - 1)",
        "bug": "power rule without the chain-rule factor u'",
    },
    {
        "cell": "ex_derivative",
        "find": "return Exp(u) * d(u, var)",
        "replace": "return Exp(u)",
        "bug": "exp without the chain-rule factor",
    },
    {
        "cell": "ex_derivative",
        "find": "return d(u, var) * Pow(u, -1.0)",
        "replace": "return Pow(u, -1.0)",
        "bug": "log(u)' = 1/u without u'",
    },
    {
        "cell": "ex_derivative",
        "find": "return Cos(u) * d(u, var)",
        "replace": "return -Cos(u) * d(u, var)",
        "bug": "sin(u)' with a spurious minus sign",
    },
    {
        "cell": "ex_derivative",
        "find": "return -Sin(u) * d(u, var)",
        "replace": "return Sin(u) * d(u, var)",
        "bug": "cos(u)' without the minus sign",
    },
    {
        "cell": "ex_derivative",
        "find": "return Const(1.0) if name == var else Const(0.0)",
        "replace": "return Const(1.0)",
        "bug": "every variable has derivative 1 (d/dx y = 1)",
    },
    {
        "cell": "ex_derivative",
        "find": "return d(u, var) + d(v, var)",
        "replace": "return d(u, var) * d(v, var)",
        "bug": "sum rule multiplies the derivatives",
    },
    {
        "cell": "ex_derivative",
        "find": (
            '    raise TypeError(f"cannot differentiate {expr!r} of type {type(expr).__name__}")'
        ),
        "replace": "    return Const(0.0)",
        "bug": "unknown objects silently differentiate to 0 instead of raising TypeError",
    },
    {
        "cell": "ex_simplify",
        "find": (
            "        case Mul(u, v) if is_const(u, 0) or is_const(v, 0):\n         "
            "   return Const(0.0)"
        ),
        "replace": (
            "        case Mul(u, v) if is_const(u, 0):\n            return Const(0.0)\n "
            "       case Mul(u, v) if is_const(v, 0):\n            return u"
        ),
        "bug": "e * 0 returns e instead of 0",
    },
    {
        "cell": "ex_simplify",
        "find": "        case Add(u, v) if is_const(u, 0):\n            return v",
        "replace": "        case Add(u, v) if is_const(u, 0):\n            return u",
        "bug": "0 + e returns the zero instead of e",
    },
    {
        "cell": "ex_simplify",
        "find": "        case Pow(u, c) if c == 0:\n            return Const(1.0)",
        "replace": "        case Pow(u, c) if c == 0:\n            return u",
        "bug": "e**0 returns e instead of 1",
    },
    {
        "cell": "ex_simplify",
        "find": "        case Mul(u, v) if is_const(v, 1):\n            return u\n",
        "replace": "",
        "bug": "only 1 * e is removed, e * 1 is forgotten",
    },
    {
        "cell": "ex_simplify",
        "find": (
            "    if kids and all(isinstance(child, Const) for child in kids):\n    "
            "    return Const(evaluate(node, {}))\n"
        ),
        "replace": (
            "    if isinstance(node, (Add, Mul)) and all(isinstance(child, Const) for "
            "child in kids):\n        return Const(evaluate(node, {}))\n"
        ),
        "bug": "constant folding only for + and *, not for powers and functions of constants",
    },
    {
        "cell": "ex_simplify",
        "find": "            return simplify_node(Mul(simplify(u), simplify(v)))",
        "replace": "            return simplify_node(Mul(u, v))",
        "bug": "does not simplify the children of a product first (not bottom-up)",
    },
    {
        "cell": "ex_simplify",
        "find": "            return simplify_node(type(expr)(simplify(u)))",
        "replace": "            return simplify_node(expr)",
        "bug": "does not recurse into the argument of exp, log, sin, cos",
    },
    {
        "cell": "ex_simplify",
        "find": "            return simplify_node(Add(simplify(u), simplify(v)))",
        "replace": "            return Add(simplify(u), simplify(v))",
        "bug": "forgets to apply the rules at sum nodes after simplifying their children",
    },
    {
        "cell": "ex_sizes",
        "find": "return 1 + sum(tree_size(child) for child in children(expr))",
        "replace": "return max(1, sum(tree_size(child) for child in children(expr)))",
        "bug": "tree_size counts the leaves only",
    },
    {
        "cell": "ex_sizes",
        "find": "        if node not in seen:\n            seen.add(node)",
        "replace": "        if id(node) not in seen:\n            seen.add(id(node))",
        "bug": (
            "DAG counted by object identity: separately built equal subexpressions counted twice"
        ),
    },
    {
        "cell": "ex_sizes",
        "find": "    return len(seen)",
        "replace": "    return len(seen) - 1",
        "bug": "dag_size forgets to count the root",
    },
    {
        "cell": "ex_sizes",
        "find": "return 1 + sum(tree_size(child) for child in children(expr))",
        "replace": "return 1 + sum(tree_size(child) for child in set(children(expr)))",
        "bug": "tree_size collapses equal children (x * x counted as 2 nodes)",
    },
]

ALTERNATIVES = [
    {
        "cell": "ex_derivative",
        "source": '''def d(expr: Expr, var: str) -> Expr:
    """Derivative by isinstance checks, with explicit node constructors and 1/u for log."""
    if isinstance(expr, Const):
        return Const(0.0)
    if isinstance(expr, Var):
        return Const(float(expr.name == var))
    if isinstance(expr, Add):
        return Add(d(expr.left, var), d(expr.right, var))
    if isinstance(expr, Mul):
        u, v = expr.left, expr.right
        return Add(Mul(u, d(v, var)), Mul(v, d(u, var)))
    if isinstance(expr, Pow):
        c = expr.exponent
        return Mul(Mul(d(expr.base, var), Const(c)), Pow(expr.base, c - 1.0))
    if isinstance(expr, Exp):
        return Mul(d(expr.arg, var), expr)
    if isinstance(expr, Log):
        return d(expr.arg, var) / expr.arg
    if isinstance(expr, Sin):
        return Mul(d(expr.arg, var), Cos(expr.arg))
    if isinstance(expr, Cos):
        return Mul(Const(-1.0), Mul(d(expr.arg, var), Sin(expr.arg)))
    raise TypeError(f"not an expression: {expr!r}")
''',
        "why": "isinstance chain, terms in another order, log as d(u) / u, Var via float(bool)",
    },
    {
        "cell": "ex_simplify",
        "source": '''def is_const(expr: Expr, value: float) -> bool:
    """True when expr is the constant value (a helper for the rules)."""
    return isinstance(expr, Const) and expr.value == value


def simplify_node(node: Expr) -> Expr:
    """Folding, then identities, written with isinstance."""
    kids = children(node)
    if kids and all(isinstance(k, Const) for k in kids):
        return Const(evaluate(node, {}))
    if isinstance(node, Add):
        if is_const(node.left, 0):
            return node.right
        if is_const(node.right, 0):
            return node.left
    if isinstance(node, Mul):
        if is_const(node.left, 0) or is_const(node.right, 0):
            return Const(0.0)
        if is_const(node.left, 1):
            return node.right
        if is_const(node.right, 1):
            return node.left
    if isinstance(node, Pow):
        if node.exponent == 0:
            return Const(1.0)
        if node.exponent == 1:
            return node.base
    return node


def simplify(expr: Expr) -> Expr:
    """Rebuild generically from the dataclass fields: expressions are simplified, numbers kept."""
    if isinstance(expr, (Const, Var)):
        return expr
    if not isinstance(expr, Expr):
        raise TypeError(f"not an expression: {expr!r}")
    fields = [getattr(expr, name) for name in expr.__dataclass_fields__]
    rebuilt = type(expr)(*[simplify(f) if isinstance(f, Expr) else f for f in fields])
    return simplify_node(rebuilt)
''',
        "why": "isinstance rules and a generic rebuild from the dataclass fields",
    },
    {
        "cell": "ex_sizes",
        "source": '''def tree_size(expr: Expr) -> int:
    """Count paths: the tree size of a node is 1 + its children's, memoized per distinct node."""
    sizes = {}

    def size(node):
        if node not in sizes:
            sizes[node] = 1 + sum(size(child) for child in children(node))
        return sizes[node]

    return size(expr)


def dag_size(expr: Expr) -> int:
    """Recursive walk with a set of visited nodes."""
    seen = set()

    def visit(node):
        if node in seen:
            return
        seen.add(node)
        for child in children(node):
            visit(child)

    visit(expr)
    return len(seen)
''',
        "why": (
            "memoized tree size (works even for astronomically large trees) and a recursive "
            "DAG walk"
        ),
    },
]
