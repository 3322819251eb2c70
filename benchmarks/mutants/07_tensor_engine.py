"""Mutants and alternative solutions of 07_tensor_engine, for benchmarks/mutation_testing.py.

Each mutant is a plausible student bug in one VJP (or in the gradient checker or the training
step); the hidden tests must catch every one. Each alternative is a different, correct solution
cell; it must earn full marks.
"""

MUTANTS = [
    {
        "cell": "ex_unbroadcast",
        "find": "        if size == 1 and grad.shape[axis] != 1:",
        "replace": "        if False:",
        "bug": "unbroadcast only sums the leading axes, not the axes stretched from size 1",
    },
    {
        "cell": "ex_unbroadcast",
        "find": "grad = grad.sum(axis=axis, keepdims=True)",
        "replace": "grad = grad.sum(axis=axis)",
        "bug": "size-1 axes summed without keepdims=True (the shape loses the axis)",
    },
    {
        "cell": "ex_unbroadcast",
        "find": "grad = grad.sum(axis=0)",
        "replace": "grad = grad.mean(axis=0)",
        "bug": "mean over the broadcast rows instead of their sum",
    },
    {
        "cell": "ex_reductions",
        "find": "return sum_vjp(g, a, axis, keepdims) / count",
        "replace": "return sum_vjp(g, a, axis, keepdims)",
        "bug": "mean's VJP without the 1/count factor",
    },
    {
        "cell": "ex_reductions",
        "find": "count = a.size / np.asarray(a.sum(axis=axis, keepdims=keepdims)).size",
        "replace": "count = a.size",
        "bug": "mean along an axis divided by the number of ALL entries",
    },
    {
        "cell": "ex_reductions",
        "find": "        g = np.expand_dims(g, tuple(axes))\n",
        "replace": "",
        "bug": "the summed axis is not put back before broadcasting (wrong axis alignment)",
    },
    {
        "cell": "ex_add_mul",
        "find": "return unbroadcast(g, np.shape(a)), unbroadcast(g, np.shape(b))",
        "replace": "return g, g",
        "bug": "add's VJP returns the output-shaped gradient for broadcast inputs",
    },
    {
        "cell": "ex_add_mul",
        "find": "return unbroadcast(g * b, np.shape(a)), unbroadcast(g * a, np.shape(b))",
        "replace": "return unbroadcast(g * a, np.shape(a)), unbroadcast(g * b, np.shape(b))",
        "bug": "product rule with the input's own value instead of the other factor",
    },
    {
        "cell": "ex_matmul",
        "find": "return g @ b.T, a.T @ g",
        "replace": "return g @ b.T, g.T @ a",
        "bug": "gradient of b transposed (g^T a instead of a^T g)",
    },
    {
        "cell": "ex_elementwise",
        "find": "return g * (1.0 - t * t)",
        "replace": "return g * (1.0 - t)",
        "bug": "tanh' written as 1 - tanh instead of 1 - tanh**2",
    },
    {
        "cell": "ex_elementwise",
        "find": "return g * s * (1.0 - s)",
        "replace": "return g * s",
        "bug": "sigmoid' written as sigma instead of sigma (1 - sigma)",
    },
    {
        "cell": "ex_elementwise",
        "find": "s = 0.5 * (1.0 + np.tanh(0.5 * a))",
        "replace": "s = 1.0 / (1.0 + np.exp(-a))",
        "bug": "sigmoid computed with exp(-a): overflows for a = -800",
    },
    {
        "cell": "ex_elementwise",
        "find": "return g / a",
        "replace": "return 1.0 / a",
        "bug": "log's VJP forgets the upstream gradient g",
    },
    {
        "cell": "ex_elementwise",
        "find": "return g * (a > 0)",
        "replace": "return g * np.maximum(a, 0.0)",
        "bug": "ReLU's VJP multiplies by relu(a) instead of the 0/1 mask",
    },
    {
        "cell": "ex_cross_entropy",
        "find": "shifted = z - z.max(axis=1, keepdims=True)",
        "replace": "shifted = z",
        "bug": "log-softmax without the max shift: exp overflows for large logits",
    },
    {
        "cell": "ex_cross_entropy",
        "find": "shifted = z - z.max(axis=1, keepdims=True)",
        "replace": "shifted = z - z.max(axis=0, keepdims=True)",
        "bug": "maximum taken over the wrong axis (per class instead of per example)",
    },
    {
        "cell": "ex_cross_entropy",
        "find": "return g * grad / n",
        "replace": "return g * grad",
        "bug": "the fused VJP forgets the 1/N of the mean",
    },
    {
        "cell": "ex_cross_entropy",
        "find": "grad[np.arange(n), labels] -= 1.0",
        "replace": "grad[:, labels] -= 1.0",
        "bug": "one-hot subtracted with the wrong fancy index (every row, every label)",
    },
    {
        "cell": "ex_gradcheck",
        "find": (
            "        x[j] = original - h\n        f_minus = f(x)\n"
            "        x[j] = original\n        grad[j] = (f_plus - f_minus) / (2 * h)"
        ),
        "replace": (
            "        x[j] = original\n        f_minus = f(x)\n"
            "        grad[j] = (f_plus - f_minus) / h"
        ),
        "bug": "forward difference instead of the central difference",
    },
    {
        "cell": "ex_gradcheck",
        "find": "        x[j] = original\n",
        "replace": "",
        "bug": "x not restored after perturbing an entry",
    },
    {
        "cell": "ex_gradcheck",
        "find": "worst = max(worst, float(error.max()))",
        "replace": "worst = max(worst, float(error.mean()))",
        "bug": "average relative error instead of the largest one",
    },
    {
        "cell": "ex_gradcheck",
        "find": (
            "error = np.abs(leaf.grad - numeric) / "
            "np.maximum(1e-8, np.abs(leaf.grad) + np.abs(numeric))"
        ),
        "replace": "error = np.abs(leaf.grad - numeric)",
        "bug": "absolute instead of relative error (a wrong small gradient passes)",
    },
    {
        "cell": "ex_train_step",
        "find": "    for p in params:\n        p.zero_grad()\n",
        "replace": "",
        "bug": "gradients never zeroed between steps",
    },
    {
        "cell": "ex_train_step",
        "find": "p.data -= learning_rate * p.grad",
        "replace": "p.data += learning_rate * p.grad",
        "bug": "gradient ascent",
    },
    {
        "cell": "ex_train_step",
        "find": "(Tensor(X) @ W1 + b1).relu() @ W2 + b2",
        "replace": "(Tensor(X) @ W1 + b1) @ W2 + b2",
        "bug": "hidden layer without its ReLU",
    },
]

