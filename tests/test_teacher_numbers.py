"""Numbers on a figure as a teacher writes them (render --digits, numbers.rounded): the lectures' own
(0.20, -0.39, 0.73), and properties on generated numbers: exact integers stay integers, a number that is
not one never looks like one, the value is kept to the digits asked, and the text stays short."""

from __future__ import annotations

import re

import numpy as np
import pytest

from backprop_cli.numbers import rounded


def test_the_lectures_numbers():
    # cs231n's sigmoid neuron: f = 0.73, dw0 = -0.20, dx0 = 0.39, dx1 = -0.59; exp gate 0.37, 1 + e^-x = 1.37
    assert [rounded(v) for v in (0.731059, -0.196612, 0.393224, -0.589836, 0.367879)] == [
        "0.73", "-0.20", "0.39", "-0.59", "0.37",
    ]  # fmt: skip
    assert rounded(1.36788) == "1.4" and rounded(1.36788, 3) == "1.37"
    assert [rounded(v) for v in (-12.0, 6.0, 18.0, 0.0, -0.0, 30074.6)] == ["-12", "6", "18", "0", "0", "30075"]
    assert [rounded(v) for v in (0.5, 0.25, 0.1)] == ["0.5", "0.25", "0.1"]  # exact: no zeros that say nothing
    assert [rounded(v) for v in (0.999, 9.96, 4.53958e-05, 123456.7)] == ["1.00", "10.0", "4.5e-5", "1.2e5"]
    assert rounded(float("inf")) == "inf" and rounded(float("nan")) == "nan"


@pytest.mark.parametrize("digits", [1, 2, 3, 6])
def test_rounded_numbers_keep_their_value_and_never_pass_for_integers(digits):
    rng = np.random.default_rng(digits)
    values = rng.standard_normal(3000) * 10.0 ** rng.integers(-8, 9, 3000)
    values[:300] = np.round(values[:300] * 1e3)  # integers too
    for x in values:
        text = rounded(x, digits)
        assert len(text) <= digits + 8, text
        if float(x).is_integer() and abs(x) < 1e6:
            assert text == str(int(x))
            continue
        back = float(text)
        assert abs(back - x) <= 0.5 * 10.0 ** (1 - digits) * abs(x) * 1.0000001 + 1e-300, (x, text)
        if abs(x) < 10.0**digits:
            assert not re.fullmatch(r"-?\d+", text), (x, text)  # 0.999 is 1.00, not 1
