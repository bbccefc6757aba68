"""`make demo`: a two-hidden-layer perceptron built from raw tensors, trained on the built-in 8x8 digits.

No nn.Module and no optimizer object: the weights are plain tensors with requires_grad, the forward
pass is matmuls and ReLUs, the loss is a hand-written log-softmax cross-entropy, and the update is
w -= lr * w.grad under no_grad. It shows ember's autograd doing all the work."""

from __future__ import annotations

import math
import time

import ember
from ember.data import load_digits


def init_layer(fan_in: int, fan_out: int) -> tuple[ember.Tensor, ember.Tensor]:
    """He-initialised weights (fan_out x fan_in) and zero biases, both tracked by autograd."""
    w = (ember.randn(fan_out, fan_in) * math.sqrt(2.0 / fan_in)).requires_grad_()
    b = ember.zeros(fan_out, requires_grad=True)
    return w, b


def cross_entropy(logits: ember.Tensor, labels: ember.Tensor) -> ember.Tensor:
    """Mean negative log-likelihood of the labels under softmax(logits), via a stable log-softmax."""
    shifted = logits - logits.max(dim=1, keepdim=True).values.detach()
    log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
    return -log_probs.gather(1, labels.view(-1, 1)).mean()


def main(epochs: int = 20, batch_size: int = 32, lr: float = 0.1, seed: int = 0) -> float:
    """Train, printing the loss per epoch; returns the final test accuracy."""
    ember.manual_seed(seed)
    x_train, y_train = load_digits("train", flatten=True)
    x_test, y_test = load_digits("test", flatten=True)
    params = [*init_layer(64, 128), *init_layer(128, 64), *init_layer(64, 10)]
    w1, b1, w2, b2, w3, b3 = params

    def forward(x: ember.Tensor) -> ember.Tensor:
        h = (x @ w1.t() + b1).relu()
        h = (h @ w2.t() + b2).relu()
        return h @ w3.t() + b3

    n = x_train.shape[0]
    start = time.perf_counter()
    print(f"ember demo: MLP 64-128-64-10 on the built-in digits ({n} train / {x_test.shape[0]} test images)")
    for epoch in range(1, epochs + 1):
        order = ember.randperm(n)
        total = 0.0
        for i in range(0, n, batch_size):
            idx = order[i : i + batch_size]
            loss = cross_entropy(forward(x_train[idx]), y_train[idx])
            for p in params:
                p.grad = None
            loss.backward()
            with ember.no_grad():
                for p in params:
                    p -= lr * p.grad
            total += loss.item() * idx.shape[0]
        print(f"epoch {epoch:3d}  train loss {total / n:.4f}")
    with ember.no_grad():
        pred = forward(x_test).argmax(dim=1)
    acc = (pred == y_test).float().mean().item()
    print(f"test accuracy: {acc * 100:.1f}%  ({time.perf_counter() - start:.1f} s)")
    return acc


if __name__ == "__main__":
    main()