ALTERNATIVES = [
    {
        "cell": "ex_unbroadcast",
        "source": '''def unbroadcast(grad, shape):
    """Collect every axis to sum at once, then reshape."""
    grad = np.asarray(grad)
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, size in enumerate(shape) if size == 1 and grad.shape[extra + i] != 1
    )
    return grad.sum(axis=axes).reshape(shape) if axes else grad
''',
        "why": "one sum over a tuple of axes followed by a reshape",
    },
    {
        "cell": "ex_reductions",
        "source": '''def sum_vjp(g, a, axis=None, keepdims=False):
    """Reshape g to the kept shape (size 1 on the summed axes), then multiply by ones."""
    if axis is None:
        axes = tuple(range(a.ndim))
    elif isinstance(axis, int):
        axes = (axis % a.ndim,)
    else:
        axes = tuple(ax % a.ndim for ax in axis)
    kept_shape = tuple(1 if i in axes else n for i, n in enumerate(a.shape))
    return np.ones_like(a) * np.reshape(g, kept_shape)


def mean_vjp(g, a, axis=None, keepdims=False):
    """Divide by the product of the reduced axes' lengths."""
    if axis is None:
        count = a.size
    elif isinstance(axis, int):
        count = a.shape[axis]
    else:
        count = int(np.prod([a.shape[ax] for ax in axis]))
    return sum_vjp(g, a, axis, keepdims) / count
''',
        "why": "reshape to the keepdims shape instead of expand_dims + broadcast_to",
    },
    {
        "cell": "ex_elementwise",
        "source": """def relu_vjp(g, a):
    return np.where(a > 0, g, 0.0)


def tanh_vjp(g, a):
    return g * (1.0 - np.tanh(a) ** 2)


def sigmoid_vjp(g, a):
    s = np.exp(-np.logaddexp(0.0, -a))
    return g * s * (1.0 - s)


def exp_vjp(g, a):
    return np.exp(a) * g


def log_vjp(g, a):
    return g * (1.0 / a)
""",
        "why": "np.where mask, sigmoid through logaddexp (no overflow), reordered products",
    },
    {
        "cell": "ex_cross_entropy",
        "source": '''def log_softmax(z):
    """log p = z - logsumexp(z), with numpy's stable logaddexp reduction."""
    return z - np.logaddexp.reduce(z, axis=1, keepdims=True)


def cross_entropy_vjp(g, z, labels):
    """Softmax minus one-hot rows of the identity matrix, over N."""
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p = p / p.sum(axis=1, keepdims=True)
    onehot = np.eye(z.shape[1])[labels]
    return g * (p - onehot) / len(labels)
''',
        "why": "logaddexp.reduce for the log-sum-exp, an explicit softmax and np.eye one-hot",
    },
    {
        "cell": "ex_gradcheck",
        "source": '''def numerical_gradient(f, x, h=1e-6):
    """Central differences on a flat view of x."""
    flat = x.reshape(-1)
    grad = np.empty(flat.shape)
    for j in range(flat.size):
        saved = flat[j]
        flat[j] = saved + h
        up = f(x)
        flat[j] = saved - h
        down = f(x)
        flat[j] = saved
        grad[j] = (up - down) / (2.0 * h)
    return grad.reshape(x.shape)


def gradient_check(f, arrays, h=1e-6):
    """Analytic gradients of all inputs first, then one numerical gradient per input."""
    arrays = [np.asarray(a, dtype=np.float64).copy() for a in arrays]
    leaves = [Tensor(a) for a in arrays]
    f(*leaves).backward()
    errors = []
    for k in range(len(arrays)):
        def value(x, k=k):
            inputs = [Tensor(x) if i == k else Tensor(a) for i, a in enumerate(arrays)]
            return float(f(*inputs).data)

        numeric = numerical_gradient(value, arrays[k].copy(), h)
        analytic = leaves[k].grad
        scale = np.maximum(np.abs(analytic) + np.abs(numeric), 1e-8)
        errors.append(np.max(np.abs(analytic - numeric) / scale))
    return float(max(errors))
''',
        "why": "perturbs a flat view of x, collects per-input maxima and returns their maximum",
    },
    {
        "cell": "ex_train_step",
        "source": '''def train_step(params, X, y, learning_rate):
    """Zero first, then forward, backward and a non-in-place update."""
    for p in params:
        p.grad = np.zeros_like(p.data)
    W1, b1, W2, b2 = params
    hidden = (as_tensor(X) @ W1 + b1).relu()
    loss = (hidden @ W2 + b2).cross_entropy(y)
    loss.backward()
    for p in params:
        p.data = p.data - learning_rate * p.grad
    return loss.data.item()
''',
        "why": "zeroes before the forward pass, uses as_tensor, replaces p.data instead of -=",
    },
]
