"""backprop: make backpropagation visible and verifiable.

import backprop_cli
g = backprop_cli.load("graphs/circuit.yaml")   # or backprop_cli.loads(text)
g.forward()                                    # {name: value}
g.backward()                                   # {name: d output / d name}
g.jvp({"x": 1.0})                              # {name: tangent}
backprop_cli.gradcheck(g).passed               # reverse and forward mode against a numerical reference
backprop_cli.jacobian(g, "h", "a").array        # d h / d a, checked against finite differences
backprop_cli.hessian(g, ["x", "y"]).matrix      # second derivatives of the output
backprop_cli.derivatives(g, "x", order=4).values  # f and its first 4 derivatives along one leaf, checked
backprop_cli.assert_gradients("hw.yaml", allow_python=True)  # notebook graders: the points, or AssertionError
"""

from __future__ import annotations

from .errors import BackpropError, EvaluationError, ExitCode, GraphFileError, ShapeError, UsageError


def _svg(graph) -> str | None:
    """A graph's diagram for Jupyter; outputs is imported on first display, never by `import backprop_cli`."""
    from .outputs.notebook import graph_svg

    return graph_svg(graph)


def _engines() -> None:
    """numpy, YAML and the engines, imported on first use (the command line installs its Ctrl-C and SIGTERM
    handling before they load); Jupyter's SVG display registered with them."""
    from .engines.api import REPRESENTATIONS, Graph
    from .fileformat import load, loads

    REPRESENTATIONS["svg"] = _svg
    globals().update(Graph=Graph, load=load, loads=loads)


def __getattr__(name: str) -> object:
    """Graph, load and loads, gradcheck, jacobian, hessian, derivatives and __version__ are looked up on first use:
    `backprop trace` never pays for the checks, and `import backprop_cli` for nothing."""
    if name in ("Graph", "load", "loads"):
        _engines()
        return globals()[name]
    if name == "gradcheck":
        from .verify import gradcheck

        return gradcheck
    if name == "jacobian":
        from .verify.jacobian import jacobian

        return jacobian
    if name == "hessian":
        from .verify.hessian import hessian

        return hessian
    if name == "derivatives":
        from .verify.derivatives import derivatives

        return derivatives
    if name == "assert_gradients":
        from .outputs.notebook import assert_gradients

        return assert_gradients
    if name == "__version__":
        globals()["__version__"] = version = _version()
        return version
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _version() -> str:
    """The installed package's version (its metadata); in a checkout that is not installed, pyproject.toml's."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("backprop-cli")
    except PackageNotFoundError:
        import re
        from pathlib import Path

        try:
            text = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text(encoding="utf-8")
        except OSError:
            text = ""
        declared = re.search(r'^version = "([^"]+)"', text, re.MULTILINE)
        return declared.group(1) if declared and 'name = "backprop-cli"' in text else "0+unknown"


__all__ = [
    "BackpropError",
    "assert_gradients",
    "EvaluationError",
    "ExitCode",
    "Graph",
    "GraphFileError",
    "ShapeError",
    "UsageError",
    "derivatives",
    "gradcheck",
    "hessian",
    "jacobian",
    "load",
    "loads",
]
