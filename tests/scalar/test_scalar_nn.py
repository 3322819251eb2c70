"""autodiff_lib.scalar.nn: seeded Neuron / Layer / MLP on Value, trained like micrograd's demo."""

from __future__ import annotations

import math
import random

import pytest

from autodiff_lib import Value
from autodiff_lib.scalar.nn import MLP, Layer, Module, Neuron


def weights(module: Module) -> list[float]:
    return [p.data for p in module.parameters()]


def test_seeding_with_an_int_or_a_random_is_reproducible() -> None:
    assert weights(MLP(3, [4, 2], rng=7)) == weights(MLP(3, [4, 2], rng=7))
    assert weights(MLP(3, [4, 2], rng=7)) != weights(MLP(3, [4, 2], rng=8))
    assert weights(MLP(3, [4, 2], rng=random.Random(7))) == weights(MLP(3, [4, 2], rng=7))
    neurons = Layer(3, 4, rng=1).neurons
    assert len({tuple(weights(n)) for n in neurons}) == 4  # neurons differ from each other
    random.seed(5)
    first = weights(Neuron(3))
    random.seed(5)
    assert weights(Neuron(3)) == first  # None: the global generator, as in micrograd
    with pytest.raises(TypeError, match="rng"):
        Neuron(3, rng="seed")


def test_parameter_counts_shapes_and_init_range() -> None:
    model = MLP(2, [16, 16, 1], rng=0)
    assert len(model.parameters()) == (2 * 16 + 16) + (16 * 16 + 16) + (16 + 1)
    assert all(-1 <= w <= 1 for w in weights(model))
    assert all(n.b.data == 0.0 for layer in model.layers for n in layer.neurons)
    assert [layer.neurons[0].nonlin for layer in model.layers] == [True, True, False]


def test_neuron_computes_activation_of_weighted_sum() -> None:
    for activation, phi in [
        ("relu", lambda t: max(t, 0.0)),
        ("tanh", math.tanh),
        ("sigmoid", lambda t: 1 / (1 + math.exp(-t))),
        ("linear", lambda t: t),
    ]:
        n = Neuron(3, activation=activation, rng=3)
        n.b.data = 0.25
        x = [0.5, -1.0, 2.0]
        pre = sum(w.data * xi for w, xi in zip(n.w, x, strict=True)) + 0.25
        assert n(x).data == pytest.approx(phi(pre), rel=1e-14), activation
    assert not Neuron(3, nonlin=False, rng=0).nonlin


def test_gradients_of_a_neuron_by_hand() -> None:
    n = Neuron(2, activation="tanh", rng=0)
    x = [Value(0.3), Value(-0.8)]
    out = n(x)
    out.backward()
    slope = 1 - out.data**2
    assert n.b.grad == pytest.approx(slope)
    assert [w.grad for w in n.w] == pytest.approx([slope * 0.3, slope * -0.8])
    assert [xi.grad for xi in x] == pytest.approx([slope * w.data for w in n.w])


def test_layer_and_mlp_outputs() -> None:
    layer = Layer(3, 2, rng=0)
    assert len(layer([1.0, 2.0, 3.0])) == 2
    assert isinstance(Layer(3, 1, rng=0)([1.0, 2.0, 3.0]), Value)
    model = MLP(3, [4, 2], rng=0)
    assert len(model([1.0, 2.0, 3.0])) == 2
    assert isinstance(MLP(3, [4, 1], rng=0)([1.0, 2.0, 3.0]), Value)


def test_zero_grad_resets_parameters() -> None:
    model = MLP(2, [3, 1], rng=0)
    model([1.0, -1.0]).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_reprs() -> None:
    assert repr(Neuron(3, rng=0)) == "ReLUNeuron(3)"
    assert repr(Neuron(3, nonlin=False, rng=0)) == "LinearNeuron(3)"
    assert repr(Neuron(2, activation="tanh", rng=0)) == "TanhNeuron(2)"
    assert repr(Layer(2, 3, rng=0)) == "Layer(3 x ReLUNeuron(2))"
    assert repr(MLP(2, [16, 16, 1], rng=0)) == (
        "MLP(2 -> [16, 16, 1], relu hidden, linear output; 337 parameters)"
    )


def test_bad_shapes_and_options() -> None:
    with pytest.raises(ValueError, match="inputs"):
        Neuron(3, rng=0)([1.0, 2.0])
    with pytest.raises(ValueError, match="activation"):
        Neuron(3, activation="swish")
    with pytest.raises(ValueError):
        Neuron(0)
    with pytest.raises(ValueError):
        Layer(2, 0)
    with pytest.raises(ValueError, match="layer"):
        MLP(2, [])


def test_training_separates_a_small_dataset() -> None:
    """micrograd's demo loop (max-margin loss, SGD) fits XOR-like points."""
    data = [([-1.0, -1.0], -1), ([1.0, 1.0], -1), ([-1.0, 1.0], 1), ([1.0, -1.0], 1)]
    data += [([0.9 * a, 0.9 * b], y) for (a, b), y in data]
    model = MLP(2, [8, 8, 1], activation="tanh", rng=2)
    losses = []
    for _ in range(60):
        scores = [model(x) for x, _ in data]
        loss = sum((1 + -y * s).relu() for (_, y), s in zip(data, scores, strict=True)) * (
            1.0 / len(data)
        )
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= 0.1 * p.grad
        losses.append(loss.data)
    accuracy = sum((model(x).data > 0) == (y > 0) for x, y in data) / len(data)
    assert losses[-1] < 0.5 * losses[0]
    assert accuracy == 1.0
