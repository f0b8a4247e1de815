"""The `minimum:` key: where a loss has its minimum (or minima), for the optimizer race's plot.

minimum: {x: 1, y: 1}                        # one point: every scalar param named, with a number
minimum: [{x: 0, y: 1}, {x: 0, y: -1}]       # several
"""

from __future__ import annotations

import math

from ..arguments import not_in_graph
from ..errors import GraphFileError
from .yaml_source import Located

FORM = "minimum must be a point {param: number, ...} or a list of them"


def read_minima(block: Located, params: list[str]) -> list[dict[str, float]]:
    """The points, checked: each names every param once, with a finite number. GraphFileError with a position."""
    points = block.value if isinstance(block.value, list) else [block]
    minima = []
    for point in points:
        if not isinstance(point.value, dict) or not point.value:
            raise GraphFileError(FORM, point.where)
        values = {}
        for name, item in point.value.items():
            if name not in params:
                raise GraphFileError(f"minimum: {not_in_graph(name, 'param', params)}", point.key_where[name])
            number = item.value
            if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number):
                raise GraphFileError(f"minimum: {name} must be a finite number", item.where)
            values[name] = float(number)
        missing = [p for p in params if p not in values]
        if missing:
            raise GraphFileError(f"minimum: give every param, {', '.join(missing)} missing", point.where)
        minima.append(values)
    return minima
