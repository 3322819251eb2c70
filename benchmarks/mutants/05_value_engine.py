"""Mutants and alternative solutions of 05_value_engine, for benchmarks/mutation_testing.py.

Each mutant is a plausible student bug in the ``value_impl`` cell; the hidden tests must catch
every one. Each alternative is a different, correct engine; it must earn full marks.
"""

MUTANTS = [
    {
        "cell": "value_impl",
        "find": "            other.grad -= out.grad\n",
        "replace": "            other.grad += out.grad\n",
        "bug": "sign of the subtraction gradient: b gets +1 instead of -1 in a - b",
    },
    {
        "cell": "value_impl",
        "find": "            self.grad += other.data * out.grad\n",
        "replace": "            self.grad = other.data * out.grad\n",
        "bug": "= instead of += in the rule of * (a reused node keeps only one contribution)",
        "pitfall": {
            "self_check": "test_accumulation",
            "hint": "x is used twice, its two contributions must add up",
        },
    },
    {
        "cell": "value_impl",
        "find": "            self.grad += out.grad\n            other.grad += out.grad\n",
        "replace": "            self.grad = out.grad\n            other.grad = out.grad\n",
        "bug": "= instead of += in the rule of + (x + x gives 1)",
        "pitfall": {
            "self_check": "test_accumulation",
            "hint": "write self.grad += ..., never self.grad = ...",
        },
    },
    {
        "cell": "value_impl",
        "find": "self.grad += other.data * out.grad",
        "replace": "self.grad += self.data * out.grad",
        "bug": "product rule with the node's own value instead of the other factor",
    },
    {
        "cell": "value_impl",
        "find": "(1 - t * t) * out.grad",
        "replace": "(1 - t) * out.grad",
        "bug": "tanh' written as 1 - tanh(x) instead of 1 - tanh(x)**2",
        "pitfall": {
            "self_check": "test_activation_grads",
            "hint": "Your value matches 1 - tanh(x)",
        },
    },
    {
        "cell": "value_impl",
        "find": "(1 - t * t) * out.grad",
        "replace": "(1 - t * t)",
        "bug": "tanh rule forgets the chain-rule factor out.grad",
        "pitfall": {
            "self_check": "test_activation_grads",
            "hint": "must multiply the local derivative by out.grad",
        },
    },
    {
        "cell": "value_impl",
        "find": "s * (1 - s) * out.grad",
        "replace": "s * out.grad",
        "bug": "sigmoid' written as sigma instead of sigma * (1 - sigma)",
        "pitfall": {
            "self_check": "test_activation_grads",
            "hint": "Your value matches sigmoid(x) itself",
        },
    },
    {
        "cell": "value_impl",
        "find": "exponent * self.data ** (exponent - 1) * out.grad",
        "replace": "self.data ** (exponent - 1) * out.grad",
        "bug": "power rule without the factor n",
    },
    {
        "cell": "value_impl",
        "find": "exponent * self.data ** (exponent - 1) * out.grad",
        "replace": "exponent * self.data**exponent * out.grad",
        "bug": "power rule n * x**n instead of n * x**(n-1)",
        "pitfall": {"self_check": "test_pow_grads", "hint": "Your value matches n * x**n"},
    },
    {
        "cell": "value_impl",
        "find": "self.grad += out.data * out.grad",
        "replace": "self.grad += out.data",
        "bug": "exp rule forgets the chain-rule factor out.grad",
        "pitfall": {
            "self_check": "test_exp_log_grads",
            "hint": "must multiply the local derivative by out.grad",
        },
    },
    {
        "cell": "value_impl",
        "find": "self.grad += out.grad / self.data\n",
        "replace": "self.grad += out.grad * out.data\n",
        "bug": "log' written as log(x) instead of 1/x",
    },
    {
        "cell": "value_impl",
        "find": "self.grad += (out.data > 0) * out.grad",
        "replace": "self.grad += out.grad",
        "bug": "relu passes the gradient through for negative inputs too",
    },
    {
        "cell": "value_impl",
        "find": "other.grad -= out.grad * self.data / other.data**2",
        "replace": "other.grad += out.grad * self.data / other.data**2",
        "bug": "division: wrong sign of d(a/b)/db",
    },
    {
        "cell": "value_impl",
        "find": "other.grad -= out.grad * self.data / other.data**2",
        "replace": "other.grad -= out.grad * self.data / other.data",
        "bug": "division: -a/b instead of -a/b**2",
    },
    {
        "cell": "value_impl",
        "find": "        return Value(other) - self\n",
        "replace": "        return self - other\n",
        "bug": "__rsub__ = __sub__: 2 - x computed as x - 2",
        "pitfall": {
            "self_check": "test_reflected_grads",
            "hint": "__rsub__(self, other) computes other - self",
        },
    },
    {
        "cell": "value_impl",
        "find": "        return Value(other) / self\n",
        "replace": "        return self / other\n",
        "bug": "__rtruediv__ = __truediv__: 2 / x computed as x / 2",
        "pitfall": {
            "self_check": "test_reflected_grads",
            "hint": "__rtruediv__(self, other) computes other / self",
        },
    },
    {
        "cell": "value_impl",
        "find": "        return self + other\n        ### END SOLUTION\n\n    def __neg__",
        "replace": "        return NotImplemented\n        ### END SOLUTION\n\n    def __neg__",
        "bug": "no __radd__: 1 + x and sum() fail",
    },
    {
        "cell": "value_impl",
        "find": "        return self * -1.0\n",
        "replace": "        return self * 1.0\n",
        "bug": "negation without the -1",
    },
    {
        "cell": "value_impl",
        "find": "        for node in reversed(order):\n",
        "replace": "        for node in order:\n",
        "bug": "backward walks the topological order forwards (inputs first)",
    },
    {
        "cell": "value_impl",
        "find": "            if node in visited:\n                continue\n",
        "replace": "",
        "bug": "no visited check: a node reached by two paths runs its rule twice",
        "pitfall": {
            "self_check": "test_accumulation",
            "hint": "a node reached by two paths must appear once",
        },
    },
    {
        "cell": "value_impl",
        "find": "        self.grad = 1.0\n        for node in reversed(order):",
        "replace": "        for node in reversed(order):",
        "bug": "backward forgets to seed the output's grad with 1",
    },
    {
        "cell": "value_impl",
        "find": (
            "        order = []  # children before parents\n"
            "        visited = set()\n"
            "        stack = [(self, False)]\n"
            "        while stack:\n"
            "            node, children_done = stack.pop()\n"
            "            if children_done:\n"
            "                order.append(node)\n"
            "                continue\n"
            "            if node in visited:\n"
            "                continue\n"
            "            visited.add(node)\n"
            "            stack.append((node, True))\n"
            "            for child in node._prev:\n"
            "                if child not in visited:\n"
            "                    stack.append((child, False))\n"
        ),
        "replace": (
            "        order = []\n"
            "        visited = set()\n"
            "\n"
            "        def build_topo(v):\n"
            "            if v not in visited:\n"
            "                visited.add(v)\n"
            "                for child in v._prev:\n"
            "                    build_topo(child)\n"
            "                order.append(v)\n"
            "\n"
            "        build_topo(self)\n"
        ),
        "bug": "micrograd's recursive topological sort (RecursionError on a 5000-node chain)",
    },
    {
        "cell": "value_impl",
        "find": "        self.grad = 0.0\n        self._backward",
        "replace": "        self.grad = 1.0\n        self._backward",
        "bug": "grad starts at 1 instead of 0",
    },
]

