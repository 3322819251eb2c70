"""Mutants and alternative solutions of 06_neural_networks, for benchmarks/mutation_testing.py.

Each mutant is a plausible student bug in one solution cell; the hidden tests must catch every
one. Each alternative is a different, correct solution cell; it must earn full marks.
"""

MUTANTS = [
    {
        "cell": "ex_neuron",
        "find": "return z.relu() if self.nonlin else z",
        "replace": "return z.relu()",
        "bug": "ReLU applied even when nonlin=False (the output neuron cannot go negative)",
    },
    {
        "cell": "ex_neuron",
        "find": "z = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)",
        "replace": "z = sum(wi * xi for wi, xi in zip(self.w, x))",
        "bug": "bias never added (sum() starts from 0 instead of self.b)",
    },
    {
        "cell": "ex_neuron",
        "find": "return self.w + [self.b]",
        "replace": "return [self.b] + self.w",
        "bug": "parameters() lists the bias first",
    },
    {
        "cell": "ex_neuron",
        "find": "self.w = [Value(random.uniform(-1.0, 1.0)) for _ in range(nin)]",
        "replace": "self.w = [Value(0.5) for _ in range(nin)]",
        "bug": "constant initial weights: the neurons of a layer never differ (symmetry)",
    },
    {
        "cell": "ex_layer",
        "find": "return outs[0] if len(outs) == 1 else outs",
        "replace": "return outs",
        "bug": "a one-neuron layer returns a list instead of the Value itself",
    },
    {
        "cell": "ex_layer",
        "find": "self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]",
        "replace": "self.neurons = [Neuron(nin) for _ in range(nout)]",
        "bug": "keyword arguments (nonlin=False) not passed on to the neurons",
    },
    {
        "cell": "ex_mlp",
        "find": "nonlin=i != len(nouts) - 1",
        "replace": "nonlin=True",
        "bug": "ReLU on the output layer too",
    },
    {
        "cell": "ex_mlp",
        "find": "for i in range(len(nouts))",
        "replace": "for i in range(len(nouts) - 1)",
        "bug": "off by one: the output layer is never built",
    },
    {
        "cell": "ex_losses",
        "find": "return sum(squares) * (1.0 / len(squares))",
        "replace": "return sum(squares)",
        "bug": "mean squared error summed instead of averaged",
    },
    {
        "cell": "ex_losses",
        "find": "(1 - y * s).relu()",
        "replace": "(-y * s).relu()",
        "bug": "hinge loss without the margin of 1 (the perceptron loss)",
    },
    {
        "cell": "ex_sgd_step",
        "find": "p.data -= learning_rate * p.grad",
        "replace": "p.data += learning_rate * p.grad",
        "bug": "gradient ascent: the step goes along the gradient",
    },
    {
        "cell": "ex_sgd_step",
        "find": "p.data -= learning_rate * p.grad",
        "replace": "p.data -= learning_rate * p.grad\n        p.grad = 0.0",
        "bug": "sgd_step also resets the gradients (not its job; the grads check catches it)",
    },
    {
        "cell": "ex_train",
        "find": "        model.zero_grad()\n",
        "replace": "",
        "bug": "gradients never zeroed: each step uses the sum of all past gradients",
    },
    {
        "cell": "ex_train",
        "find": "        model.zero_grad()\n        loss.backward()\n",
        "replace": "        loss.backward()\n        model.zero_grad()\n",
        "bug": "gradients zeroed between backward and the step: nothing ever moves",
    },
    {
        "cell": "ex_train",
        "find": "losses.append(loss.data)",
        "replace": "losses.append(hinge_loss([model(x) for x in X], y).data)",
        "bug": "loss recorded after the update instead of before it",
    },
]

ALTERNATIVES = [
    {
        "cell": "ex_neuron",
        "source": '''class Neuron(Module):
    """One neuron, written with an explicit loop and max-style ReLU via Value.relu."""

    def __init__(self, nin, nonlin=True):
        self.w = [Value(random.gauss(0.0, 1.0 / nin**0.5)) for _ in range(nin)]
        self.b = Value(0.0)
        self.nonlin = nonlin

    def __call__(self, x):
        act = Value(0.0)
        for wi, xi in zip(self.w, x):
            act = act + xi * wi
        act = act + self.b
        if self.nonlin:
            return act.relu()
        return act

    def parameters(self):
        return list(self.w) + [self.b]

    def __repr__(self):
        return "Neuron"
''',
        "why": "Gaussian (LeCun) initialisation, explicit loop, x * w order, bias added last",
    },
    {
        "cell": "ex_mlp",
        "source": '''class MLP(Module):
    """Layers built in a loop; the last one is linear."""

    def __init__(self, nin, nouts):
        self.layers = []
        for k, nout in enumerate(nouts):
            last = k == len(nouts) - 1
            self.layers.append(Layer(nin, nout, nonlin=not last))
            nin = nout

    def __call__(self, x):
        out = x
        for layer in self.layers:
            out = layer(out)
        return out

    def parameters(self):
        params = []
        for layer in self.layers:
            params.extend(layer.parameters())
        return params

    def __repr__(self):
        return "MLP"
''',
        "why": "builds the layers in a loop that carries the width, extends a list of parameters",
    },
    {
        "cell": "ex_losses",
        "source": '''def mse_loss(predictions, targets):
    """Mean squared error, accumulated term by term and divided by N."""
    total = Value(0.0)
    for p, t in zip(predictions, targets):
        diff = p - t
        total = total + diff * diff
    return total / len(predictions)


def hinge_loss(scores, labels):
    """Mean hinge loss with max(0, .) written as relu of the margin deficit."""
    total = Value(0.0)
    for s, y in zip(scores, labels):
        total = total + (s * (-y) + 1.0).relu()
    return total / len(scores)
''',
        "why": "explicit loops, diff * diff instead of ** 2, division by N instead of * (1/N)",
    },
    {
        "cell": "ex_train",
        "source": '''def train(model, X, y, steps, learning_rate):
    """Zero the gradients by hand at the start of every step."""
    losses = []
    for _ in range(steps):
        for p in model.parameters():
            p.grad = 0.0
        loss = hinge_loss([model(x) for x in X], y)
        loss.backward()
        losses.append(float(loss.data))
        sgd_step(model.parameters(), learning_rate)
    return losses
''',
        "why": "zeroes p.grad by hand before the forward pass, not model.zero_grad() after it",
    },
]
