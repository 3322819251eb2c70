"""Plausible student bugs (each must fail a hidden test) and correct alternatives (each must pass)
for lesson 01_finite_differences. Plain data, used by benchmarks/mutation_testing.py."""

MUTANTS = [
    {
        "cell": "ex_difference_quotients",
        "find": "return (f(x + h) - f(x - h)) / (2 * h)",
        "replace": "return (f(x + h) - f(x - h)) / h",
        "bug": "central difference divided by h instead of 2h",
    },
    {
        "cell": "ex_difference_quotients",
        "find": "return (f(x) - f(x - h)) / h",
        "replace": "return (f(x - h) - f(x)) / h",
        "bug": "backward difference with the wrong sign",
    },
    {
        "cell": "ex_difference_quotients",
        "find": "return (f(x + h) - f(x)) / h",
        "replace": "return (f(x) - f(x - h)) / h",
        "bug": "forward difference written as the backward one",
    },
    {
        "cell": "ex_difference_quotients",
        "find": "return (f(x + h) - f(x - h)) / (2 * h)",
        "replace": "return (f(x + h) - f(x)) / h",
        "bug": "central difference computed as a forward difference (first order only)",
    },
    {
        "cell": "ex_difference_quotients",
        "find": "return (f(x + h) - f(x - h)) / (2 * h)",
        "replace": "return (f(x + h / 2) - f(x - h / 2)) / h",
        "bug": "central difference on a half step (right order, but not the formula asked for)",
    },
    {
        "cell": "ex_best_step",
        "find": "return [abs(quotient(f, x, h) - exact) for h in hs]",
        "replace": "return [quotient(f, x, h) - exact for h in hs]",
        "bug": "signed error instead of the absolute error",
    },
    {
        "cell": "ex_best_step",
        "find": "return [abs(quotient(f, x, h) - exact) for h in hs]",
        "replace": "return [abs(quotient(f, x, h) - exact) / abs(exact) for h in hs]",
        "bug": "relative error where the absolute error was asked for",
    },
    {
        "cell": "ex_best_step",
        "find": "i = int(np.argmin(errors))",
        "replace": "i = int(np.argmax(errors))",
        "bug": "picks the worst step instead of the best",
    },
    {
        "cell": "ex_best_step",
        "find": "return hs[i], errors[i]",
        "replace": "return hs[i], errors[i - 1]",
        "bug": "off-by-one between the step and its error",
    },
    {
        "cell": "ex_best_step",
        "find": "return hs[i], errors[i]",
        "replace": "return sorted(hs)[i], errors[i]",
        "bug": "returns a step from the sorted list, not the one that was measured (hs not sorted)",
    },
    {
        "cell": "ex_complex_step",
        "find": "return f(complex(x, h)).imag / h",
        "replace": "return f(complex(x, h)).real / h",
        "bug": "takes the real part instead of the imaginary part",
    },
    {
        "cell": "ex_complex_step",
        "find": "return f(complex(x, h)).imag / h",
        "replace": "return f(complex(x, h)).imag / (2 * h)",
        "bug": "divides by 2h as in the central difference",
    },
    {
        "cell": "ex_complex_step",
        "find": "return f(complex(x, h)).imag / h",
        "replace": "return (f(complex(x, h)) - f(x)).imag / h",
        "bug": "evaluates f twice (a complex difference quotient: right value, double cost)",
    },
    {
        "cell": "ex_complex_step",
        "find": "return f(complex(x, h)).imag / h",
        "replace": (
            "return f(complex(x, h)).imag / h if h < 1e-8 else (f(x + h) - f(x - h)).real / (2 * h)"
        ),
        "bug": "falls back to a real central difference for larger steps",
    },
    {
        "cell": "ex_numerical_gradient",
        "find": "    x = np.asarray(x, dtype=float)\n    grad = np.zeros_like(x)",
        "replace": "    x = np.asarray(x)\n    grad = np.zeros_like(x, dtype=float)",
        "bug": "integer input not converted to float: the shifts x[j] += h are lost",
        "pitfall": {
            "self_check": "test_numerical_gradient",
            "hint": "is x an integer array? numpy truncates",
        },
    },
    {
        "cell": "ex_numerical_gradient",
        "find": "    x = np.asarray(x, dtype=float)\n    grad = np.zeros_like(x)",
        "replace": "    x = np.asarray(x)\n    grad = np.zeros_like(x)",
        "bug": "integer input kept, and an integer gradient array that truncates the quotients",
        "pitfall": {
            "self_check": "test_numerical_gradient",
            "hint": "is x an integer array? numpy truncates",
        },
    },
    {
        "cell": "ex_numerical_gradient",
        "find": "grad[j] = (f(x_plus) - f(x_minus)) / (2 * h)",
        "replace": "grad[j] = (f(x_plus) - f(x_minus)) / h",
        "bug": "gradient divided by h instead of 2h",
    },
    {
        "cell": "ex_numerical_gradient",
        "find": (
            "        x_plus, x_minus = x.copy(), x.copy()\n        x_plus[j] += h\n "
            "       x_minus[j] -= h\n        grad[j]"
        ),
        "replace": (
            "        x_plus, x_minus = x, x.copy()\n        x_plus[j] += h\n       "
            " x_minus[j] -= h\n        grad[j]"
        ),
        "bug": "shifts the caller's x in place (no copy) and never restores it",
    },
    {
        "cell": "ex_numerical_gradient",
        "find": "grad[j] = (f(x_plus) - f(x_minus)) / (2 * h)",
        "replace": "grad[j] = (f(x_plus) - f(x)) / h",
        "bug": (
            "forward differences (n + 1 evaluations and first order) where central "
            "ones were asked for"
        ),
    },
    {
        "cell": "ex_numerical_gradient",
        "find": "        x_minus[j] -= h\n        grad[j]",
        "replace": "        x_minus[0] -= h\n        grad[j]",
        "bug": "shifts the wrong coordinate (always the first) for the minus point",
    },
    {
        "cell": "ex_numerical_gradient",
        "find": "return np.stack(columns, axis=1)",
        "replace": "return np.stack(columns, axis=0)",
        "bug": "transposed Jacobian: rows are inputs instead of outputs",
    },
    {
        "cell": "ex_numerical_gradient",
        "find": "columns.append((f_plus - f_minus) / (2 * h))",
        "replace": "columns.append((f_plus - f_minus) / h)",
        "bug": "Jacobian divided by h instead of 2h",
    },
    {
        "cell": "ex_numerical_gradient",
        "find": "    x = np.asarray(x, dtype=float)\n    columns = []",
        "replace": "    x = np.asarray(x)\n    columns = []",
        "bug": "integer input not converted to float in the Jacobian",
        "pitfall": {
            "self_check": "test_numerical_jacobian",
            "hint": "is x an integer array? numpy truncates",
        },
    },
    {
        "cell": "ex_relative_error",
        "find": "np.maximum(1e-8, np.abs(a) + np.abs(b))",
        "replace": "(1e-8 + np.abs(a) + np.abs(b))",
        "bug": "floor added instead of taken as a maximum",
    },
    {
        "cell": "ex_relative_error",
        "find": "return float(np.max(",
        "replace": "return float(np.mean(",
        "bug": "mean over entries instead of the maximum",
    },
    {
        "cell": "ex_relative_error",
        "find": "np.maximum(1e-8, np.abs(a) + np.abs(b))",
        "replace": "np.maximum(1e-8, np.abs(a + b))",
        "bug": "|a + b| instead of |a| + |b| in the denominator",
    },
    {
        "cell": "ex_relative_error",
        "find": "np.maximum(1e-8, np.abs(a) + np.abs(b))",
        "replace": "np.maximum(1e-8, np.abs(a))",
        "bug": "divides by |a| only",
    },
    {
        "cell": "ex_relative_error",
        "find": "return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))",
        "replace": (
            "return float(np.max(np.abs(a - b)) / max(1e-8, float(np.max(np.abs(a) + np.abs(b)))))"
        ),
        "bug": "largest difference over largest magnitude instead of entry by entry",
    },
]

