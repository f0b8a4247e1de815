"""Leaf values: shapes are checked before any random leaf is drawn, and the draws keep their order."""

from __future__ import annotations

import math

import numpy as np
import pytest

import backprop_cli
from backprop_cli.errors import GraphFileError, ShapeError


def test_random_leaves_are_drawn_in_file_order():
    g = backprop_cli.loads(
        "inputs:\n  x: {shape: [3, 2], init: normal}\n  k: [1, 2]\n"
        "params:\n  w: {shape: [2, 2], init: uniform}\n  v: {shape: [2, 5], init: he, scale: 0.5}\n"
        "nodes: {f: sum(x @ w @ v) + sum(k)}\noutput: f\nseed: 7\n"
    )
    rng = np.random.default_rng(7)  # the same draws, written out
    np.testing.assert_array_equal(g.leaf_values["x"], rng.standard_normal((3, 2)))
    np.testing.assert_array_equal(g.leaf_values["w"], rng.uniform(-1.0, 1.0, (2, 2)))
    np.testing.assert_array_equal(g.leaf_values["v"], rng.standard_normal((2, 5)) * math.sqrt(2.0 / 2) * 0.5)


@pytest.mark.parametrize(
    "nodes, error, words",
    [
        ("f: x @ w", ShapeError, "inner sizes 16000 and 4000 differ"),
        ("f: sum(x) + sum(x * 2) + sum(x * 3) + sum(x * 4)", GraphFileError, "GiB"),
    ],
)
def test_shapes_and_sizes_are_checked_before_any_leaf_is_drawn(monkeypatch, nodes, error, words):
    def no_draws(*args, **kwargs):
        raise AssertionError("a random leaf was drawn before the shapes were checked")

    monkeypatch.setattr(np.random, "default_rng", no_draws)
    text = (
        "inputs: {x: {shape: [16000, 16000], init: normal}}\nparams: {w: {shape: [4000, 10], init: normal}}\n"
        f"nodes:\n  {nodes}\noutput: f\n"
    )
    with pytest.raises(error, match=words):
        backprop_cli.loads(text)
