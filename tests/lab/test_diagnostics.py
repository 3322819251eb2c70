"""Tests for autodiff_lib.lab: statistics, the recorder, the training loop, the plots."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

import autodiff_lib as ad
from autodiff_lib import lab, nn, optim
from autodiff_lib.data import DataLoader, make_moons


def small_model(activation: nn.Module | None = None) -> nn.Sequential:
    ad.manual_seed(0)
    return nn.Sequential(
        nn.Linear(3, 4), activation or nn.Sigmoid(), nn.Linear(4, 2), nn.ReLU(), nn.Linear(2, 1)
    )


def test_gradient_stats_match_numpy_on_the_grads():
    model = small_model()
    model(ad.randn(5, 3)).sum().backward()
    stats = lab.gradient_stats(model.named_parameters())
    assert list(stats) == ["0.weight", "2.weight", "4.weight"]  # biases skipped, as in the deck
    grad = model[2].weight.grad.numpy()
    assert stats["2.weight"].mean_abs == pytest.approx(np.abs(grad).mean())
    assert stats["2.weight"].norm == pytest.approx(np.linalg.norm(grad))
    assert stats["2.weight"].std == pytest.approx(grad.std())
    with_bias = lab.gradient_stats(model.named_parameters(), include_bias=True)
    assert "0.bias" in with_bias and len(with_bias) == 6
    assert lab.gradient_norms(model)["4.weight"] == pytest.approx(stats["4.weight"].norm)


def test_gradient_stats_before_backward_says_what_to_do():
    model = small_model()
    with pytest.raises(ValueError, match=r"0\.weight.*backward"):
        lab.gradient_stats(model.named_parameters())


def test_gradient_stats_skip_frozen_parameters():
    model = small_model()
    model[0].weight.requires_grad_(False)
    model(ad.randn(5, 3)).sum().backward()
    assert "0.weight" not in lab.gradient_stats(model.named_parameters())


def test_activation_stats_saturated_and_dead_units():
    sigmoid_out = np.array([[0.001, 0.5, 0.995], [0.2, 0.5, 0.999]])
    s = lab.activation_stats("s", sigmoid_out, kind="Sigmoid")
    assert s.fraction_saturated == pytest.approx(3 / 6)
    assert s.mean == pytest.approx(sigmoid_out.mean()) and s.std == pytest.approx(sigmoid_out.std())
    tanh_out = np.array([[-0.999, 0.0], [0.5, 0.995]])
    assert lab.activation_stats("t", tanh_out, "Tanh").fraction_saturated == 0.5
    relu_out = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0]])  # the first unit never fires
    r = lab.activation_stats("r", relu_out, kind="ReLU")
    assert r.fraction_dead == pytest.approx(1 / 3)
    assert np.isnan(r.fraction_saturated)  # ReLU has no upper asymptote to saturate on


def test_recorder_records_activations_without_changing_the_model():
    model = small_model()
    x = ad.randn(6, 3)
    expected = model(x).detach().numpy().copy()
    with lab.ActivationRecorder(model) as recorder:
        out = model(x)
    np.testing.assert_array_equal(out.detach().numpy(), expected)
    activations = recorder.activations
    assert list(activations) == ["1", "3"]
    hidden = model[0](x).sigmoid().detach().numpy()
    np.testing.assert_allclose(activations["1"], hidden, rtol=1e-6)
    stats = recorder.stats()
    assert stats["1"].kind == "Sigmoid" and stats["3"].kind == "ReLU"
    # the hooks are gone after the with-block: a new forward pass is not recorded
    model(ad.randn(2, 3))
    assert recorder.activations["1"].shape == (6, 4)


def test_recorder_keeps_only_the_last_pass_and_labels_a_shared_module_per_call():
    shared = nn.Tanh()
    model = nn.Sequential(nn.Linear(2, 3), shared, nn.Linear(3, 3), shared)
    with lab.ActivationRecorder(model) as recorder:
        model(ad.randn(4, 2))
        model(ad.randn(7, 2))
    assert list(recorder.activations) == ["1", "1#2"]
    assert recorder.activations["1#2"].shape == (7, 3)


def test_recorder_retain_grad_gives_backpropagated_gradients():
    model = small_model()
    with lab.ActivationRecorder(model, retain_grad=True) as recorder:
        loss = model(ad.randn(5, 3)).sum()
    with pytest.raises(ValueError, match="backward"):
        recorder.gradients()
    loss.backward()
    grads = recorder.gradients()
    # dL/da for the ReLU output is the last layer's weight, repeated for every example
    expected = np.broadcast_to(model[4].weight.detach().numpy(), (5, 2))
    np.testing.assert_allclose(grads["3"], expected, rtol=1e-6)
    with pytest.raises(ValueError, match="retain_grad=True"):
        lab.ActivationRecorder(model).gradients()


def test_recorder_rejects_a_model_without_the_watched_modules():
    with pytest.raises(ValueError, match="no submodule"):
        lab.ActivationRecorder(nn.Sequential(nn.Linear(2, 2)))


def test_recorder_watches_other_module_types_on_request():
    model = small_model()
    with lab.ActivationRecorder(model, module_types=("Linear",)) as recorder:
        model(ad.randn(3, 3))
    assert list(recorder.activations) == ["0", "2", "4"]


def moons_loader():
    X, y = make_moons(128, noise=0.1, seed=0)
    return X, y, DataLoader(X, y, batch_size=32, seed=0)


def test_train_learns_moons_and_records_history():
    X, y, loader = moons_loader()
    ad.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    optimizer = optim.SGD(model.parameters(), lr=0.5)
    history = lab.train(
        model,
        nn.CrossEntropyLoss(),
        optimizer,
        loader,
        epochs=8,
        progress=False,
        test_data=(X, y),
        label="tanh",
    )
    assert len(history.step_loss) == 8 * 4 and len(history.epoch_loss) == 8
    assert history.epoch_loss[-1] < 0.6 * history.epoch_loss[0]
    assert history.test_accuracy[-1] > 0.85
    assert len(history.epoch_accuracy) == 8 and 0 <= history.step_accuracy[0] <= 1
    assert set(history.grad_norms) == {"0.weight", "2.weight"}
    assert all(len(v) == 32 and min(v) > 0 for v in history.grad_norms.values())
    assert model.training  # evaluation switched back to training mode


def test_train_regression_has_no_accuracy():
    ad.manual_seed(0)
    X = np.linspace(-1, 1, 32, dtype=np.float32)[:, None]
    y = (3 * X).astype(np.float32)
    model = nn.Linear(1, 1)
    history = lab.train(
        model,
        nn.MSELoss(),
        optim.SGD(model.parameters(), lr=0.3),
        DataLoader(X, y, 8),
        epochs=5,
        progress=False,
    )
    assert history.step_accuracy == [] and history.epoch_accuracy == []
    assert history.epoch_loss[-1] < 0.1 * history.epoch_loss[0]


def test_train_refuses_a_one_shot_iterator_for_several_epochs():
    X, y, _ = moons_loader()
    model = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="DataLoader"):
        lab.train(
            model,
            nn.CrossEntropyLoss(),
            optim.SGD(model.parameters(), lr=0.1),
            iter([(X, y)]),
            epochs=2,
            progress=False,
        )


def test_train_progress_bar_is_quiet_under_pytest(capsys):
    X, y, loader = moons_loader()
    model = nn.Linear(2, 2)
    lab.train(
        model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), loader, progress=True
    )
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_plot_grad_flow_is_the_decks_bar_chart():
    model = small_model()
    model(ad.randn(5, 3)).sum().backward()
    fig, ax = plt.subplots()
    assert lab.plot_grad_flow(model.named_parameters(), ax=ax) is ax
    heights = [bar.get_height() for bar in ax.patches]
    expected = [p.grad.abs().mean().item() for n, p in model.named_parameters() if "bias" not in n]
    np.testing.assert_allclose(heights, expected)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.weight", "2.weight", "4.weight"]
    assert ax.get_title() == "Gradient flow" and ax.get_ylabel() == "Average gradient"
    assert ax.get_xlabel() == "Layers"
    ax_new = lab.plot_grad_flow(model.named_parameters())
    assert tuple(ax_new.figure.get_size_inches()) == (10, 8)


def test_plot_grad_norms_log_scale_and_overflow_note():
    ax = lab.plot_grad_norms({"a": 1e-6, "b": 1e-3, "c": 1.0})
    assert ax.get_yscale() == "log"
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [1e-6, 1e-3, 1.0])
    ax2 = lab.plot_grad_norms([1.0, np.inf, np.nan, 2.0], label="run")
    np.testing.assert_allclose(ax2.lines[0].get_xdata(), [1, 4])
    assert "2 layers overflowed" in ax2.get_legend().get_texts()[0].get_text()


def test_plot_activation_histograms_picks_evenly_spaced_layers():
    rng = np.random.default_rng(0)
    activations = {str(i): rng.normal(size=(8, 4)) for i in range(20)}
    ax = lab.plot_activation_histograms(activations, max_layers=5)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == "layer 1" and labels[-1] == "layer 20" and len(labels) == 5
    with pytest.raises(ValueError, match="no activations"):
        lab.plot_activation_histograms({})


def test_plot_training_curves_draws_one_line_per_history():
    first = lab.History(label="a", step_loss=[3.0, 2.0, 1.0])
    second = lab.History(label="b", step_loss=[3.0, 2.5], step_accuracy=[0.1, 0.4])
    ax = lab.plot_training_curves([first, second])
    assert [line.get_label() for line in ax.lines] == ["a", "b"]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [3.0, 2.0, 1.0])
    ax_acc = lab.plot_training_curves({"b": second}, metric="accuracy")
    np.testing.assert_allclose(ax_acc.lines[0].get_ydata(), [0.1, 0.4])
    assert second.plot().lines[0].get_label() == "b"
    with pytest.raises(ValueError, match="metric"):
        lab.plot_training_curves([first], metric="f1")


def test_diagnostics_work_on_a_pytorch_model_too():
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Sigmoid(), torch.nn.Linear(4, 1))
    with lab.ActivationRecorder(model) as recorder:
        model(torch.randn(5, 3)).sum().backward()
    assert recorder.activations["1"].shape == (5, 4)
    assert set(lab.gradient_stats(model.named_parameters())) == {"0.weight", "2.weight"}
