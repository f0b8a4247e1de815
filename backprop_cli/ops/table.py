"""The op table: one entry per op with its forward, reverse rule, forward rule and gate kind.

Every rule list has one function per argument (as in HIPS autograd's defvjp):
the engines call only the rules of the arguments that need a derivative.

    forward(*xs, **attrs) -> out
    vjp[i](g, out, *xs, **attrs) -> dL/dx_i       (g = dL/dout; may be broadcast, the engine sums it back)
    jvp[i](t, out, *xs, **attrs) -> dout along t  (t = tangent of x_i)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

import numpy as np


class GateKind(Enum):
    """What a gate does to the gradient flowing back through it (the lectures' words)."""

    WIRE = ("wire", "passes the gradient through, only rearranged")
    DISTRIBUTOR = ("distributor", "hands the upstream gradient unchanged to every input")
    SWITCHER = ("switcher", "multiplies the upstream gradient by the other input's value")
    ROUTER = ("router", "sends the whole gradient to the input that won, zero to the others")
    KILLER = ("killer", "passes the gradient where its input is positive, kills it elsewhere")
    SQUASHER = ("squashing", "scales the gradient by a slope that vanishes when saturated")
    SCALER = ("scaler", "scales the gradient by the local derivative")
    NORMALIZER = ("normalizer", "mixes the gradient across the normalized axis")
    LOSS = ("loss", "starts the gradient: its local derivative compares prediction and target")

    def __init__(self, role: str, meaning: str) -> None:
        self.role = role
        self.meaning = meaning


Rule = Callable[..., np.ndarray]
ShapeRule = Callable[..., tuple[int, ...]]


@dataclass(frozen=True)
class Op:
    name: str
    gate_kind: GateKind  # what the op does to the gradient; each node of kind "gate" applies one op
    formula: str  # shown by `backprop ops` and in explanations
    forward: Callable[..., np.ndarray]
    vjp: tuple[Rule | None, ...]  # None: the argument is not differentiable (labels)
    jvp: tuple[Rule | None, ...]
    shape: ShapeRule  # (shapes, **attrs) -> output shape; raises ShapeError
    local: tuple[str, ...] = ()  # local derivative per argument, in words ({0}, {1}: argument names)
    attrs: dict[str, object] = field(default_factory=dict)  # accepted keyword arguments and defaults
    min_args: int | None = None  # for ops with optional trailing arguments (conv2d's bias)
    fault: str = "produced a non-finite value"  # what a NaN/inf from this op usually means
    analytic: bool = True  # holomorphic in its inputs: the complex step works through it
    kink: Callable[..., np.ndarray] | None = None  # (*xs, **attrs) -> distances to the nearest kink (any shape)
    branch: Callable[..., np.ndarray] | None = None  # (*xs, **attrs) -> which piece each element is on; a change
    #                                                    between two evaluations means a kink lies between them
    independent: Callable[..., tuple[dict[int, int], ...]] | None = None  # (*shapes, **attrs) -> per argument
    #   {operand axis: output axis}: output slice i along that axis depends only on the operand's slice i.
    #   Elementwise ops need none (every axis is independent); gradcheck perturbs many elements at once
    #   when their effects land in different slices.
    domain: tuple[str, ...] = ()  # per argument: real (default), positive, labels, sign (±1), binary (0/1)
    # ---- how explanations word the op (trace --explain, gradcheck's expect:)
    local_words: Callable[..., str | None] | None = None  # (operands, i) -> the local derivative in words where
    #   `local` reads badly (x**2: 2·x, not 2·x^(2-1)); operands are names, or numbers for constants; None: `local`
    tensor_rule: tuple[str, ...] = ()  # per argument, the reverse rule for tensors in words: {g} the upstream
    #   gradient, {x0}, {x1} the operands, {x0_T}, {x1_T} transposed; () means g ⊙ local, summed back to the shape
    slope_from_output: bool = False  # the local derivative is written with the output (σ(1 - σ)): a student
    #   who takes it from the input instead makes a known slip

    @property
    def arity(self) -> int:
        return len(self.vjp)

    @property
    def arity_range(self) -> tuple[int, int]:
        return (self.arity if self.min_args is None else self.min_args, self.arity)


OPS: dict[str, Op] = {}


def register(op: Op) -> Op:
    assert op.name not in OPS, op.name
    assert len(op.vjp) == len(op.jvp), op.name
    OPS[op.name] = op
    return op
