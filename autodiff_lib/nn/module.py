"""``Module``, ``Parameter`` and the containers, with ``torch.nn``'s names and behaviour.

A :class:`Module` is a function with state. Assigning a :class:`Parameter` or another Module
to an attribute registers it (``__setattr__``), which is what lets ``model.parameters()`` find
every weight and ``model.named_parameters()`` give PyTorch's dotted names such as
``"model.0.weight"``.

Example::

    >>> import autodiff_lib.nn as nn
    >>> model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    >>> [name for name, _ in model.named_parameters()]
    ['0.weight', '0.bias', '2.weight', '2.bias']
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

import numpy as np

from autodiff_lib.tensors.function import Tensor, record
from autodiff_lib.tensors.state import no_grad

__all__ = ["Parameter", "Module", "Sequential", "ModuleList", "RemovableHandle"]


class Parameter(Tensor):
    """A leaf tensor that a :class:`Module` registers as a learnable weight.

    ``Parameter(tensor)`` shares ``tensor``'s data and requires gradients by default.
    """

    __slots__ = ()

    def __init__(self, data: Tensor | Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.empty(0, dtype=np.float32)
        array = data.data if isinstance(data, Tensor) else np.asarray(data)
        if array.dtype.kind != "f":
            array = array.astype(np.float32)
        super().__init__(array, requires_grad=requires_grad)
        self.data = array  # share, do not copy

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class RemovableHandle:
    """Returned by the ``register_*_hook`` methods; ``remove()`` unregisters the hook."""

    _ids = itertools.count()

    def __init__(self, hooks: dict[int, Any]) -> None:
        self._hooks = hooks
        self.id = next(self._ids)

    def remove(self) -> None:
        self._hooks.pop(self.id, None)


class _IncompatibleKeys(NamedTuple):
    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of every layer and model: subclass it, set attributes in ``__init__``,
    write ``forward``; call the module (``model(x)``) to run ``forward`` with its hooks."""

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_backward_hooks", OrderedDict())

    # ---- registration ------------------------------------------------------------------------

    def _registry(self, name: str) -> dict[str, Any]:
        registry = self.__dict__.get(name)
        if registry is None:
            raise AttributeError(
                f"cannot assign to a {type(self).__name__} before Module.__init__() is called "
                "(call super().__init__() first)"
            )
        return registry

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, Parameter):
            self._forget(name)
            self._registry("_parameters")[name] = value
        elif isinstance(value, Module):
            self._forget(name)
            self._registry("_modules")[name] = value
        elif name in self.__dict__.get("_parameters", {}):
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as parameter {name!r}")
            self._parameters[name] = None
        elif name in self.__dict__.get("_modules", {}):
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as child module {name!r}")
            self._modules[name] = None
        elif name in self.__dict__.get("_buffers", {}):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign {type(value).__name__} as buffer {name!r}")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str) -> None:
        self.__dict__.pop(name, None)
        for registry in ("_parameters", "_buffers", "_modules"):
            self.__dict__.get(registry, {}).pop(name, None)

    def __getattr__(self, name: str) -> Any:
        # only called when normal lookup fails: look in the registries
        for registry in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(registry)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        for registry in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(registry, {})
            if name in entries:
                del entries[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (or ``None``, e.g. ``bias=False``) under ``name``."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign {type(param).__name__} as parameter {name!r}")
        self._forget(name)
        self._registry("_parameters")[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None) -> None:
        """Register state that is not learned but saved in ``state_dict`` (running statistics)."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign {type(tensor).__name__} as buffer {name!r}")
        self._forget(name)
        self._registry("_buffers")[name] = tensor

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` as a child under ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._forget(name)
        self._registry("_modules")[name] = module

    # ---- running -----------------------------------------------------------------------------

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"Module [{type(self).__name__}] is missing forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks):
            return self.forward(*args, **kwargs)
        for hook in list(self._forward_pre_hooks.values()):
            replaced = hook(self, args)
            if replaced is not None:
                args = replaced if isinstance(replaced, tuple) else (replaced,)
        if self._backward_hooks:
            return self._call_with_backward_hooks(args, kwargs)
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            replaced = hook(self, args, output)
            if replaced is not None:
                output = replaced
        return output

    # ---- hooks -------------------------------------------------------------------------------

    def register_forward_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(module, inputs)`` before ``forward``; a returned value replaces inputs."""
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        return handle

    def register_forward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(module, inputs, output)`` after ``forward``; a return value replaces output.

        Example (record every layer's activations without touching the model's code)::

            activations = {}
            for name, layer in model.named_modules():
                layer.register_forward_hook(
                    lambda m, inp, out, name=name: activations.__setitem__(name, out.detach()))
        """
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    def register_full_backward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` once the gradients are known.

        ``grad_output`` holds :math:`\\partial L/\\partial` each output, ``grad_input``
        :math:`\\partial L/\\partial` each positional input (``None`` where an input needs no
        gradient). The hook must return ``None`` (to change a gradient, use
        :meth:`Tensor.register_hook`).
        """
        handle = RemovableHandle(self._backward_hooks)
        self._backward_hooks[handle.id] = hook
        return handle

    def _call_with_backward_hooks(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Run ``forward`` with identity ops around the inputs so their gradients can be seen."""
        call = _BackwardHookCall(self, args)
        output = self.forward(*call.wrapped_inputs, **kwargs)
        for hook in list(self._forward_hooks.values()):
            replaced = hook(self, call.wrapped_inputs, output)
            if replaced is not None:
                output = replaced
        call.watch_outputs(output)
        return output

    # ---- traversal ---------------------------------------------------------------------------

    def named_modules(
        self, memo: set[int] | None = None, prefix: str = ""
    ) -> Iterator[tuple[str, Module]]:
        """``(name, module)`` for this module and every descendant, each module once."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen: set[int] = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def _named_members(
        self, registry: str, prefix: str, recurse: bool
    ) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in module.__dict__[registry].items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, parameter)`` pairs, each parameter once, in registration order."""
        return self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call ``fn`` on every descendant, then on this module (e.g. to re-initialise)."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ---- modes, gradients, dtype -------------------------------------------------------------

    def train(self, mode: bool = True) -> Module:
        """Set training mode here and in every descendant (BatchNorm uses batch statistics)."""
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode (BatchNorm uses its running statistics)."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget accumulated gradients (``None``, or zeros in place if ``set_to_none=False``)."""
        for param in self.parameters():
            if set_to_none:
                param.grad = None
            elif param.grad is not None:
                param.grad.data[...] = 0

    def to(self, dtype: Any) -> Module:
        """Convert every floating-point parameter and buffer to ``dtype``, in place."""
        dtype = np.dtype(dtype)
        for tensor in itertools.chain(self.parameters(), self.buffers()):
            if tensor.dtype.kind == "f":
                tensor.data = tensor.data.astype(dtype)
                if tensor.grad is not None:
                    tensor.grad.data = tensor.grad.data.astype(dtype)
        return self

    def double(self) -> Module:
        return self.to(np.float64)

    def float(self) -> Module:
        return self.to(np.float32)

    # ---- saving and loading ------------------------------------------------------------------

    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Copies of every parameter and buffer as numpy arrays, keyed by dotted name."""
        state: OrderedDict[str, np.ndarray] = OrderedDict()
        for prefix, module in self.named_modules():
            members = itertools.chain(
                module.named_parameters(prefix, recurse=False),
                module.named_buffers(prefix, recurse=False),
            )
            for name, tensor in members:
                state[name] = tensor.data.copy()
        return state

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> _IncompatibleKeys:
        """Copy values (numpy arrays, Tensors, or anything ``np.asarray`` accepts) into place."""
        own = dict(itertools.chain(self.named_parameters(), self.named_buffers()))
        missing = [name for name in own if name not in state_dict]
        unexpected = [name for name in state_dict if name not in own]
        if strict and (missing or unexpected):
            raise RuntimeError(
                f"error loading state_dict into {type(self).__name__}: "
                f"missing keys {missing}, unexpected keys {unexpected}"
            )
        for name, value in state_dict.items():
            if name not in own:
                continue
            array = np.asarray(value.data if isinstance(value, Tensor) else value)
            target = own[name]
            if array.shape != target.shape:
                raise RuntimeError(
                    f"size mismatch for {name}: copying a param with shape {array.shape}, "
                    f"the shape in the current model is {target.shape}"
                )
            with no_grad():
                target.data[...] = array
        return _IncompatibleKeys(missing, unexpected)

    # ---- printing ----------------------------------------------------------------------------

    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's ``repr`` (override in layers)."""
        return ""

    def __repr__(self) -> str:
        lines = [
            f"({name}): " + repr(child).replace("\n", "\n  ")
            for name, child in self._modules.items()
        ]
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        body = "\n  ".join(([extra] if extra else []) + lines)
        return f"{type(self).__name__}(\n  {body}\n)"


