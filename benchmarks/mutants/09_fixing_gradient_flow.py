"""Plausible student bugs (each must be caught) and correct alternatives (each must pass)
for the exercises of 09_fixing_gradient_flow. Plain data, used by benchmarks/mutation_testing.py."""

MUTANTS = [
    {
        "cell": "ex_leaky_relu",
        "find": "return np.where(x > 0, x, negative_slope * x)",
        "replace": "return np.maximum(x, 0.0)",
        "bug": "plain ReLU: negative inputs zeroed instead of scaled by the slope",
    },
    {
        "cell": "ex_leaky_relu",
        "find": "return np.where(x > 0, 1.0, negative_slope)",
        "replace": "return np.where(x > 0, 1.0, negative_slope * x)",
        "bug": "derivative for x < 0 written as alpha * x (the function) instead of alpha",
    },
    {
        "cell": "ex_leaky_relu",
        "find": "return np.where(x > 0, 1.0, negative_slope)",
        "replace": "return np.where(x > 0, 1.0, 0.01)",
        "bug": "derivative ignores the negative_slope argument",
    },
    {
        "cell": "ex_init",
        "find": "math.sqrt(6.0 / (fan_in + fan_out))",
        "replace": "math.sqrt(3.0 / (fan_in + fan_out))",
        "bug": "Xavier limit with 3 instead of 6 (variance halved)",
    },
    {
        "cell": "ex_init",
        "find": "return rng.uniform(-limit, limit, size=(fan_in, fan_out))",
        "replace": "return rng.normal(0.0, limit / math.sqrt(3.0), size=(fan_in, fan_out))",
        "bug": "Xavier drawn from a normal distribution (right variance, not uniform on [-r, r])",
    },
    {
        "cell": "ex_init",
        "find": "math.sqrt(2.0 / fan_in)",
        "replace": "math.sqrt(2.0 / fan_out)",
        "bug": "He initialisation with fan_out instead of fan_in",
    },
    {
        "cell": "ex_init",
        "find": "rng.normal(0.0, math.sqrt(2.0 / fan_in)",
        "replace": "rng.normal(0.0, 2.0 / fan_in",
        "bug": "variance passed where numpy expects the standard deviation",
    },
    {
        "cell": "ex_init",
        "find": "return rng.normal(0.0, math.sqrt(2.0 / fan_in), size=(fan_in, fan_out))",
        "replace": "return rng.normal(0.0, math.sqrt(2.0 / fan_in), size=(fan_out, fan_in))",
        "bug": "transposed weight shape (fan_out, fan_in)",
    },
    {
        "cell": "ex_residual",
        "find": "y = x + a @ W2 + b2",
        "replace": "y = a @ W2 + b2",
        "bug": "forward pass without the skip connection",
    },
    {
        "cell": "ex_residual",
        "find": "dx = dy + dz @ W1.T",
        "replace": "dx = dz @ W1.T",
        "bug": "backward pass forgets the identity path in dx",
    },
    {
        "cell": "ex_residual",
        "find": "dz = da * (z > 0)",
        "replace": "dz = da",
        "bug": "ReLU mask missing in the backward pass",
    },
    {
        "cell": "ex_residual",
        "find": "db1 = dz.sum(axis=0)",
        "replace": "db1 = dz.mean(axis=0)",
        "bug": "bias gradient averaged over the batch instead of summed",
    },
    {
        "cell": "ex_residual",
        "find": "dW2 = a.T @ dy",
        "replace": "dW2 = z.T @ dy",
        "bug": "dW2 computed from the pre-activation z instead of the ReLU output a",
    },
    {
        "cell": "ex_residual",
        "find": "db2 = dy.sum(axis=0)",
        "replace": "db2 = dy.sum(axis=1)",
        "bug": "bias gradient summed over the wrong axis",
    },
    {
        "cell": "ex_batchnorm",
        "find": "var = x.var(axis=0)",
        "replace": "var = x.var(axis=0, ddof=1)",
        "bug": "unbiased variance (divides by N - 1) in BatchNorm",
    },
    {
        "cell": "ex_batchnorm",
        "find": "inv_std = 1.0 / np.sqrt(var + eps)",
        "replace": "inv_std = 1.0 / (np.sqrt(var) + eps)",
        "bug": "eps outside the square root",
    },
    {
        "cell": "ex_batchnorm",
        "find": "mean = x.mean(axis=0)\n    var = x.var(axis=0)",
        "replace": "mean = x.mean(axis=1, keepdims=True)\n    var = x.var(axis=1, keepdims=True)",
        "bug": "normalised over features (axis 1, LayerNorm) instead of over the batch",
    },
    {
        "cell": "ex_batchnorm",
        "find": "dx = inv_std / n * (n * g - g.sum(axis=0) - x_hat * (g * x_hat).sum(axis=0))",
        "replace": "dx = g * inv_std",
        "bug": "backward treats the batch mean and variance as constants",
    },
    {
        "cell": "ex_batchnorm",
        "find": "dx = inv_std / n * (n * g - g.sum(axis=0) - x_hat * (g * x_hat).sum(axis=0))",
        "replace": "dx = inv_std / n * (n * g - g.sum(axis=0))",
        "bug": "backward forgets the variance term of dx",
    },
    {
        "cell": "ex_batchnorm",
        "find": "dgamma = (dy * x_hat).sum(axis=0)",
        "replace": "dgamma = dy.sum(axis=0)",
        "bug": "dgamma without the x_hat factor",
    },
    {
        "cell": "ex_batchnorm",
        "find": "g = dy * gamma",
        "replace": "g = dy",
        "bug": "missing chain-rule factor gamma in dx",
    },
    {
        "cell": "ex_clip",
        "find": "total_norm = math.sqrt(sum(float(np.sum(np.square(g))) for g in grads))",
        "replace": "total_norm = sum(float(np.linalg.norm(g)) for g in grads)",
        "bug": "global norm computed as the sum of the arrays' norms",
    },
    {
        "cell": "ex_clip",
        "find": "scale = max_norm / total_norm if total_norm > max_norm else 1.0",
        "replace": "scale = max_norm / total_norm if total_norm > 0 else 1.0",
        "bug": "always rescales to max_norm, also scaling small gradients up",
    },
    {
        "cell": "ex_clip",
        "find": "    scale = max_norm / total_norm if total_norm > max_norm else 1.0\n"
        "    return [np.asarray(g, dtype=float) * scale for g in grads], total_norm",
        "replace": "    clipped = [g * min(1.0, max_norm / max(float(np.linalg.norm(g)), 1e-12)) "
        "for g in grads]\n    return clipped, total_norm",
        "bug": "clips every array separately (changes the direction of the step)",
    },
    {
        "cell": "ex_clip",
        "find": "    return [np.asarray(g, dtype=float) * scale for g in grads], total_norm",
        "replace": "    for g in grads:\n        g *= scale\n    return grads, total_norm",
        "bug": "modifies the caller's arrays in place",
    },
    {
        "cell": "ex_clip",
        "find": "    return [np.asarray(g, dtype=float) * scale for g in grads], total_norm",
        "replace": "    return [np.asarray(g, dtype=float) * scale for g in grads], "
        "total_norm * scale",
        "bug": "returns the norm after clipping instead of before",
    },
]

