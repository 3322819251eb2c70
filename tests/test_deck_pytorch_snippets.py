"""The seed deck's PyTorch snippets run unchanged on autodiff_lib, apart from the imports.

Each snippet below is the deck's code text, verbatim except:

* the import lines: ``import torch`` -> ``import autodiff_lib as torch`` and
  ``import torch.nn as nn`` -> ``import autodiff_lib.nn as nn``;
* repairs of the slide's text extraction (line numbers and ``|`` removed, ``lavers`` ->
  ``layers``, ``v`` -> ``y``, ``activation.`` -> ``activation,``, the missing ``)`` of
  ``plt.bar(...)`` and of ``nn.Sequential(...)`` in ``model_relu``);
* ``check_gradients`` is cut off on its slide after ``gradients = []``; the lines between
  ``# --- completion`` and ``# --- end of completion`` finish it the obvious way (collect each
  Linear layer's weight gradient, first layer first).

Every snippet is also run with the real ``torch`` (the same text with the original imports)
on the same weights, and the results are compared.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch as real_torch

import autodiff_lib as ad

OUR_IMPORTS = "import autodiff_lib as torch\nimport autodiff_lib.nn as nn\n"
TORCH_IMPORTS = "import torch\nimport torch.nn as nn\n"

AUTOGRAD_BASICS = """\
import autodiff_lib as torch

# Create tensors with autograd enabled
x = torch.tensor(2.0, requires_grad=True)
y = torch.tensor(3.0, requires_grad=True)

# Forward pass
a = x + y
b = x * y
f = a * b

# Compute gradients
f.backward()

# Display results
print(f"f(x,y) = {f.item()}")
print(f"df/dx = {x.grad.item()}")
print(f"df/dy = {y.grad.item()}")
"""

VANISHING_GRADIENTS = """\
import autodiff_lib as torch
import autodiff_lib.nn as nn
import matplotlib.pyplot as plt

# Create a deep network with sigmoid activations
def create_deep_network(depth, activation=nn.Sigmoid()):
    layers = []
    for i in range(depth):
        layers.append(nn.Linear(1, 1))
        if i < depth - 1:
            layers.append(activation)
    return nn.Sequential(*layers)


# Track gradients through backpropagation
def check_gradients(model, depth):
    x = torch.ones(1, 1, requires_grad=True)
    y = model(x)
    y.backward()
    gradients = []
    # --- completion (the slide is cut off here) ---
    for layer in model:
        if isinstance(layer, nn.Linear):
            gradients.append(layer.weight.grad.abs().item())
    return gradients
    # --- end of completion ---
"""

SOLUTIONS = """\
import autodiff_lib as torch
import autodiff_lib.nn as nn

# Better activation function
model_relu = nn.Sequential(
    nn.Linear (784, 256),
    nn.ReLU(),
    nn.Linear (256, 128),
    nn.ReLU(),
    nn.Linear (128, 10)
)

# Batch normalization
model_with_bn = nn.Sequential(
    nn.Linear (784, 256),
    nn.BatchNorm1d(256),
    nn.ReLU(),
    nn.Linear (256, 128),
    nn.BatchNorm1d(128),
    nn.ReLU(),
    nn.Linear (128, 10)
)
"""

DEEP_MLP = """\
import autodiff_lib as torch
import autodiff_lib.nn as nn

# Define a fully-connected network with ReLU activations
class DeepMLP(nn.Module):
    def __init__(self, activation=nn.ReLU()):
        super().__init__()
        self.model = nn.Sequential(
            nn.Linear (784, 512),
            activation,
            nn.Linear (512, 256),
            activation,
            nn.Linear (256, 128),
            activation,
            nn.Linear (128, 64),
            activation,
            nn.Linear (64, 10)
        )

    def forward(self, x):
        return self.model(x)
"""

PLOT_GRAD_FLOW = """\
import matplotlib.pyplot as plt

def plot_grad_flow(named_parameters):
    ave_grads = []
    layers = []
    for n, p in named_parameters:
        if(p.requires_grad) and ("bias" not in n):
            layers.append(n)
            ave_grads.append(p.grad.abs().mean().item())
    plt.figure(figsize=(10, 8))
    plt.bar(range(len(ave_grads)), ave_grads, align="center")
    plt.xticks(range(len(ave_grads)), layers, rotation=90)
    plt.xlabel("Layers")
    plt.ylabel("Average gradient")
    plt.title("Gradient flow")
    plt.tight_layout()
    plt.show()


# Usage
plot_grad_flow(model.named_parameters())
"""


def run_snippet(code: str, with_real_torch: bool = False, **names) -> dict:
    """Execute a snippet (optionally with the original torch imports) and return its namespace."""
    if with_real_torch:
        code = code.replace(OUR_IMPORTS, TORCH_IMPORTS).replace(
            "import autodiff_lib as torch\n", "import torch\n"
        )
    namespace = dict(names)
    exec(compile(code, "<deck snippet>", "exec"), namespace)
    return namespace


def copy_weights(ours, ref) -> None:
    """Load a torch module's weights into ours (the two share parameter names)."""
    ours.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})


