"""What the scalar and the tensor engine share: the order of the backward pass
(:mod:`.topological`) and the local-derivative rules that need care at the edges of their
domain (:mod:`.rules`)."""

from autodiff_lib.core.rules import exponent_rule, power_rule, stable_sigmoid
from autodiff_lib.core.topological import topological_order

__all__ = ["topological_order", "power_rule", "exponent_rule", "stable_sigmoid"]
