"""Plausible student bugs in lesson 03 (each must be caught), correct alternatives (full marks)."""

MUTANTS = [
    {
        "cell": "ex_dual",
        "find": "self.tangent * other.value + self.value * other.tangent",
        "replace": "self.tangent * other.tangent",
        "bug": "product rule replaced by the product of tangents",
    },
    {
        "cell": "ex_dual",
        "find": "self.tangent * other.value + self.value * other.tangent",
        "replace": "self.tangent * other.value",
        "bug": "product rule with one term only",
        "pitfall": {
            "self_check": "test_dual_arithmetic",
            "hint": "one of the product's two terms only",
        },
    },
    {
        "cell": "ex_dual",
        "find": "return Dual.lift(other) - self",
        "replace": "return self - other",
        "bug": "__rsub__ = __sub__ (reflected subtraction with the wrong sign)",
        "pitfall": {"self_check": "test_dual_arithmetic", "hint": "check __rsub__'s sign"},
    },
    {
        "cell": "ex_dual",
        "find": "return Dual.lift(other) / self",
        "replace": "return self / other",
        "bug": "__rtruediv__ = __truediv__",
        "pitfall": {"self_check": "test_dual_arithmetic", "hint": "check __rtruediv__"},
    },
    {
        "cell": "ex_dual",
        "find": "(self.tangent * other.value - self.value * other.tangent) / other.value**2",
        "replace": "(self.tangent * other.value - self.value * other.tangent) / other.value",
        "bug": "quotient rule without the square",
        "pitfall": {
            "self_check": "test_dual_arithmetic",
            "hint": "derive the tangent of a quotient again",
        },
    },
    {
        "cell": "ex_dual",
        "find": "p * self.value ** (p - 1) * self.tangent",
        "replace": "p * self.value ** (p - 1)",
        "bug": "power rule forgets the incoming tangent",
        "pitfall": {"self_check": "test_dual_functions", "hint": "must use the incoming tangent"},
    },
    {
        "cell": "ex_dual",
        "find": "return Dual(e, e * self.tangent)",
        "replace": "return Dual(e, e)",
        "bug": "exp forgets the incoming tangent",
        "pitfall": {"self_check": "test_dual_functions", "hint": "must use the incoming tangent"},
    },
    {
        "cell": "ex_dual",
        "find": "return Dual(math.log(self.value), self.tangent / self.value)",
        "replace": "return Dual(math.log(self.value), self.tangent * self.value)",
        "bug": "log's derivative as x instead of 1/x",
    },
    {
        "cell": "ex_dual",
        "find": "-math.sin(self.value) * self.tangent",
        "replace": "math.sin(self.value) * self.tangent",
        "bug": "cos derivative with the wrong sign",
    },
    {
        "cell": "ex_dual",
        "find": "(1.0 - t * t) * self.tangent",
        "replace": "(1.0 - t) * self.tangent",
        "bug": "tanh' as 1 - tanh(x) instead of 1 - tanh(x)**2",
    },
    {
        "cell": "ex_dual",
        "find": "return Dual(math.sin(self.value), math.cos(self.value) * self.tangent)",
        "replace": "return Dual(math.sin(self.value), math.cos(self.value))",
        "bug": "sin forgets the incoming tangent",
        "pitfall": {"self_check": "test_dual_functions", "hint": "must use the incoming tangent"},
    },
    {
        "cell": "ex_dual",
        "find": "return Dual(-self.value, -self.tangent)",
        "replace": "return Dual(-self.value, self.tangent)",
        "bug": "negation leaves the tangent unchanged",
    },
    {
        "cell": "ex_jvp",
        "find": "return [[columns[j][i] for j in range(n)] for i in range(m)]",
        "replace": "return columns",
        "bug": "Jacobian returned transposed (columns as rows)",
    },
    {
        "cell": "ex_jvp",
        "find": "unit = [1.0 if k == j else 0.0 for k in range(n)]",
        "replace": "unit = [1.0 for k in range(n)]",
        "bug": "seeding every input at once instead of one unit vector per pass",
    },
    {
        "cell": "ex_jvp",
        "find": "out = f([Dual(xj, vj) for xj, vj in zip(x, v)])",
        "replace": "out = f([Dual(xj, 1.0) for xj in x])",
        "bug": "jvp ignores the direction v",
    },
]

ALTERNATIVES = [
    {
        "cell": "ex_jvp",
        "why": "Jacobian built row by row with numpy, jvp via isinstance checks on lists",
        "source": '''
def jvp(f, x, v):
    """One forward pass of f at x with input tangents v: returns (f(x), J(x) @ v)."""
    result = f([Dual(float(a), float(b)) for a, b in zip(x, v)])
    if isinstance(result, (list, tuple)):
        result = [r if isinstance(r, Dual) else Dual(r) for r in result]
        return [r.value for r in result], [r.tangent for r in result]
    return result.value, result.tangent


def jacobian_forward(f, x):
    """The Jacobian of f at x as a list of rows, one forward pass per input."""
    n = len(x)
    J = None
    for j in range(n):
        _, column = jvp(f, x, np.eye(n)[j].tolist())
        column = np.atleast_1d(column)
        if J is None:
            J = np.zeros((len(column), n))
        J[:, j] = column
    return J.tolist()
''',
    },
]
