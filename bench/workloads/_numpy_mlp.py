"""The SGD epoch written by hand in NumPy: the floor a Python library on NumPy can hope to reach.

Same network, data order, batch and learning rate as workload (1); the forward and backward passes are
written out (no autograd, no modules), and the eight matrix products of each step are timed on their
own, so the report can say how far each library is from the products it cannot avoid.
"""

from __future__ import annotations

import time

import numpy as np

SIZES = ((784, 200), (200, 200), (200, 10))


def init_params(seed: int) -> list[np.ndarray]:
    """Weights and biases with nn.Linear's default init ranges, as float32 [W1, b1, W2, b2, W3, b3]."""
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in SIZES:
        bound = 1 / np.sqrt(fan_in)
        params.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32))
        params.append(rng.uniform(-bound, bound, fan_out).astype(np.float32))
    return params


class MatmulClock:
    """a @ b that also adds its own wall-clock time to a running total."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        start = time.perf_counter()
        out = a @ b
        self.seconds += time.perf_counter() - start
        return out


def sgd_step(params: list[np.ndarray], x: np.ndarray, y: np.ndarray, lr: float, mm: MatmulClock) -> float:
    """One forward, backward and update of the ReLU MLP with mean cross-entropy; returns the loss."""
    w1, b1, w2, b2, w3, b3 = params
    zero = np.float32(0)
    h1 = mm(x, w1.T) + b1
    a1 = np.maximum(h1, zero)
    h2 = mm(a1, w2.T) + b2
    a2 = np.maximum(h2, zero)
    z = mm(a2, w3.T) + b3
    z -= z.max(axis=1, keepdims=True)
    exp = np.exp(z)
    total = exp.sum(axis=1, keepdims=True)
    rows = np.arange(len(y))
    loss = float(np.mean(np.log(total[:, 0]) - z[rows, y]))

    dz = exp / total
    dz[rows, y] -= 1
    dz /= np.float32(len(y))
    grads = [None] * 6
    grads[4], grads[5] = mm(dz.T, a2), dz.sum(axis=0)
    dh2 = mm(dz, w3) * (h2 > 0)
    grads[2], grads[3] = mm(dh2.T, a1), dh2.sum(axis=0)
    dh1 = mm(dh2, w2) * (h1 > 0)
    grads[0], grads[1] = mm(dh1.T, x), dh1.sum(axis=0)
    step = np.float32(-lr)
    for p, g in zip(params, grads):
        p += step * g
    return loss


def run_numpy_epoch(x: np.ndarray, y: np.ndarray, lr: float, batch: int, warmup: int) -> dict[str, float]:
    """Times one pass over x in batches; returns seconds for the whole step and for its matrix products."""
    params = init_params(seed=0)
    mm = MatmulClock()
    for i in range(warmup):
        sgd_step(params, x[i * batch : (i + 1) * batch], y[i * batch : (i + 1) * batch], lr, mm)
    mm.seconds = 0.0
    n_batches = len(x) // batch
    start = time.perf_counter()
    for i in range(n_batches):
        loss = sgd_step(params, x[i * batch : (i + 1) * batch], y[i * batch : (i + 1) * batch], lr, mm)
    return {"seconds": time.perf_counter() - start, "matmul_seconds": mm.seconds, "n_batches": n_batches, "loss": loss}
