"""A student's layers, as in cs231n's assignment 2: correct versions, and classic bugs kept as tests.

Each backward takes (upstream, *inputs) and returns one gradient per input (backprop's plugin protocol);
the *_cached functions use cs231n's own protocol: forward -> (out, cache), backward(dout, cache)."""

import numpy as np


def affine_forward(x, w, b):
    return x @ w + b


def affine_backward(dout, x, w, b):
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def affine_jvp(tangents, x, w, b):
    dx, dw, db = tangents
    return dx @ w + x @ dw + db


def affine_backward_no_transpose(dout, x, w, b):  # classic bug: dw = x @ dout needs xᵀ
    return dout @ w.T, (dout.T @ x).T[::-1], dout.sum(axis=0)


def affine_backward_bias_unsummed(dout, x, w, b):  # classic bug: db not summed over the batch
    return dout @ w.T, x.T @ dout, dout


def affine_backward_bias_mean(dout, x, w, b):  # classic bug: averaged instead of summed
    return dout @ w.T, x.T @ dout, dout.mean(axis=0)


def relu_forward(x):
    return np.maximum(x, 0)


def relu_backward(dout, x):
    return dout * (x > 0)


def relu_backward_wrong_side(dout, x):  # classic bug: the mask of the inputs that were cut
    return dout * (x < 0)


def sigmoid_forward(x):
    return 1 / (1 + np.exp(-x))


def sigmoid_backward(dout, x):
    s = sigmoid_forward(x)
    return dout * s * (1 - s)


def sigmoid_backward_from_x(dout, x):  # classic bug: σ'(x) written as x(1 - x)
    return dout * x * (1 - x)


def softmax_loss(x, y):
    shifted = x - x.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(y)), y.astype(int)].mean()


def softmax_loss_backward(dout, x, y):
    p = np.exp(x - x.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y.astype(int)] -= 1
    return dout * p / len(y), None


def affine_forward_cached(x, w, b):
    return x @ w + b, (x, w, b)


def affine_backward_cached(dout, cache):
    x, w, b = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def backward_two_of_three(dout, x, w, b):  # returns too few gradients
    return dout @ w.T, x.T @ dout


def backward_raises(dout, x, w, b):
    raise ValueError("shapes (4,3) and (2,3) not aligned")


def scale_forward(x, factor=2.0):
    return factor * x


def scale_backward(dout, x, factor=2.0):
    return dout * factor
