"""Recording what flows through a network with forward hooks: :class:`ActivationRecorder`.

Example:
    >>> from autodiff_lib import nn, tensor
    >>> model = nn.Sequential(nn.Linear(4, 8), nn.Sigmoid(), nn.Linear(8, 1))
    >>> with ActivationRecorder(model) as recorder:
    ...     loss = model(tensor([[1.0, 2.0, 3.0, 4.0]])).sum()
    >>> list(recorder.stats())
    ['1']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from autodiff_lib.lab.statistics import ActivationStats, activation_stats, to_numpy

__all__ = ["ACTIVATION_TYPES", "named_modules_of_type", "ActivationRecorder"]

ACTIVATION_TYPES = ("Sigmoid", "Tanh", "ReLU", "LeakyReLU", "ELU", "SELU", "SiLU", "GELU")
"""Class names of the modules :class:`ActivationRecorder` watches by default."""


def named_modules_of_type(model: Any, type_names: Sequence[str]) -> list[tuple[str, Any]]:
    """``(name, module)`` for every submodule whose class name is in ``type_names``."""
    return [(name, m) for name, m in model.named_modules() if type(m).__name__ in type_names]


class ActivationRecorder:
    """Context manager recording the outputs of chosen modules through forward hooks.

    By default it watches the activation modules (:data:`ACTIVATION_TYPES`). Each
    forward pass of ``model`` replaces the previous recording. A module called several times in
    one pass (the deck's ``DeepMLP`` reuses one activation object) gets one entry per call,
    labelled ``"name#2"``, ``"name#3"``, ... With ``retain_grad=True`` the outputs keep their
    gradients, so after ``loss.backward()`` :meth:`gradients` returns the back-propagated
    :math:`\\partial L / \\partial a` per layer.

    Example:
        >>> with ActivationRecorder(model) as recorder:  # doctest: +SKIP
        ...     model(x)
        >>> recorder.activations["1"].shape  # doctest: +SKIP
        (64, 32)
    """

    def __init__(
        self,
        model: Any,
        module_types: Sequence[str] = ACTIVATION_TYPES,
        retain_grad: bool = False,
    ) -> None:
        self.model = model
        self.modules = named_modules_of_type(model, module_types)
        if not self.modules:
            raise ValueError(
                f"{type(model).__name__} has no submodule of type {', '.join(module_types)}"
            )
        self.retain_grad = retain_grad
        self._outputs: dict[str, Any] = {}
        self._kinds: dict[str, str] = {}
        self._pass_finished = False
        self._handles: list[Any] = []

    def __enter__(self) -> ActivationRecorder:
        for name, module in self.modules:
            self._handles.append(module.register_forward_hook(self._hook_for(name)))
        self._handles.append(self.model.register_forward_hook(self._end_of_pass))
        return self

    def __exit__(self, *exc_info: object) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def _hook_for(self, name: str):
        def record(module: Any, inputs: Any, output: Any) -> None:
            if self._pass_finished:
                self._outputs.clear()
                self._pass_finished = False
            label = name
            calls = 1
            while label in self._outputs:
                calls += 1
                label = f"{name}#{calls}"
            if self.retain_grad:
                output.retain_grad()
            self._outputs[label] = output
            self._kinds[label] = type(module).__name__

        return record

    def _end_of_pass(self, module: Any, inputs: Any, output: Any) -> None:
        self._pass_finished = True

    @property
    def activations(self) -> dict[str, np.ndarray]:
        """``{layer label: output array}`` of the last forward pass, in call order."""
        return {label: to_numpy(output) for label, output in self._outputs.items()}

    def gradients(self) -> dict[str, np.ndarray]:
        """``{layer label: dL/d(output)}`` after ``backward`` (needs ``retain_grad=True``)."""
        if not self.retain_grad:
            raise ValueError(
                "create the ActivationRecorder with retain_grad=True to keep gradients"
            )
        missing = [label for label, out in self._outputs.items() if out.grad is None]
        if missing:
            raise ValueError(f"no gradient for {missing}: call loss.backward() first")
        return {label: to_numpy(output.grad) for label, output in self._outputs.items()}

    def stats(self, tol: float = 0.01) -> dict[str, ActivationStats]:
        """:class:`ActivationStats` per recorded layer of the last forward pass."""
        return {
            label: activation_stats(label, values, self._kinds[label], tol)
            for label, values in self.activations.items()
        }