ALTERNATIVES = [
    {
        "cell": "ex_leaky_relu",
        "source": """def leaky_relu(x, negative_slope=0.01):
    x = np.array(x, dtype=float)
    return np.maximum(negative_slope * x, x)


def leaky_relu_derivative(x, negative_slope=0.01):
    x = np.array(x, dtype=float)
    grad = np.ones_like(x)
    grad[x < 0] = negative_slope
    return grad
""",
        "why": "max(alpha x, x) form and a mask assignment (derivative 1 at exactly 0)",
    },
    {
        "cell": "ex_init",
        "source": """def xavier_uniform(fan_in, fan_out, rng):
    bound = np.sqrt(6 / (fan_in + fan_out))
    return (2 * rng.random((fan_in, fan_out)) - 1) * bound


def he_normal(fan_in, fan_out, rng):
    return rng.standard_normal((fan_in, fan_out)) * np.sqrt(2 / fan_in)
""",
        "why": "rescaled rng.random and rng.standard_normal instead of uniform/normal",
    },
    {
        "cell": "ex_residual",
        "source": """def residual_block_forward(x, W1, b1, W2, b2):
    hidden = x @ W1 + b1
    mask = hidden > 0
    branch = (hidden * mask) @ W2 + b2
    return branch + x, {"x": x, "W1": W1, "W2": W2, "mask": mask, "h": hidden * mask}


def residual_block_backward(dy, cache):
    dh = (dy @ cache["W2"].T) * cache["mask"]
    return (
        dy + dh @ cache["W1"].T,
        cache["x"].T @ dh,
        np.sum(dh, axis=0),
        cache["h"].T @ dy,
        np.sum(dy, axis=0),
    )
""",
        "why": "dict cache and a boolean mask multiplied in",
    },
    {
        "cell": "ex_batchnorm",
        "source": """def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mu = np.mean(x, axis=0)
    xc = x - mu
    var = np.mean(xc**2, axis=0)
    std = np.sqrt(var + eps)
    xn = xc / std
    return gamma * xn + beta, (xc, std, xn, gamma)


def batchnorm_backward(dy, cache):
    # staged backward through every intermediate (CS231n style)
    xc, std, xn, gamma = cache
    n = dy.shape[0]
    dbeta = dy.sum(axis=0)
    dgamma = np.sum(dy * xn, axis=0)
    dxn = dy * gamma
    dxc = dxn / std
    dstd = -np.sum(dxn * xc / std**2, axis=0)
    dvar = 0.5 * dstd / std
    dxc += 2.0 * xc * dvar / n
    dmu = -np.sum(dxc, axis=0)
    dx = dxc + dmu / n
    return dx, dgamma, dbeta
""",
        "why": "step-by-step backward through every intermediate instead of the closed form",
    },
    {
        "cell": "ex_clip",
        "source": """def clip_grad_norm(grads, max_norm):
    total_norm = float(np.sqrt(sum(np.vdot(g, g) for g in grads)))
    clip_coef = min(1.0, max_norm / (total_norm + 1e-6))
    return [g.copy() * clip_coef for g in grads], total_norm
""",
        "why": "PyTorch's form with 1e-6 in the denominator and min(1, coef)",
    },
]