def test_snippet_texts_only_differ_from_the_deck_in_imports():
    for code in (AUTOGRAD_BASICS, VANISHING_GRADIENTS, SOLUTIONS, DEEP_MLP):
        assert "import autodiff_lib as torch" in code
        assert "import torch" not in code.replace("import autodiff_lib as torch", "")


def test_autograd_basics_prints_the_deck_values(capsys):
    run_snippet(AUTOGRAD_BASICS)
    assert capsys.readouterr().out.splitlines() == [
        "f(x,y) = 30.0",
        "df/dx = 21.0",
        "df/dy = 16.0",
    ]


@pytest.mark.parametrize("activation", ["Sigmoid", "ReLU"])
def test_vanishing_gradients_demo_matches_pytorch(activation):
    ours = run_snippet(VANISHING_GRADIENTS)
    ref = run_snippet(VANISHING_GRADIENTS, with_real_torch=True)
    depth = 10
    ad.manual_seed(3)
    model = ours["create_deep_network"](depth, getattr(ours["nn"], activation)())
    model_ref = ref["create_deep_network"](depth, getattr(ref["nn"], activation)())
    assert len(model) == 2 * depth - 1
    copy_weights(model, model_ref)
    grads = ours["check_gradients"](model, depth)
    grads_ref = ref["check_gradients"](model_ref, depth)
    assert len(grads) == depth
    np.testing.assert_allclose(grads, grads_ref, rtol=1e-5, atol=1e-12)
    if activation == "Sigmoid":  # the deck's point: the first layer's gradient vanishes
        assert grads[0] < 1e-3 * grads[-1]


def test_deck_models_have_pytorch_names_and_outputs():
    ours = run_snippet(SOLUTIONS)
    ref = run_snippet(SOLUTIONS, with_real_torch=True)
    x = np.random.default_rng(0).normal(size=(8, 784)).astype(np.float32)
    for name in ("model_relu", "model_with_bn"):
        model, model_ref = ours[name], ref[name]
        assert [n for n, _ in model.named_parameters()] == [
            n for n, _ in model_ref.named_parameters()
        ]
        copy_weights(model, model_ref)
        out = model(ad.tensor(x))
        out_ref = model_ref(real_torch.tensor(x))
        assert out.shape == (8, 10)
        np.testing.assert_allclose(
            out.detach().numpy(), out_ref.detach().numpy(), rtol=1e-4, atol=1e-5
        )
        out.sum().backward()
        out_ref.sum().backward()
        first = model[0].weight.grad.numpy()
        np.testing.assert_allclose(first, model_ref[0].weight.grad.numpy(), rtol=1e-3, atol=1e-5)


def train_steps(lib, model, steps: int = 3) -> list[float]:
    """The deck's 'Train with different activation functions' step: SGD on cross-entropy."""
    rng = np.random.default_rng(1)
    x = lib.tensor(rng.normal(size=(16, 784)).astype(np.float32))
    y = lib.tensor(rng.integers(0, 10, size=16))
    optimizer = lib.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = lib.nn.CrossEntropyLoss()
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def test_deep_mlp_trains_like_pytorch():
    ours = run_snippet(DEEP_MLP)
    ref = run_snippet(DEEP_MLP, with_real_torch=True)
    model, model_ref = ours["DeepMLP"](), ref["DeepMLP"]()
    names = [n for n, _ in model.named_parameters()]
    assert names == [n for n, _ in model_ref.named_parameters()]
    assert names[0] == "model.0.weight" and names[-1] == "model.8.bias"
    copy_weights(model, model_ref)
    losses = train_steps(ad, model)
    losses_ref = train_steps(real_torch, model_ref)
    np.testing.assert_allclose(losses, losses_ref, rtol=1e-4)
    assert losses[-1] < losses[0]


def test_plot_grad_flow_draws_the_mean_absolute_weight_gradients():
    model = run_snippet(DEEP_MLP)["DeepMLP"](ad.nn.Sigmoid())
    train_steps(ad, model, steps=1)
    plt.close("all")
    run_snippet(PLOT_GRAD_FLOW, model=model)
    axes = plt.gcf().axes[0]
    heights = [bar.get_height() for bar in axes.patches]
    weights = [(n, p) for n, p in model.named_parameters() if "bias" not in n]
    assert heights == pytest.approx([p.grad.abs().mean().item() for _, p in weights])
    assert [t.get_text() for t in axes.get_xticklabels()] == [n for n, _ in weights]
    assert heights[0] < heights[-1]  # sigmoid: the first layer learns slowest
    plt.close("all")