_KAHN_COMPOSED = '''class Value:
    """A scalar in a graph; subtraction, division and sigmoid composed from other ops."""

    def __init__(self, data, _children=(), _op=""):
        self.data = float(data)
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = set(_children)
        self._op = _op

    def __repr__(self):
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __radd__(self, other):
        return self + other

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other**-1

    def __rtruediv__(self, other):
        return other * self**-1

    def __pow__(self, exponent):
        out = Value(self.data**exponent, (self,), "**")

        def _backward():
            self.grad += exponent * self.data ** (exponent - 1) * out.grad

        out._backward = _backward
        return out

    def exp(self):
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def log(self):
        out = Value(math.log(self.data), (self,), "log")

        def _backward():
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    def tanh(self):
        e = (self * 2).exp()
        return (e - 1) / (e + 1)

    def sigmoid(self):
        return 1 / (1 + (-self).exp())

    def relu(self):
        out = Value(self.data if self.data > 0 else 0.0, (self,), "relu")

        def _backward():
            self.grad += out.grad if self.data > 0 else 0.0

        out._backward = _backward
        return out

    def backward(self):
        # Kahn's algorithm from the output: count the uses of every node first
        uses = {self: 0}
        stack = [self]
        while stack:
            for child in stack.pop()._prev:
                if child in uses:
                    uses[child] += 1
                else:
                    uses[child] = 1
                    stack.append(child)
        self.grad = 1.0
        ready = [self]
        while ready:
            node = ready.pop()
            node._backward()
            for child in node._prev:
                uses[child] -= 1
                if uses[child] == 0:
                    ready.append(child)
'''