class _BackwardHookCall:
    """Bookkeeping for one call of a module with full backward hooks.

    Each input that requires grad passes through an identity op whose gradient is watched;
    the module's hooks fire when every watched input (or, with none, every output) has its
    gradient.
    """

    def __init__(self, module: Module, args: tuple[Any, ...]) -> None:
        self.module = module
        self.grad_input: list[Tensor | None] = [None] * len(args)
        self.grad_output: list[Tensor | None] = []
        self.waiting_inputs: set[int] = set()
        self.waiting_outputs: set[int] = set()
        wrapped = list(args)
        for i, arg in enumerate(args):
            if isinstance(arg, Tensor) and arg.requires_grad:
                wrapped[i] = record("BackwardHookFunction", arg.data, (arg,), lambda g: (g,))
                wrapped[i].register_hook(self._input_hook(i))
                self.waiting_inputs.add(i)
        self.wrapped_inputs = tuple(wrapped)

    def watch_outputs(self, output: Any) -> None:
        outputs = output if isinstance(output, tuple) else (output,)
        self.grad_output = [None] * len(outputs)
        for i, out in enumerate(outputs):
            if isinstance(out, Tensor) and out.requires_grad:
                out.register_hook(self._output_hook(i))
                self.waiting_outputs.add(i)

    def _input_hook(self, i: int) -> Callable[[Tensor], None]:
        def hook(grad: Tensor) -> None:
            self.grad_input[i] = grad
            self.waiting_inputs.discard(i)
            if not self.waiting_inputs:
                self._fire()

        return hook

    def _output_hook(self, i: int) -> Callable[[Tensor], None]:
        def hook(grad: Tensor) -> None:
            self.grad_output[i] = grad
            self.waiting_outputs.discard(i)
            if not self.waiting_outputs and not any(
                isinstance(t, Tensor) and t.requires_grad for t in self.wrapped_inputs
            ):
                self._fire()

        return hook

    def _fire(self) -> None:
        for hook in list(self.module._backward_hooks.values()):
            if hook(self.module, tuple(self.grad_input), tuple(self.grad_output)) is not None:
                raise RuntimeError(
                    "full backward hooks must return None here; use Tensor.register_hook to "
                    "change a gradient"
                )


class Sequential(Module):
    """Modules applied one after another: ``Sequential(a, b, c)(x) == c(b(a(x)))``.

    Children are named ``"0"``, ``"1"``, ... (or by the keys of an ``OrderedDict``);
    supports indexing, slicing, ``len`` and iteration.
    """

    def __init__(self, *modules: Module | OrderedDict[str, Module]) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(modules):
                self.add_module(str(index), module)

    def forward(self, x: Any) -> Any:
        for module in self._modules.values():
            x = module(x)
        return x

    def __getitem__(self, index: int | slice) -> Any:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        return modules[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self)), module)
        return self


class ModuleList(Module):
    """A list of modules whose parameters are registered (names ``"0"``, ``"1"``, ...)."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        for module in modules or ():
            self.append(module)

    def __getitem__(self, index: int | slice) -> Any:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return ModuleList(modules[index])
        return modules[index]

    def __setitem__(self, index: int, module: Module) -> None:
        name = list(self._modules.keys())[index]
        self.add_module(name, module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for module in modules:
            self.append(module)
        return self
