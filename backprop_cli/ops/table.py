"""The op table: one entry per op with its forward, reverse rule, forward rule and gate kind.

Every rule list has one function per argument (as in HIPS autograd's defvjp):
the engines call only the rules of the arguments that need a derivative.

    forward(*xs, **attrs) -> out
    vjp[i](g, out, *xs, **attrs) -> dL/dx_i       (g = dL/dout; may be broadcast, the engine sums it back)
    jvp[i](t, out, *xs, **attrs) -> dout along t  (t = tangent of x_i)

Elementwise ops that are linear in the incoming gradient declare their local derivative once
(`elementwise`): the reverse rule is g · d, the forward rule t · d. Piecewise ops declare where they
bend (`Kinks`); an op without kinks is smooth and holomorphic (the complex step works through it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from . import shapes


class GateKind(Enum):
    """What a gate does to the gradient flowing back through it (the lectures' words): its role, what that
    means, and the same in a few words for a diagram's legend. tests/test_roles.py holds every kind's words
    against the local derivatives of every op of that kind."""

    WIRE = ("wire", "passes the gradient through, only rearranged", "∂ passed on, rearranged")
    DISTRIBUTOR = (
        "distributor",
        "hands the upstream gradient to every input, times a fixed factor: 1 (-1 where subtracted, 1/n in a mean)",
        "∂ to every input (×-1 where subtracted)",
    )
    SWITCHER = ("switcher", "multiplies the upstream gradient by the other input's value", "∂ × the other input")
    ROUTER = (
        "router",
        "sends the whole gradient to the input (or the elements) that won or were picked, 0 elsewhere",
        "∂ to the winner, 0 to the rest",
    )
    KILLER = (
        "killer",
        "passes the gradient where its input is positive, kills it (0) elsewhere",
        "∂ where input > 0, else 0",
    )
    LEAKY = (
        "leaky",
        "passes the gradient where its input is positive, scales it by a small slope (α; elu: α·eˣ) elsewhere: "
        "never kills it",
        "∂ where input > 0, else ×α (never 0)",
    )
    SQUASHER = (
        "squashing",
        "scales the gradient by a slope that vanishes when saturated",
        "∂ × slope, ≈ 0 if saturated",
    )
    SCALER = ("scaler", "scales the gradient by the local derivative", "∂ × local derivative")
    NORMALIZER = ("normalizer", "mixes the gradient across the normalized axis", "∂ mixed across the axis")
    LOSS = ("loss", "starts the gradient: its local derivative compares prediction and target", "∂ starts here")
    STOPPER = ("stopper", "stops the gradient: its input is treated as a constant and gets 0", "0: a constant")
    COMPARATOR = (
        "comparator",
        "gives a mask of 0s and 1s, flat between ties: no gradient flows back through it",
        "no ∂: a mask is flat",
    )

    def __init__(self, role: str, meaning: str, legend: str) -> None:
        self.role = role
        self.meaning = meaning
        self.legend = legend


Rule = Callable[..., np.ndarray]
ShapeRule = Callable[..., tuple[int, ...]]

# What an argument may hold (Op.domain): the op's derivative exists there. The tests draw their values inside it.
DOMAINS = {
    "real": "any number",
    "positive": "> 0",
    "nonzero": "≠ 0",
    "unit": "in (-1, 1)",
    "off_poles": "not π/2 + kπ (tan's poles)",
    "above_one": "> 1",
    "above_minus_one": "> -1",
    "labels": "class labels 0 to C-1, no derivative",
    "sign": "±1",
    "binary": "0 or 1",
    "mask": "a mask, 0 or 1 as a comparison gives, no derivative",
    "indices": "whole numbers indexing an axis, or a mask; no derivative",
}
VARIADIC = 64  # the most operands a variadic op (concat, stack) takes


@dataclass(frozen=True)
class Kinks:
    """Where a piecewise op has no derivative. Both functions take the operands (*xs, **attrs).

    piece: which piece of the op each element is on; a change between two evaluations means a kink lies
        between them (gradcheck reports an element whose stencil crossed one as a kink).
    distance: how far the operands are from the nearest kink (any shape; 0 at a kink).
    """

    piece: Callable[..., np.ndarray]
    distance: Callable[..., np.ndarray]


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
    min_args: int | None = None  # fewer operands allowed: optional trailing ones (conv2d's bias), variadic ops
    fault: str = "produced a non-finite value"  # what a NaN/inf from this op usually means
    kinks: Kinks | None = None  # None: smooth, and holomorphic in its inputs (the complex step works through it)
    independent: Callable[..., tuple[dict[int, int], ...]] | None = None  # (*shapes, **attrs) -> per argument
    #   {operand axis: output axis}: output slice i along that axis depends only on the operand's slice i.
    #   Elementwise ops need none (every axis is independent); gradcheck perturbs many elements at once
    #   when their effects land in different slices.
    domain: tuple[str, ...] = ()  # per argument, a key of DOMAINS ("real" where not given)
    # ---- how explanations word the op (trace --explain, gradcheck's expect:)
    local_words: Callable[..., str | None] | None = None  # (operands, i) -> the local derivative in words where
    #   `local` reads badly (x**2: 2·x, not 2·x^(2-1)); operands are names, or numbers for constants; None: `local`
    tensor_rule: tuple[str, ...] = ()  # per argument, the reverse rule for tensors in words: {g} the upstream
    #   gradient, {x0}, {x1} the operands, {x0_T}, {x1_T} transposed; () means g ⊙ local, summed back to the shape
    slope_from_output: bool = False  # the local derivative is written with the output (σ(1 - σ)): a student
    #   who takes it from the input instead makes a known slip
    masks: str = ""  # "always": its output is a boolean mask (comparisons), which x[m] reads as NumPy reads a bool
    #   array; "passes": a mask when its first operand is one (identity, reshape, x[...]); "": a number
    symbol: str = ""  # how a diagram marks the gate, the lectures' way ("+", "×", "σ"); "": the op's name

    @property
    def mark(self) -> str:
        return self.symbol or self.name

    @property
    def arity(self) -> int:
        return len(self.vjp)

    @property
    def variadic(self) -> bool:
        return self.arity == VARIADIC

    @property
    def analytic(self) -> bool:
        """Smooth and holomorphic: the complex step works through it. Plugin ops (student code, not in the table)
        are never assumed to take complex numbers."""
        return self.kinks is None and OPS.get(self.name) is self

    @property
    def stops_gradient(self) -> bool:
        """Its output is treated as a constant: no derivative, analytic or numerical, flows through it."""
        return self.gate_kind is GateKind.STOPPER

    def domain_of(self, i: int) -> str:
        return self.domain[i] if i < len(self.domain) else "real"

    @property
    def arity_range(self) -> tuple[int, int]:
        return (self.arity if self.min_args is None else self.min_args, self.arity)


OPS: dict[str, Op] = {}


def register(op: Op) -> Op:
    assert op.name not in OPS, op.name
    assert len(op.vjp) == len(op.jvp), op.name
    assert all(d in DOMAINS for d in op.domain), op.name
    OPS[op.name] = op
    return op


def elementwise(
    name: str,
    gate: GateKind,
    formula: str,
    forward: Callable[..., np.ndarray],
    derivatives: tuple[Callable[..., np.ndarray], ...],
    local: tuple[str, ...],
    **fields: object,
) -> Op:
    """An elementwise op from its forward and its local derivative per operand, d_i(out, *xs, **attrs):
    the reverse rule is g · d_i, the forward rule t · d_i. One operand: shape rule `same`; more: NumPy
    broadcasting (with the `broadcast` keyword)."""

    def reverse(d: Callable[..., np.ndarray]) -> Rule:
        return lambda g, out, *xs, **attrs: g * d(out, *xs, **attrs)

    def forward_rule(d: Callable[..., np.ndarray]) -> Rule:
        return lambda t, out, *xs, **attrs: t * d(out, *xs, **attrs)

    if len(derivatives) > 1:
        fields.setdefault("shape", shapes.broadcast)
        fields["attrs"] = {"broadcast": False, **fields.get("attrs", {})}
    return register(
        Op(
            name,
            gate,
            formula,
            forward=forward,
            vjp=tuple(reverse(d) for d in derivatives),
            jvp=tuple(forward_rule(d) for d in derivatives),
            shape=fields.pop("shape", shapes.same),
            local=local,
            **fields,
        )
    )


def variadic(rule: Callable[[int], Rule | str]) -> tuple:
    """One rule (or local text) per operand slot of a variadic op, up to VARIADIC operands."""
    return tuple(rule(i) for i in range(VARIADIC))
