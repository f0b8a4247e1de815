"""The `train:` key: a graph's own defaults for `backprop train`, where the optimizers' own do not fit it.

train:
  optimizer: adam                                # the optimizer of a plain `backprop train` (else sgd)
  steps: 1000                                    # the number of updates (else 100)
  lr: {sgd: 0.001, momentum: 0.001, adam: 0.1}   # a learning rate per optimizer (the others keep their own)
  lr: 0.001                                      # or one for every optimizer

Options given on the command line win over these; these win over the optimizers' own defaults.
"""

from __future__ import annotations

import math

from ..errors import GraphFileError, suggest
from .yaml_source import Located

# The optimizers of training/optimizers.py (that layer sits above this one; tests/test_train_defaults.py
# holds the two lists equal)
OPTIMIZER_NAMES = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "newton", "lbfgs")
MAX_STEPS = 10_000_000  # beyond, a run takes days
MAX_LR = 1e6  # as --lr
KEYS = ("optimizer", "steps", "lr")
FORM = "train must be a mapping with optimizer, steps and lr, as in train: {optimizer: adam, lr: 0.1, steps: 500}"


def read_training_defaults(block: Located) -> dict[str, object]:
    """{optimizer: name, steps: n, lr: number or {optimizer: number}}, as given; GraphFileError with a position."""
    if not isinstance(block.value, dict):
        raise GraphFileError(FORM, block.where)
    out: dict[str, object] = {}
    for key, item in block.value.items():
        if key not in KEYS:
            hint = suggest(str(key), KEYS) or f" (it takes {', '.join(KEYS)})"
            raise GraphFileError(f"train: unknown key {key!r}{hint}", block.key_where[key])
        if key == "optimizer":
            out[key] = _optimizer(item.value, item)
        elif key == "steps":
            steps = item.value
            if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
                raise GraphFileError(f"train: steps must be a whole number from 1 to {MAX_STEPS:,}", item.where)
            out[key] = steps
        elif isinstance(item.value, dict):
            out[key] = {_optimizer(name, item, item.key_where[name]): _lr(lr) for name, lr in item.value.items()}
        else:
            out[key] = _lr(item)
    return out


def _optimizer(name: object, item: Located, where=None) -> str:
    if not isinstance(name, str) or name not in OPTIMIZER_NAMES:
        raise GraphFileError(
            f"train: unknown optimizer {name!r}{suggest(str(name), OPTIMIZER_NAMES)} "
            f"(choose from {', '.join(OPTIMIZER_NAMES)})",
            where or item.where,
        )
    return name


def _lr(item: Located) -> float:
    value = item.value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_LR or math.isnan(value):
        raise GraphFileError(
            "train: lr must be a number > 0 (at most 1e6), or one per optimizer as in lr: {sgd: 0.001, adam: 0.1}",
            item.where,
        )
    return float(value)


def learning_rate(defaults: dict[str, object], optimizer: str) -> float | None:
    """The file's learning rate for an optimizer, if it gives one."""
    lr = defaults.get("lr")
    return lr.get(optimizer) if isinstance(lr, dict) else lr  # type: ignore[return-value]
