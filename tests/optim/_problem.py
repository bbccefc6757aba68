"""A small two-layer regression problem built from raw tensors, run identically on ember and torch."""

from __future__ import annotations

import numpy as np


def make_arrays(dtype=np.float32, seed: int = 0):
    """Data (X, Y) and initial weights [w1, b1, w2, b2, unused]; the last never gets a gradient."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((16, 5)).astype(dtype)
    Y = rng.standard_normal((16, 3)).astype(dtype)
    weights = [
        (rng.standard_normal((5, 8)) * 0.5).astype(dtype),
        (rng.standard_normal(8) * 0.1).astype(dtype),
        (rng.standard_normal((8, 3)) * 0.5).astype(dtype),
        (rng.standard_normal(3) * 0.1).astype(dtype),
        rng.standard_normal(4).astype(dtype),
    ]
    return X, Y, weights


def loss_fn(lib, X, Y, params):
    """Mean squared error of tanh(X @ w1 + b1) @ w2 + b2 against Y."""
    w1, b1, w2, b2 = params[:4]
    h = lib.tanh(X @ w1 + b1)
    return ((h @ w2 + b2 - Y) ** 2).mean()


def make_params(lib, weights):
    """Leaf tensors that require grad, one per weight array."""
    return [lib.tensor(w.copy(), requires_grad=True) for w in weights]


def train(lib, opt, params, X, Y, steps: int) -> list[float]:
    """Run `steps` optimizer steps; returns the losses."""
    X, Y = lib.tensor(X), lib.tensor(Y)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(lib, X, Y, params)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def to_numpy(params) -> list[np.ndarray]:
    """Copies of the parameters' values."""
    return [np.array(p.detach().numpy()) for p in params]
