"""Plausible student bugs (each must be caught) and correct alternatives (each must pass)
for the exercises of 08_vanishing_gradients. Plain data, used by benchmarks/mutation_testing.py."""

MUTANTS = [
    {
        "cell": "ex_sigmoid_bound",
        "find": "return s * (1.0 - s)",
        "replace": "return 1.0 - s",
        "bug": "sigmoid derivative written as 1 - sigma(z)",
    },
    {
        "cell": "ex_sigmoid_bound",
        "find": "return s * (1.0 - s)",
        "replace": "return s * (1.0 + s)",
        "bug": "sign error: sigma(z)(1 + sigma(z))",
    },
    {
        "cell": "ex_sigmoid_bound",
        "find": "return product * 0.25 ** (len(weights) - 1)",
        "replace": "return product * 0.25 ** len(weights)",
        "bug": "off by one: one sigmoid per layer instead of L - 1 between L layers",
    },
    {
        "cell": "ex_sigmoid_bound",
        "find": "product *= abs(w)",
        "replace": "product *= w",
        "bug": "weights multiplied without absolute values (negative bound)",
    },
    {
        "cell": "ex_sigmoid_bound",
        "find": "return product * 0.25 ** (len(weights) - 1)",
        "replace": "return 0.25 ** (len(weights) - 1)",
        "bug": "bound without the weight factors of equation 5",
    },
    {
        "cell": "ex_sigmoid_bound",
        "find": "return product * 0.25 ** (len(weights) - 1)",
        "replace": "return product * 0.5 ** (len(weights) - 1)",
        "bug": "maximum of the sigmoid derivative taken as 0.5 (sigma(0)) instead of 0.25",
    },
    {
        "cell": "ex_layer_gradient_norms",
        "find": 'if not parameter.requires_grad or "bias" in name:',
        "replace": "if not parameter.requires_grad:",
        "bug": "biases included",
    },
    {
        "cell": "ex_layer_gradient_norms",
        "find": 'if not parameter.requires_grad or "bias" in name:',
        "replace": 'if "bias" in name:',
        "bug": "frozen parameters (requires_grad False) not skipped",
    },
    {
        "cell": "ex_layer_gradient_norms",
        "find": "norms[name] = float(np.sqrt(np.sum(grad**2)))",
        "replace": "norms[name] = float(np.sum(grad**2))",
        "bug": "squared norm (forgot the square root)",
    },
    {
        "cell": "ex_layer_gradient_norms",
        "find": "norms[name] = float(np.sqrt(np.sum(grad**2)))",
        "replace": "norms[name] = float(np.abs(grad).mean())",
        "bug": "mean absolute gradient instead of the 2-norm",
    },
    {
        "cell": "ex_layer_gradient_norms",
        "find": "grad = np.asarray(parameter.grad.numpy(), dtype=float)",
        "replace": "grad = np.asarray(parameter.detach().numpy(), dtype=float)",
        "bug": "norm of the weights instead of their gradients",
    },
    {
        "cell": "ex_layer_gradient_norms",
        "find": "        if parameter.grad is None:\n            raise ValueError(",
        "replace": "        if parameter.grad is None:\n"
        "            continue\n            raise ValueError(",
        "bug": "silently skips parameters without a gradient instead of raising",
    },
    {
        "cell": "ex_plot_grad_flow",
        "find": 'if parameter.requires_grad and "bias" not in name:',
        "replace": "if parameter.requires_grad:",
        "bug": "biases included in the gradient-flow plot",
    },
    {
        "cell": "ex_plot_grad_flow",
        "find": "ave_grads.append(float(np.abs(parameter.grad.numpy()).mean()))",
        "replace": "ave_grads.append(float(parameter.grad.numpy().mean()))",
        "bug": "mean of signed gradients (forgot abs)",
    },
    {
        "cell": "ex_plot_grad_flow",
        "find": "ave_grads.append(float(np.abs(parameter.grad.numpy()).mean()))",
        "replace": "ave_grads.append(float(np.abs(parameter.grad.numpy()).max()))",
        "bug": "maximum instead of mean absolute gradient",
    },
    {
        "cell": "ex_plot_grad_flow",
        "find": 'if parameter.requires_grad and "bias" not in name:',
        "replace": 'if "bias" not in name:',
        "bug": "frozen parameters not skipped",
    },
    {
        "cell": "ex_plot_grad_flow",
        "find": 'ax.bar(range(len(ave_grads)), ave_grads, align="center")',
        "replace": 'ax.bar(range(len(ave_grads)), ave_grads[::-1], align="center")',
        "bug": "bars drawn output-first, so they no longer match their labels",
    },
    {
        "cell": "ex_plot_grad_flow",
        "find": "ax.set_xticks(range(len(ave_grads)), layers, rotation=90)",
        "replace": "ax.set_xticks(range(len(ave_grads)))",
        "bug": "bars not labelled with the parameter names",
    },
    {
        "cell": "ex_plot_grad_flow",
        "find": "    new_figure = ax is None\n    if new_figure:\n"
        "        ax = plt.figure(figsize=(10, 8)).gca()\n",
        "replace": "    new_figure = True\n    ax = plt.figure(figsize=(10, 8)).gca()\n",
        "bug": "ignores the ax argument and always draws into a new figure",
    },
]

ALTERNATIVES = [
    {
        "cell": "ex_sigmoid_bound",
        "source": """def sigmoid_derivative(z):
    z = np.asarray(z, dtype=float)
    return np.exp(-z) / (1.0 + np.exp(-z)) ** 2


def sigmoid_chain_bound(weights):
    weights = np.abs(np.asarray(weights, dtype=float))
    return float(np.prod(weights) / 4 ** (weights.size - 1))
""",
        "why": "derivative as e^-z / (1 + e^-z)^2 and the bound with numpy",
    },
    {
        "cell": "ex_layer_gradient_norms",
        "source": """def layer_gradient_norms(model):
    result = {}
    for name, p in model.named_parameters():
        if "bias" in name or not p.requires_grad:
            continue
        if p.grad is None:
            raise ValueError(f"{name} has no .grad; run backward first")
        result[name] = float(np.linalg.norm(p.grad.numpy().ravel()))
    return result
""",
        "why": "np.linalg.norm of the flattened gradient",
    },
    {
        "cell": "ex_plot_grad_flow",
        "source": """def plot_grad_flow(named_parameters, ax=None):
    kept = [(n, p) for n, p in named_parameters if p.requires_grad and "bias" not in n]
    layers = [n for n, _ in kept]
    ave_grads = [p.grad.abs().mean().item() for _, p in kept]
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 8))
    positions = np.arange(len(layers))
    ax.bar(positions, ave_grads)
    ax.set_xticks(positions)
    ax.set_xticklabels(layers, rotation=90)
    ax.set(xlabel="Layers", ylabel="Average gradient", title="Gradient flow")
    return layers, ave_grads
""",
        "why": "the slide's tensor methods (.abs().mean().item()) and set_xticklabels",
    },
]
