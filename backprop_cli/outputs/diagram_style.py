"""How a diagram looks: colours, fonts, line widths and thresholds, as data in one place.

Colours are Okabe–Ito (they survive the common colour-vision deficiencies), and none carries
meaning alone: a value is the top line of a wire's label, a gradient the line under it, prefixed ∂;
a gate's role is its fill and its word in the legend.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..ops import GateKind


# ------------------------------------------------------------ colours
@dataclass(frozen=True)
class Palette:
    """The colours of one background (--background white, transparent or dark)."""

    background: str = "white"
    value: str = "#0072B2"  # blue: forward values
    gradient: str = "#D55E00"  # vermillion: gradients
    tangent: str = "#009E73"  # bluish green: forward-mode tangents
    current: str = "#E69F00"  # orange: the gate of this --steps frame
    zero: str = "#8C8C8C"  # grey: a gradient that is exactly zero
    wire: str = "#3C3C3C"  # an ordinary wire, a box's border
    text: str = "#1A1A1A"
    muted: str = "#5E5E5E"  # notes, shapes, the legend
    leaf_fill: str = "#FFFFFF"
    param_fill: str = "#FFF3C4"  # params (what training changes): pale yellow
    current_fill: str = "#FCE8C2"
    cluster: str = "#9A9A9A"
    collapsed_fill: str = "#E8EEF4"
    roles: dict[str, str] = field(default_factory=dict)  # gate kind's role -> fill


LIGHT_ROLES = {  # pale fills, one per role: what the gate does to the gradient, at a glance
    GateKind.DISTRIBUTOR.role: "#D6E9F8",  # blue tint
    GateKind.SWITCHER.role: "#FBE0CC",  # vermillion tint
    GateKind.ROUTER.role: "#D3F0E4",  # green tint
    GateKind.KILLER.role: "#E4E4E4",  # grey: where it kills, nothing comes back
    GateKind.LEAKY.role: "#F6EDB4",  # yellow tint
    GateKind.SQUASHER.role: "#EAD9EE",  # purple tint
}
DARK_ROLES = {
    GateKind.DISTRIBUTOR.role: "#1F3F5B",
    GateKind.SWITCHER.role: "#5A3520",
    GateKind.ROUTER.role: "#1D4A3A",
    GateKind.KILLER.role: "#404040",
    GateKind.LEAKY.role: "#55501F",
    GateKind.SQUASHER.role: "#45304D",
}
GATE_FILL = "#F3F3F3"  # a role without its own fill (scaler, wire, loss, ...)
PALETTES = {
    "white": Palette(roles=LIGHT_ROLES),
    "transparent": Palette(background="transparent", roles=LIGHT_ROLES),
    "dark": Palette(
        background="#1E1E1E",
        value="#56B4E9",  # sky blue reads on a dark ground
        gradient="#F08A4B",
        tangent="#3CC79A",
        current="#E69F00",
        zero="#8C8C8C",
        wire="#C8C8C8",
        text="#F0F0F0",
        muted="#B4B4B4",
        leaf_fill="#2A2A2A",
        param_fill="#4A4222",
        current_fill="#5A4516",
        cluster="#7A7A7A",
        collapsed_fill="#2C3440",
        roles=DARK_ROLES,
    ),
}
BACKGROUNDS = tuple(PALETTES)
DARK_GATE_FILL = "#333333"


def gate_fill(palette: Palette, role: str) -> str:
    return palette.roles.get(role, DARK_GATE_FILL if palette.background == "#1E1E1E" else GATE_FILL)


VERDICT = {"pass": "value", "fail": "gradient", "kink": "current"}  # leaf border by the verdict's first word

# ------------------------------------------------------------ text
FONT = "Helvetica"  # PostScript names: SVG viewers fall back to sans-serif
FONT_SIZE = 12  # names, numbers, notes, the legend: the smallest text, 12 pt
TITLE_FONT_SIZE = 15
SYMBOL_FONT_SIZE = 18  # the op's symbol in a gate, the cs231n way
WORD_SYMBOL_FONT_SIZE = 14  # an op written as a word (relu, exp, softmax)
EXPRESSION_CHARS = 44  # a gate's expression is cut here with …
BOX_CHARS = 26  # a collapsed node's formula wraps here (3 lines at most)
TITLE_CHARS = 60  # the title wraps here (at a space outside any formula; 1.5 times as far left to right)
CAPTION_CHARS = 90  # a --steps frame's caption wraps here
LEGEND_CHARS = 64  # characters in a row of the legend's role swatches
BLANK = "[" + "\u00a0" * 8 + "]"  # a worksheet's slot to write in: the same width whatever the answer
CIRCLE_SYMBOL = 4  # a gate whose symbol is this short (and whose other lines are short) is a circle
CIRCLE_LINE = 6  # characters of a circle's name or note line; longer: a rounded box

# ------------------------------------------------------------ wires
PEN_WIDTH = (1.0, 3.5)  # thinnest and thickest wire
PEN_DECADES = 2.0  # a gradient this many decades below the largest on the diagram gets the thinnest line
VANISHING = 1e-3  # 0 < |gradient| < VANISHING · |output's own gradient, 1|: vanishing, drawn dotted
SATURATED_SLOPE = 1e-2  # a squashing gate whose slope is below this is saturated (σ: |x| > 4.6; tanh: |x| > 3)

# ------------------------------------------------------------ gates: constants written into the symbol
POWERS = {2: "x²", 3: "x³", 4: "x⁴", -1: "1/x", 0.5: "√"}

# ------------------------------------------------------------ slide
SLIDES = {"16:9": (1280.0, 720.0), "4:3": (960.0, 720.0)}  # pixels of the slide a drawing is placed on
SLIDE_DPI = 96  # --slide: the drawing is sized to the slide at this many pixels per inch
READABLE_PX = 12.0  # the smallest text, placed whole on the slide, is at least this many pixels
PAD = 0.15  # inches of margin around a drawing (dot's pad), part of its size on the slide
BOX_COST = 4  # fitting a slide: drawing long nodes as boxes (hiding their gates) weighs as much as 4 crossings
SMALL_TENSOR = 6  # elements: a tensor this small shows its numbers (a matrix up to 3×3 too)
ROW_NUMBERS = 3  # at most this many numbers per line of a small tensor (4 when that is its row)
TENSOR_LINE = 26  # characters: a small tensor's row longer than this takes two lines or more

# ------------------------------------------------------------ layout
LABELS_BESIDE = 150  # above this many wires, numbers go beside the wires after layout (dot's xlabel): a
#                      label in the layout costs dot a rank of its own, minutes for a 300-gate graph
FORK_TERMS = 3  # a fork with more readers shows its sum, not every term
NODE_SEP = 0.12  # inches between nodes of a rank
RANK_SEP = 0.15  # inches between ranks (a wire's label node is a rank of its own)
BIG_NODE_SEP = 0.3  # with labels beside the wires: room for them
BIG_RANK_SEP = 0.9
LEAF_COPIES = 8  # with labels beside the wires: a leaf with more wires than this is drawn once per wire
AUTO_COLLAPSE = 200  # above this many gates, each node's gates are drawn as one box (render --expand keeps them)
