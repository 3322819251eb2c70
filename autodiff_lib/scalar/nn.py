r"""Neural networks out of scalar :class:`~autodiff_lib.Value` nodes (micrograd's ``nn``).

A neuron computes :math:`\phi(\sum_i w_i x_i + b)`; a layer is a list of neurons reading the
same inputs; an MLP is a stack of layers, the last one linear. Every weight is a ``Value``, so
``loss.backward()`` fills each parameter's ``.grad``; training is then
``p.data -= learning_rate * p.grad`` for every ``p`` in ``model.parameters()``.

Initialisation is seeded: pass ``rng=`` a :class:`random.Random` or an integer seed to get the
same weights every run (``None`` uses the global :mod:`random` state, like micrograd).

Example:
    >>> model = MLP(2, [4, 1], rng=0)
    >>> model
    MLP(2 -> [4, 1], relu hidden, linear output; 17 parameters)
    >>> out = model([1.0, -2.0])
    >>> out.backward()
    >>> sum(1 for p in model.parameters() if p.grad != 0) > 0
    True
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any, Protocol

from autodiff_lib.scalar.value import Value

Number = int | float
Input = Sequence[Value | Number]

# activation name -> the function a neuron applies to its weighted sum
ACTIVATIONS: dict[str, Callable[[Value], Value]] = {
    "relu": Value.relu,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "linear": lambda v: v,
}
_DISPLAY_NAMES = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "linear": "Linear"}


class _Uniform(Protocol):
    def uniform(self, a: float, b: float) -> float: ...


def _as_rng(rng: random.Random | int | None | ModuleType) -> _Uniform:
    """The generator to draw from: the one given, a new one seeded with the int, or (for None)
    the :mod:`random` module's global one."""
    if rng is None:
        return random  # the module's functions draw from its global generator
    if isinstance(rng, int) and not isinstance(rng, bool):
        return random.Random(rng)
    if hasattr(rng, "uniform"):
        return rng
    raise TypeError(f"rng must be a random.Random, an int seed or None, got {rng!r}")


class Module:
    """Something with parameters: ``parameters()`` lists them, ``zero_grad()`` resets them."""

    def parameters(self) -> list[Value]:
        return []

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to 0 (gradients accumulate across ``backward``)."""
        for p in self.parameters():
            p.grad = 0.0


class Neuron(Module):
    r""":math:`\phi(w \cdot x + b)` with weights drawn from :math:`U(-1, 1)` and :math:`b = 0`.

    Args:
        nin: number of inputs.
        nonlin: ``False`` makes the neuron linear (micrograd's switch).
        activation: ``"relu"`` (default), ``"tanh"``, ``"sigmoid"`` or ``"linear"``; used when
            ``nonlin`` is true.
        rng: a ``random.Random``, an int seed, or ``None`` for the global generator.
    """

    def __init__(
        self,
        nin: int,
        nonlin: bool = True,
        activation: str = "relu",
        rng: random.Random | int | None = None,
    ) -> None:
        if nin < 1:
            raise ValueError(f"a neuron needs at least one input, got nin={nin}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {tuple(ACTIVATIONS)}, got {activation!r}")
        generator = _as_rng(rng)
        self.w = [Value(generator.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0.0)
        self.activation = activation if nonlin else "linear"

    @property
    def nonlin(self) -> bool:
        return self.activation != "linear"

    def __call__(self, x: Input) -> Value:
        if len(x) != len(self.w):
            raise ValueError(f"this neuron takes {len(self.w)} inputs, got {len(x)}")
        act = sum((wi * xi for wi, xi in zip(self.w, x, strict=True)), self.b)
        return ACTIVATIONS[self.activation](act)

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]

    def __repr__(self) -> str:
        return f"{_DISPLAY_NAMES[self.activation]}Neuron({len(self.w)})"


class Layer(Module):
    """``nout`` neurons reading the same ``nin`` inputs; extra keywords go to each neuron."""

    def __init__(
        self, nin: int, nout: int, rng: random.Random | int | None = None, **kwargs: Any
    ) -> None:
        if nout < 1:
            raise ValueError(f"a layer needs at least one neuron, got nout={nout}")
        generator = _as_rng(rng)  # one generator for all neurons, so they differ
        self.neurons = [Neuron(nin, rng=generator, **kwargs) for _ in range(nout)]

    def __call__(self, x: Input) -> Value | list[Value]:
        """The neurons' outputs; a single ``Value`` when the layer has one neuron."""
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        kinds = {repr(n) for n in self.neurons}
        kind = kinds.pop() if len(kinds) == 1 else "mixed neurons"
        return f"Layer({len(self.neurons)} x {kind})"


class MLP(Module):
    """A multi-layer perceptron: ``MLP(2, [16, 16, 1])`` has two hidden layers of 16 neurons.

    Hidden layers use ``activation`` (ReLU by default), the last layer is linear.

    Args:
        nin: number of inputs.
        nouts: the width of each layer, the last one being the output.
        activation: the hidden layers' nonlinearity (``"relu"``, ``"tanh"``, ``"sigmoid"``).
        rng: a ``random.Random``, an int seed, or ``None`` for the global generator.
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "relu",
        rng: random.Random | int | None = None,
    ) -> None:
        if not nouts:
            raise ValueError("an MLP needs at least one layer: nouts = [..., n_outputs]")
        generator = _as_rng(rng)  # one generator for all neurons, so they differ
        sizes = [nin, *nouts]
        self.layers = [
            Layer(
                sizes[i],
                sizes[i + 1],
                rng=generator,
                nonlin=i != len(nouts) - 1,
                activation=activation,
            )
            for i in range(len(nouts))
        ]
        self.activation = activation

    def __call__(self, x: Input) -> Value | list[Value]:
        for layer in self.layers:
            x = layer(x)  # type: ignore[assignment]
            x = [x] if isinstance(x, Value) else x
        return x[0] if len(x) == 1 else x  # type: ignore[return-value]

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        widths = [len(layer.neurons) for layer in self.layers]
        nin = len(self.layers[0].neurons[0].w)
        hidden = f"{self.activation} hidden, " if len(self.layers) > 1 else ""
        return f"MLP({nin} -> {widths}, {hidden}linear output; {len(self.parameters())} parameters)"
