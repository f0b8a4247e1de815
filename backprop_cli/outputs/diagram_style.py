"""How a diagram looks: colours, fonts, line widths and thresholds, as data in one place.

Colours are Okabe–Ito (they survive the common colour-vision deficiencies), and none carries
meaning alone: a value is the top line of a wire's label, a gradient the line under it, prefixed ∂.
"""

from __future__ import annotations

# ------------------------------------------------------------ colours (Okabe–Ito)
VALUE = "#0072B2"  # blue: forward values
GRADIENT = "#D55E00"  # vermillion: gradients
TANGENT = "#009E73"  # bluish green: forward-mode tangents
CURRENT = "#E69F00"  # orange: the gate of this --steps frame
ZERO = "#8C8C8C"  # grey: a gradient that is exactly zero
WIRE = "#3C3C3C"  # an ordinary wire
TEXT = "#1A1A1A"
MUTED = "#6E6E6E"  # roles, shapes, the legend
GATE_FILL = "#F3F3F3"
LEAF_FILL = "#FFFFFF"
CURRENT_FILL = "#FCE8C2"
CLUSTER = "#9A9A9A"
COLLAPSED_FILL = "#E8EEF4"
VERDICT = {"pass": VALUE, "fail": GRADIENT, "kink": CURRENT}  # leaf border by the verdict's first word

# ------------------------------------------------------------ text
FONT = "Helvetica"  # PostScript names: SVG viewers fall back to sans-serif / monospace
NUMBERS_FONT = "Courier"  # monospace, so a blank or a "?" can take exactly a number's width
FONT_SIZE = 12
WIRE_FONT_SIZE = 11
TITLE_FONT_SIZE = 14
LEGEND_FONT_SIZE = 10
SMALL_FONT_SIZE = 10  # a gate's name and role under its symbol
SYMBOL_FONT_SIZE = 18  # the op's symbol in a gate, the cs231n way
EXPRESSION_CHARS = 44  # a gate's expression is cut here with …
NOTE_CHARS = 22  # a gate's role note wraps here (at its commas), so boxes stay narrow
TITLE_CHARS = 96  # the title wraps here (at a space outside any formula)
BLANK = "[" + "\u00a0" * 8 + "]"  # a worksheet's slot to write in: the same width whatever the answer

# ------------------------------------------------------------ wires
PEN_WIDTH = (1.0, 3.5)  # thinnest and thickest wire
PEN_DECADES = 2.0  # a gradient this many decades below the largest on the diagram gets the thinnest line
VANISHING = 1e-3  # 0 < |gradient| < VANISHING · |output's own gradient, 1|: vanishing, drawn dotted
SATURATED_SLOPE = 1e-2  # a squashing gate whose slope is below this is saturated (σ: |x| > 4.6; tanh: |x| > 3)

# ------------------------------------------------------------ gates: the op's symbol in the box
SYMBOLS = {  # an op not listed here (a plugin, a new op) shows its name
    "add": "+", "sub": "−", "mul": "×", "div": "÷", "neg": "−x", "matmul": "@", "pow": "xⁿ",
    "sigmoid": "σ", "maximum": "max", "minimum": "min", "sum": "Σ", "mean": "mean",
    "identity": "=", "transpose": "ᵀ", "sqrt": "√", "abs": "|x|",
    "greater": ">", "less": "<", "greater_equal": "≥", "less_equal": "≤", "equal": "==", "not_equal": "≠",
    "logical_and": "&", "logical_or": "|", "logical_not": "~",
}  # fmt: skip
POWERS = {2: "x²", 3: "x³", 4: "x⁴", -1: "1/x", 0.5: "√"}

# ------------------------------------------------------------ slide: 16:9, at least 60% of the size on 1280×720
SLIDE = (2133.0, 1200.0)  # points: the largest drawing that keeps 60% of its size on a 1280×720 slide
BOX_COST = 4  # fitting a slide: drawing long nodes as boxes (hiding their gates) weighs as much as 4 crossings
SMALL_TENSOR = 6  # elements: a tensor this small shows its numbers (a matrix up to 3×3 too)
ROW_NUMBERS = 3  # at most this many numbers per line of a small tensor longer than 4
TENSOR_LINE = 24  # characters: a small tensor's row longer than this takes two lines or more
TENSOR_DIGITS = 4  # significant digits of a small tensor's numbers (a scalar gets 6)

# ------------------------------------------------------------ layout
LABELS_BESIDE = 150  # above this many wires, numbers go beside the wires after layout (dot's xlabel): a
#                      label in the layout costs dot a rank of its own, minutes for a 300-gate graph
FORK_TERMS = 4  # a fork with more readers shows its sum, not every term
NODE_SEP = 0.3  # inches between nodes of a rank
RANK_SEP = 0.3  # inches between ranks (a wire's label node is a rank of its own)
BIG_NODE_SEP = 0.3  # with labels beside the wires: room for them
BIG_RANK_SEP = 0.9
LEAF_COPIES = 8  # with labels beside the wires: a leaf with more wires than this is drawn once per wire
AUTO_COLLAPSE = 200  # above this many gates, each node's gates are drawn as one box (render --expand keeps them)
