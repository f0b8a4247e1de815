"""One output layer (issue 23): every command takes the same output options, every (result, format) of the
registry has its presenter, and a gradient that does not exist is null with a reason in trace --json."""

from __future__ import annotations

import json
from importlib import import_module

import pytest
from latex_check import LATEX_PREAMBLE, latex_compiles

from backprop_cli.cli import COMMANDS, main
from backprop_cli.outputs.formats import REGISTRY

SHARED = {"--format", "--json", "-o", "--pretty", "--compact", "-q"}


def _options(name: str) -> set[str]:
    command = main.get_command(None, name)
    return {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_takes_the_shared_output_options(name):
    assert SHARED <= _options(name), SHARED - _options(name)


def test_every_registered_format_has_its_presenter():
    for (kind, fmt), module in REGISTRY.items():
        presenter = import_module(f"backprop_cli.outputs.formats.{module}")
        assert callable(getattr(presenter, kind, None)), (kind, fmt, module)


@pytest.mark.parametrize("args", [["jacobian"], ["hessian"], ["derivatives", "--wrt", "x"]])
def test_compact_and_pretty_work_for_the_matrices_too(run, args):
    """They were refused by jacobian and hessian before issue 23."""
    compact = run(*args, "rosenbrock", "--json", "--compact")
    pretty = run(*args, "rosenbrock", "--json", "--pretty")
    assert compact.exit_code == pretty.exit_code == 0
    assert "\n" not in compact.stdout.strip() and "\n  " in pretty.stdout
    assert json.loads(compact.stdout) == json.loads(pretty.stdout)


def test_no_gradient_is_null_with_a_reason_and_a_real_zero_stays_zero(run, graph_file):
    path = graph_file(
        "inputs: {x: [1.0, -2.0], y: [1, 0], c: [0.5, 1.5]}\nparams: {w: [0.5, 0.25]}\n"
        "nodes:\n  h: relu(w * x)\n  k: stop_gradient(c) * 3\n  s: k + h\n"
        "  L: cross_entropy(transpose(stack(h, s)), y)\n"
        "output: L\n"
    )
    document = json.loads(run("trace", str(path), "--json").stdout)
    assert document["version"] == 2, document
    assert document["gradients"]["w"][1] == 0.0  # behind a dead ReLU's real zero: a number, not null
    assert document["gradients"]["y"] is None and "labels" in document["no_gradient"]["y"]
    assert "stop_gradient" in document["no_gradient"]["c"] and document["gradients"]["c"] is None
    assert all(document["gradients"][name] is not None for name in ("w", "x", "h", "k", "s"))


def test_latex_of_every_example_compiles(run, tmp_path):
    """trace --explain of every bundled example, and jacobians and hessians, --format latex in one document: Greek
    letters, ⊙, ‖x‖², ½, ŷ as LaTeX; a Jacobian of 1 x 100,000 as its corners (it was a megabyte), one of more
    than 10 columns with room for them (amsmath stops at 10: "Extra alignment tab")."""
    from backprop_cli.examples import bundled

    asked = [("trace", path.stem, "--explain") for path in bundled()]  # (the words, where the Unicode was)
    asked += [("jacobian", name) for name in ("two_layer", "relu_layer", "softmax_l2", "rosenbrock")]
    asked += [("hessian", name) for name in ("rosenbrock", "saddle", "relu_layer", "softmax_l2")]
    parts = []
    for command, *args in asked:
        result = run(command, *args, "--format", "latex")
        assert result.exit_code == 0, (command, args, result.stderr)
        parts.append(result.stdout)
    latex_compiles(LATEX_PREAMBLE + "\n\n".join(parts) + "\n\\end{document}\n", tmp_path)
    wide = run("jacobian", "two_layer", "--format", "latex").stdout
    assert len(wide) < 5000 and r"\cdots" in wide and r"\setcounter{MaxMatrixCols}{13}" in wide


def test_latex_text_keeps_what_was_written_in_a_form_latex_knows():
    from backprop_cli.outputs.formats.latex import math, text

    assert text("σ(W·x) ⊙ δ — ŷ") == r"$\sigma$(W$\cdot$x) $\odot$ $\delta$ --- \^{y}"
    assert text("‖x‖²ᵀ ~ 50% $") == r"$\|$x$\| ^{2\top}$ \textasciitilde{} 50\% \$"  # ^{2}^{T}: a double superscript
    assert text("漢") == "[U+6F22]" and text("café") == r"caf\'{e}"
    assert math("dL/dx = σ′ ⊙ ŷ") == r"\frac{dL}{dx} = \sigma ' \odot  \hat{y}"


def test_latex_for_answer_keys_on_every_example(run):
    """trace --explain --format latex: the chain rule as equations; environments balanced, braces too."""
    from backprop_cli.examples import bundled

    for path in bundled():
        result = run("trace", path.stem, "--format", "latex", "--explain")
        assert result.exit_code == 0, (path.stem, result.stderr)
        tex = result.stdout
        assert tex.count(r"\begin{") == tex.count(r"\end{") and tex.count("{") - tex.count(r"\{") == tex.count(
            "}"
        ) - tex.count(r"\}"), path.stem
    circuit = run("trace", "circuit", "--format", "latex", "--explain").stdout
    assert r"&\frac{df}{dx} = \frac{df}{dq}  \cdot  \frac{\partial q}{\partial x} = -4  \cdot  1 = -4 \\" in circuit
    assert r"\begin{bmatrix}" in run("jacobian", "rosenbrock", "--format", "latex").stdout