ALTERNATIVES = [
    {
        "cell": "ex_difference_quotients",
        "source": '''def forward_difference(f, x: float, h: float = 1e-8) -> float:
    """Forward difference."""
    f_x = f(x)
    f_right = f(x + h)
    return float((f_right - f_x) / h)


def backward_difference(f, x: float, h: float = 1e-8) -> float:
    """Backward difference as minus the forward difference with step -h."""
    return -(f(x - h) - f(x)) / h


def central_difference(f, x: float, h: float = 6e-6) -> float:
    """Central difference as the mean of the forward and backward slopes, f(x) cancels."""
    return 0.5 * (f(x + h) - f(x - h)) / h
''',
        "why": "same quotients written differently (mean of slopes, negated step)",
    },
    {
        "cell": "ex_best_step",
        "source": '''def step_errors(quotient, f, dfdx, x: float, hs) -> list[float]:
    """Absolute errors, one per step."""
    errors = []
    for h in hs:
        errors.append(abs(dfdx(x) - quotient(f, x, h)))
    return errors


def best_step(quotient, f, dfdx, x: float, hs) -> tuple[float, float]:
    """The (h, error) pair with the smallest error."""
    pairs = zip(hs, step_errors(quotient, f, dfdx, x, hs))
    return min(pairs, key=lambda pair: pair[1])
''',
        "why": "a plain loop and min with a key instead of numpy argmin",
    },
    {
        "cell": "ex_complex_step",
        "source": '''def complex_step(f, x: float, h: float = 1e-20) -> float:
    """Complex step with numpy's complex type."""
    value = f(x + 1j * h)
    return float(np.imag(value)) / h
''',
        "why": "x + 1j*h and np.imag",
    },
    {
        "cell": "ex_numerical_gradient",
        "source": '''def numerical_gradient(f, x, h: float = 1e-6) -> np.ndarray:
    """Central differences along the rows of the identity matrix."""
    x = np.array(x, dtype=float)
    steps = h * np.eye(x.size)
    return np.array([(f(x + e) - f(x - e)) / (2 * h) for e in steps])


def numerical_jacobian(f, x, h: float = 1e-6) -> np.ndarray:
    """Fill the Jacobian column by column, restoring x after each shift."""
    x = np.array(x, dtype=float)
    jac = None
    for j in range(x.size):
        old = x[j]
        x[j] = old + h
        f_plus = np.array(f(x), dtype=float)
        x[j] = old - h
        f_minus = np.array(f(x), dtype=float)
        x[j] = old
        column = (f_plus - f_minus) / (2 * h)
        if jac is None:
            jac = np.empty((column.size, x.size))
        jac[:, j] = column
    return jac
''',
        "why": (
            "identity-matrix steps for the gradient; in-place shift-and-restore on "
            "a private copy for the Jacobian"
        ),
    },
    {
        "cell": "ex_relative_error",
        "source": '''def relative_error(a, b) -> float:
    """Loop over the flattened entries."""
    worst = 0.0
    for u, v in zip(np.ravel(a), np.ravel(b)):
        worst = max(worst, abs(u - v) / max(1e-8, abs(u) + abs(v)))
    return float(worst)
''',
        "why": "a Python loop over flattened entries",
    },
]
