"""No internal error anywhere users go (issue 19): every command on every bundled example, with the main options.

Exit 4 is a bug in backprop. Each command runs on every example in graphs/ (in-process); its option
combinations take turns across the examples, so that each runs on at least one and each example meets each
command (the three large examples take the first, cheap, combination). Drawings are written as .dot but for
one of each image format; the options that write more files (--steps pages, worksheets, trained graphs, a
loss plot) and the other optimizers run on small examples once (tests/test_train_cli.py and
tests/test_race_plot.py draw the plots and animations). Exit 1, 2 and 3 are
verdicts and refusals (hessian of a non-scalar output, train without params): only 4 is a failure here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from backprop_cli.cli import main

GRAPHS = Path(__file__).resolve().parent.parent / "graphs"
EXAMPLES = sorted(p.stem for p in GRAPHS.glob("*.yaml"))
ELEMENTS = ["auto", "full", "sample", "direction"]
METHODS = ["auto", "complex", "richardson", "central"]

# per command, option combinations that take turns across the examples ({out}: a file in the test's folder)
TURNS = {
    "trace": [
        ["--json"],
        ["--mode", "both", "--explain"],
        ["--mode", "forward", "--format", "markdown"],
        ["--grad-output", "2", "--full"],
        ["--mode", "both", "--format", "json", "--compact"],
    ],
    "gradcheck": [["--elements", e, "--method", m] for e in ELEMENTS for m in METHODS]
    + [["--nodes", "--json"], ["--order", "2"], ["-q", "--samples", "3", "--elements", "sample"], ["--strict"]],
    "jacobian": [["--json"], ["--mode", "reverse"], ["--mode", "forward", "--full"], ["--no-check"]],
    "hessian": [["--no-check"], ["--json"], ["--method", "central"], ["--no-check", "--full"], ["--method", "complex"]],
    "render": [
        ["-o", "{out}.dot"],
        ["-o", "{out}.dot", "--mode", "both"],
        ["-o", "{out}.dot", "--mode", "forward", "--layout", "TB"],
        ["-o", "{out}.dot", "--collapse"],
        ["-o", "{out}.dot", "--expand", "--grad-output", "2"],
        ["-o", "{out}.dot", "--check", "--no-legend"],
    ],
    "train": [
        ["--steps", "3", "-q"],
        ["--steps", "3", "--json", "--optimizer", "adam"],
        ["--steps", "2", "--optimizer", "newton", "-q"],
        ["--steps", "3", "--optimizer", "lbfgs", "-q"],
        ["--steps", "3", "--compare", "sgd,momentum", "-q"],
    ],
}
HEAVY = {"two_layer", "conv_small", "mlp_float32"}  # 100,000 weights, a 32×32 image: the first (cheap) turn only
# once each: every image format, and the options that write more than one file
ONCE = [
    ["render", "circuit", "-o", "{out}.svg"],
    ["render", "sin_fork", "-o", "{out}.png"],
    ["render", "gates", "-o", "{out}.pdf"],
    ["render", "circuit", "-o", "{out}.html"],
    ["render", "sigmoid_neuron", "-o", "{out}.svg", "--worksheet", "--blank", "both"],
    ["render", "gates", "-o", "{out}.dot", "--steps", "{out}-steps"],
    ["jacobian", "relu_jacobian", "--of", "h", "--wrt", "a", "-o", "{out}.svg"],
    ["jacobian", "sin_fork", "-o", "{out}.png"],
    ["hessian", "zigzag", "-o", "{out}.svg"],
    ["hessian", "saddle", "-o", "{out}.png"],
    ["train", "rosenbrock", "--steps", "5", "--compare", "sgd,nesterov,adagrad,rmsprop", "--json"],
    ["train", "saddle", "--steps", "4", "--schedule", "step", "-o", "{out}.yaml", "-q"],
    ["train", "perceptron", "--steps", "3", "--plot", "{out}.svg", "-q"],
    ["train", "perceptron_data", "--steps", "3", "--batch-size", "4", "--json"],
    ["gradcheck", *EXAMPLES[:8]],
    ["gradcheck", "--json", *EXAMPLES[8:16]],
    ["examples", "--json"],
    ["ops", "--json"],
]


def invoke(args: list[str], folder: Path) -> None:
    args = [a.replace("{out}", str(folder / "out")) for a in args]
    result = CliRunner().invoke(main, args)
    shown = f"backprop {' '.join(args)} -> exit {result.exit_code}\n{result.output}"
    assert result.exit_code != 4 and "internal error" not in result.output, shown
    assert result.exception is None or isinstance(result.exception, SystemExit), shown


@pytest.mark.parametrize("command", list(TURNS))
def test_every_example_meets_every_command_without_an_internal_error(command, tmp_path):
    turns = TURNS[command]
    light = [e for e in EXAMPLES if e not in HEAVY]
    for example in sorted(HEAVY):
        invoke([command, example, *turns[0]], tmp_path)
    for i, example in enumerate(light):
        invoke([command, example, *turns[i % len(turns)]], tmp_path)
    assert len(light) >= len(turns), "an option combination never ran"


@pytest.mark.parametrize("args", ONCE, ids=[" ".join(a[:2]) + f" {i}" for i, a in enumerate(ONCE)])
def test_each_format_and_file_writing_option_without_an_internal_error(args, tmp_path):
    invoke(args, tmp_path)
