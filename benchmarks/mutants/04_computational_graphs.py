"""Mutants and alternative solutions of 04_computational_graphs, for mutation_testing.py.

Each mutant is a plausible student bug in one exercise cell; the hidden tests must catch every
one. Each alternative is a different correct solution of one cell; it must earn full marks.
"""

MUTANTS = [
    # ------------------------------------------------------------------ ex_deck_graph
    {
        "cell": "ex_deck_graph",
        "find": "df_dx = df_da * 1.0 + df_db * y",
        "replace": "df_dx = df_da * 1.0",
        "bug": "df/dx forgets the path x -> b -> f (only one of the two paths summed)",
    },
    {
        "cell": "ex_deck_graph",
        "find": "df_dy = df_da * 1.0 + df_db * x",
        "replace": "df_dy = df_da * 1.0 + df_db * y",
        "bug": "local derivative of b = x y with respect to y taken as y instead of x",
    },
    {
        "cell": "ex_deck_graph",
        "find": "df_da = b  # f = a * b\n    df_db = a",
        "replace": "df_da = a  # f = a * b\n    df_db = b",
        "bug": "product rule with the node's own factor: df/da = a instead of b",
    },
    {
        "cell": "ex_deck_graph",
        "find": "    f = a * b\n",
        "replace": "    f = a + b\n",
        "bug": "forward pass combines a and b with + instead of *",
    },
    # ------------------------------------------------------------------ ex_topological_order
    {
        "cell": "ex_topological_order",
        "find": (
            "    order, visited = [], set()\n"
            "    stack = [(root, False)]\n"
            "    while stack:\n"
            "        node, inputs_done = stack.pop()\n"
            "        if inputs_done:\n"
            "            order.append(node)\n"
            "        elif node not in visited:\n"
            "            visited.add(node)\n"
            "            stack.append((node, True))\n"
            "            for inp in node.inputs:\n"
            "                if inp not in visited:\n"
            "                    stack.append((inp, False))\n"
            "    return order\n"
        ),
        "replace": (
            "    order, visited = [], set()\n"
            "\n"
            "    def visit(node):\n"
            "        if node not in visited:\n"
            "            visited.add(node)\n"
            "            for inp in node.inputs:\n"
            "                visit(inp)\n"
            "            order.append(node)\n"
            "\n"
            "    visit(root)\n"
            "    return order\n"
        ),
        "bug": "recursive depth-first search (RecursionError on the 50,000-node chain)",
    },
    {
        "cell": "ex_topological_order",
        "find": "        elif node not in visited:\n",
        "replace": "        else:\n",
        "bug": "no visited check when popping: a node pushed twice is listed twice",
    },
    {
        "cell": "ex_topological_order",
        "find": (
            "        if inputs_done:\n"
            "            order.append(node)\n"
            "        elif node not in visited:\n"
            "            visited.add(node)\n"
        ),
        "replace": (
            "        if inputs_done:\n"
            "            pass\n"
            "        elif node not in visited:\n"
            "            visited.add(node)\n"
            "            order.append(node)\n"
        ),
        "bug": "pre-order: a node is listed when first reached, before its inputs",
    },
    {
        "cell": "ex_topological_order",
        "find": "    return order\n",
        "replace": "    return order[::-1]\n",
        "bug": "returns the order output first (reverse topological) instead of inputs first",
    },
    {
        "cell": "ex_topological_order",
        "find": "    return order\n",
        "replace": "    return order[:-1]\n",
        "bug": "leaves the root out of the order",
    },
    # ------------------------------------------------------------------ ex_backward
    {
        "cell": "ex_backward",
        "find": "inp.grad += local * node.grad",
        "replace": "inp.grad = local * node.grad",
        "bug": "= instead of +=: a node used twice keeps only one contribution",
    },
    {
        "cell": "ex_backward",
        "find": "    for node in reversed(order):\n",
        "replace": "    for node in order:\n",
        "bug": "walks the order inputs first instead of from the output back",
    },
    {
        "cell": "ex_backward",
        "find": "inp.grad += local * node.grad",
        "replace": "inp.grad += local",
        "bug": "forgets the chain-rule factor node.grad (local derivatives only)",
    },
    {
        "cell": "ex_backward",
        "find": "    order[-1].grad = 1.0\n",
        "replace": "    order[0].grad = 1.0\n",
        "bug": "seeds the first node of the order (an input) instead of the output",
    },
    {
        "cell": "ex_backward",
        "find": "zip(node.inputs, node.local_grads)",
        "replace": "zip(node.inputs, reversed(node.local_grads))",
        "bug": "pairs each input with the other input's local derivative",
    },
]

ALTERNATIVES = [
    {
        "cell": "ex_deck_graph",
        "source": '''def forward_pass(x, y):
    """Forward pass of f(x, y) = (x + y)(x y)."""
    a, b = x + y, x * y
    return a, b, a * b


def backward_pass(x, y, a, b):
    """Gradients from the expanded polynomial f = x**2 y + x y**2 (same numbers)."""
    return b, a, 2 * x * y + y**2, x**2 + 2 * x * y
''',
        "why": "expanded polynomial instead of the path sums: the same values",
    },
    {
        "cell": "ex_topological_order",
        "source": '''def topological_order(root):
    """Kahn's algorithm: count each node's users, then release a node when all are listed."""
    users = {root: 0}
    stack = [root]
    while stack:
        for inp in stack.pop().inputs:
            if inp in users:
                users[inp] += 1
            else:
                users[inp] = 1
                stack.append(inp)
    outputs_first, ready = [], [root]
    while ready:
        node = ready.pop()
        outputs_first.append(node)
        for inp in node.inputs:
            users[inp] -= 1
            if users[inp] == 0:
                ready.append(inp)
    return outputs_first[::-1]
''',
        "why": "Kahn's algorithm (counting users) instead of depth-first search",
    },
    {
        "cell": "ex_topological_order",
        "source": '''def topological_order(root):
    """Depth-first post-order with a stack of (node, iterator over its inputs)."""
    order, seen = [], {root}
    stack = [(root, iter(root.inputs))]
    while stack:
        node, inputs = stack[-1]
        for inp in inputs:
            if inp not in seen:
                seen.add(inp)
                stack.append((inp, iter(inp.inputs)))
                break
        else:
            order.append(stack.pop()[0])
    return order
''',
        "why": "a stack of input iterators (the recursion unrolled) instead of (node, flag) pairs",
    },
    {
        "cell": "ex_backward",
        "source": '''def backward(order):
    """Accumulate in a dict keyed by node, then write the grads back."""
    grads = {node: 0.0 for node in order}
    grads[order[-1]] = 1.0
    for node in order[::-1]:
        upstream = grads[node]
        for i, inp in enumerate(node.inputs):
            grads[inp] = grads[inp] + node.local_grads[i] * upstream
    for node, grad in grads.items():
        node.grad = grad
''',
        "why": "gradients accumulated in a dictionary, assigned to the nodes at the end",
    },
]
