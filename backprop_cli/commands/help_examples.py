"""What each command's --help ends with: examples to copy (tests/test_newcomer_cli.py runs every one), the exit
codes, and the manual page that describes it."""

from __future__ import annotations

EXAMPLES = {  # command -> the examples its --help shows
    "trace": ("backprop trace circuit", "backprop trace circuit --explain", "backprop trace npfl114_relu --json"),
    "gradcheck": (
        "backprop gradcheck circuit",
        "backprop gradcheck relu_layer --nodes",
        "backprop gradcheck neuron_2d --json",
    ),
    "render": (
        "backprop render circuit -o circuit.svg",
        "backprop render circuit -o circuit.html",
        "backprop render sigmoid_neuron -o sheet.svg --worksheet",
    ),
    "train": (
        "backprop train perceptron",
        "backprop train rosenbrock --compare sgd,momentum,adam --plot race.svg",
        "backprop train perceptron_data --batch-size 4 -o trained.yaml",
    ),
    "jacobian": ("backprop jacobian relu_jacobian --of h --wrt a", "backprop jacobian neuron_2d --wrt w --json"),
    "hessian": ("backprop hessian zigzag", "backprop hessian rosenbrock --json"),
    "derivatives": ("backprop derivatives zigzag --wrt x --order 4", "backprop derivatives circuit --wrt x --json"),
    "examples": ("backprop examples", "backprop examples circuit", "backprop examples circuit --copy"),
    "ops": ("backprop ops", "backprop ops --json"),
}
PAGES = {"examples": "docs/commands/examples.md", "ops": "docs/ops.md"}  # else docs/commands/<command>.md


def epilog(command: str, more: str = "") -> str:
    """--help's closing paragraphs: examples to copy, the exit codes (and more), where the manual page is."""
    examples = "\b\nExamples:\n" + "\n".join(f"  {line}" for line in EXAMPLES[command])
    page = PAGES.get(command, f"docs/commands/{command}.md")
    from .options import EXIT_CODES

    codes = "" if command in ("examples", "ops") else f"\n\n{EXIT_CODES}"
    return f"{examples}{codes}{more}\n\nManual: {page} in backprop's repository."