_LOCAL_GRADS = '''class Value:
    """A scalar that stores its local derivatives instead of a closure."""

    def __init__(self, data, _children=(), _local_grads=()):
        self.data = float(data)
        self.grad = 0
        self.children = tuple(_children)
        self.local_grads = tuple(_local_grads)

    @staticmethod
    def wrap(x):
        return x if isinstance(x, Value) else Value(x)

    def __add__(self, other):
        other = Value.wrap(other)
        return Value(self.data + other.data, (self, other), (1.0, 1.0))

    def __radd__(self, other):
        return Value.wrap(other) + self

    def __neg__(self):
        return Value(-self.data, (self,), (-1.0,))

    def __sub__(self, other):
        other = Value.wrap(other)
        return Value(self.data - other.data, (self, other), (1.0, -1.0))

    def __rsub__(self, other):
        return Value.wrap(other) - self

    def __mul__(self, other):
        other = Value.wrap(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data))

    def __rmul__(self, other):
        return Value.wrap(other) * self

    def __truediv__(self, other):
        other = Value.wrap(other)
        return Value(
            self.data / other.data, (self, other), (1 / other.data, -self.data / other.data**2)
        )

    def __rtruediv__(self, other):
        return Value.wrap(other) / self

    def __pow__(self, n):
        return Value(self.data**n, (self,), (n * self.data ** (n - 1),))

    def exp(self):
        e = math.exp(self.data)
        return Value(e, (self,), (e,))

    def log(self):
        return Value(math.log(self.data), (self,), (1 / self.data,))

    def tanh(self):
        t = math.tanh(self.data)
        return Value(t, (self,), (1 - t**2,))

    def sigmoid(self):
        s = 0.5 * (1 + math.tanh(0.5 * self.data))
        return Value(s, (self,), (s * (1 - s),))

    def relu(self):
        return Value(max(self.data, 0.0), (self,), (float(self.data > 0),))

    def backward(self):
        # depth-first post-order with an explicit stack of iterators
        order, seen = [], {self}
        stack = [(self, iter(self.children))]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                order.append(node)
                stack.pop()
            elif child not in seen:
                seen.add(child)
                stack.append((child, iter(child.children)))
        self.grad = 1
        for node in reversed(order):
            for child, local in zip(node.children, node.local_grads):
                child.grad += local * node.grad
'''

ALTERNATIVES = [
    {
        "cell": "value_impl",
        "source": _KAHN_COMPOSED,
        "why": "Kahn's algorithm instead of depth-first search, children in a set, "
        "subtraction/division/tanh/sigmoid composed from +, *, ** and exp",
    },
    {
        "cell": "value_impl",
        "source": _LOCAL_GRADS,
        "why": "no closures: each node stores its local derivatives and backward applies the "
        "chain rule in one loop; iterative DFS with a stack of child iterators",
    },
]
