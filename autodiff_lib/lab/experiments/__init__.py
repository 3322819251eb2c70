r"""The vanishing- and exploding-gradient experiments of lessons 08 and 09, one module a family.

Notebooks, the widgets and the tests call the same functions here; :mod:`.builders` holds the
settings they share (activations, initialisations, norms by name). Each returns a small result
dataclass that holds the measured numbers and draws itself with ``.plot(ax=None)``.

=================================  ==============================================================
:func:`linear_chain_gradients`     the deck's chain of ``Linear(1, 1)`` + sigmoid: gradients
                                   shrink like :math:`0.25^{L}`
:func:`gradient_flow`              per-layer gradient norms for any depth, activation,
                                   initialisation, residual connections and normalisation
:func:`glorot_bengio`              Glorot and Bengio (2010): back-propagated gradient std ratio,
                                   first vs last of 5 tanh layers, 0.08 vs 0.41
:func:`he_init_depth`              He et al. (2015): output std of 30 ReLU layers, 3e-5 vs 0.8
:func:`exploding_gradients`        weights scaled above He's, and ``clip_grad_norm_``
:func:`train_deep_mlp`             the deck's ``DeepMLP`` with sigmoid, ReLU, ReLU + BatchNorm
:func:`residual_vs_plain`          a deep plain MLP against the same MLP with skip connections
:func:`rnn_vs_gated`               remember the first token over ``T`` steps: RNN vs LSTM / GRU
=================================  ==============================================================

Example:
    >>> result = gradient_flow(depth=20, activation="sigmoid", init="pytorch_default")
    >>> bool(result.grad_norms[0] < 1e-6 * result.grad_norms[-1])
    True
    >>> result.plot()  # doctest: +SKIP
"""

from autodiff_lib.lab.experiments import (
    builders,
    deck_chain,
    exploding,
    flow,
    initialization,
    recurrent,
    training_runs,
)
from autodiff_lib.lab.experiments.builders import *  # noqa: F403
from autodiff_lib.lab.experiments.deck_chain import *  # noqa: F403
from autodiff_lib.lab.experiments.exploding import *  # noqa: F403
from autodiff_lib.lab.experiments.flow import *  # noqa: F403
from autodiff_lib.lab.experiments.initialization import *  # noqa: F403
from autodiff_lib.lab.experiments.recurrent import *  # noqa: F403
from autodiff_lib.lab.experiments.training_runs import *  # noqa: F403

__all__ = [
    *builders.__all__,
    *deck_chain.__all__,
    *flow.__all__,
    *initialization.__all__,
    *exploding.__all__,
    *training_runs.__all__,
    *recurrent.__all__,
]
