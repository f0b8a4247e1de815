"""The lecture's two-layer network (seeds/004, "a 2-layer Neural Network needs ~20 lines")
trained by `backprop train`'s loop and by the lecture's NumPy loop from the same weights."""

from __future__ import annotations

from pathlib import Path

import lecture_numpy
import numpy as np
import pytest

import backprop_cli
from backprop_cli.training.loop import train
from backprop_cli.training.optimizers import make_optimizer

GRAPHS = Path(__file__).resolve().parent.parent / "graphs"
TWO_LAYER = """
name: two_layer_test
inputs:
  x: {shape: [64, 1000], init: normal}
  y: {shape: [64, 10], init: normal}
params:
  w1: {shape: [1000, 100], init: normal}
  w2: {shape: [100, 10], init: normal}
nodes:
  h: sigmoid(x @ w1)
  y_pred: h @ w2
  loss: sum((y_pred - y) ** 2)
output: loss
seed: 0
"""


def two_layer():
    """graphs/two_layer.yaml when it has the lecture's structure; else the same graph written here."""
    path = GRAPHS / "two_layer.yaml"
    if path.exists():
        graph = backprop_cli.load(path)
        shapes = {n: graph.nodes[n].shape for n in ("x", "y", "w1", "w2") if n in graph.nodes}
        if shapes == {"x": (64, 1000), "y": (64, 10), "w1": (1000, 100), "w2": (100, 10)}:
            return graph
    return backprop_cli.loads(TWO_LAYER)


def compare(steps):
    graph = two_layer()
    v = graph.leaf_values
    run = train(graph, make_optimizer("sgd", lr=1e-4), steps)
    losses, final = lecture_numpy.loop(v["x"], v["y"], v["w1"], v["w2"], steps)
    np.testing.assert_allclose(run.losses, losses, rtol=1e-9)
    assert run.final_loss == pytest.approx(final, rel=1e-9)
    assert final < losses[0] / 2  # it learned


def test_two_layer_sgd_matches_the_lecture_loop_200_steps():
    """Every one of 200 losses to 1e-9 relative, and the loss halves: a 2000-step run asserted nothing more."""
    compare(200)
