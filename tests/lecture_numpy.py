"""The lecture's two-layer network in NumPy (seeds/004, "a 2-layer Neural Network needs ~20 lines"):
the one hand-written reference that tests and benchmarks compare backprop with.

    python3 -c "import sys; sys.path.insert(0, 'tests'); import lecture_numpy"   # as bench/ does
"""

from __future__ import annotations

import numpy as np

LR = 1e-4  # line 19: w1 -= 1e-4 * grad_w1


def step(x: np.ndarray, y: np.ndarray, w1: np.ndarray, w2: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Lines 9-17: the forward pass, the loss, and the gradients of w1 and w2."""
    h = 1 / (1 + np.exp(-x.dot(w1)))
    y_pred = h.dot(w2)
    loss = np.square(y_pred - y).sum()

    grad_y_pred = 2.0 * (y_pred - y)
    grad_w2 = h.T.dot(grad_y_pred)
    grad_h = grad_y_pred.dot(w2.T)
    grad_w1 = x.T.dot(grad_h * h * (1 - h))
    return loss, grad_w1, grad_w2


def loop(
    x: np.ndarray, y: np.ndarray, w1: np.ndarray, w2: np.ndarray, steps: int, lr: float = LR
) -> tuple[list[float], float]:
    """Lines 8-20 from copies of the weights, printing replaced by keeping the losses:
    (the loss before each update, the loss after the last one)."""
    w1, w2 = w1.copy(), w2.copy()
    losses = []
    for _t in range(steps):
        loss, grad_w1, grad_w2 = step(x, y, w1, w2)
        losses.append(loss)
        w1 -= lr * grad_w1
        w2 -= lr * grad_w2
    return losses, step(x, y, w1, w2)[0]
