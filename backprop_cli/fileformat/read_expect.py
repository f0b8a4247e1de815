"""Reading the `expect:` block: students' hand-derived values and gradients, checked for form when the file
loads (verify/check_expect.py checks them for truth, when gradcheck runs)."""

from __future__ import annotations

import numpy as np

from ..errors import GraphFileError
from .yaml_source import Located

KEYS = ("values", "gradients", "tolerance")


def check_expect_form(block: Located, names: dict[str, object]) -> None:
    """Raises GraphFileError, with a position, for anything but names of the graph with numbers or lists."""
    if not isinstance(block.value, dict):
        raise GraphFileError("expect must be a mapping with values, gradients and tolerance", block.where)
    for key, item in block.value.items():
        if key not in KEYS:
            from ..errors import suggest

            hint = suggest(str(key), KEYS) or f" (it takes {', '.join(KEYS)})"
            raise GraphFileError(f"unknown key {key!r} in expect{hint}", block.key_where[key])
        if key == "tolerance":
            if isinstance(item.value, bool) or not isinstance(item.value, (int, float)) or not 0 < item.value < 1:
                # relative: with 1 or more, an answer of 0 (or, with inf, any answer) would be right for every name
                raise GraphFileError(
                    "tolerance must be a number between 0 and 1 (relative: 0.02 is 2%); "
                    "with 1 or more, 0 would be a right answer for every name",
                    item.where,
                )
            continue
        if not isinstance(item.value, dict):
            raise GraphFileError(f"expect {key} must map names to numbers", item.where)
        for name, answer in item.value.items():
            where = item.key_where[name]
            if name not in names:
                from ..arguments import not_in_graph

                known = [n for n in names if "." not in n]
                raise GraphFileError(f"expect {key}: {not_in_graph(name, 'leaf or node', known)}", where)
            plain = answer.plain()
            try:
                array = np.asarray(plain, dtype=float)
            except (TypeError, ValueError):
                raise GraphFileError(
                    f"expect {key}: {name} must be a number or a list of numbers", answer.where
                ) from None
            if isinstance(plain, bool) or array.dtype == object or not np.all(np.isfinite(array)):
                raise GraphFileError(f"expect {key}: {name} must be finite numbers", answer.where)
