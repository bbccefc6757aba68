"""`make demo`: a hand-made MLP with raw tensors (weights, matmuls, ReLU, log-softmax
cross-entropy, SGD written out) trained on the built-in 8x8 digits, in a few seconds."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

import ember


def load_digits() -> tuple[ember.Tensor, ember.Tensor]:
    """The 1,797 built-in 8x8 digit images (scaled to [0, 1], flattened) and their labels."""
    data = np.load(Path(__file__).parent / "data" / "digits.npz")
    images = data["images"].reshape(len(data["images"]), -1).astype(np.float32) / 16.0
    return ember.from_numpy(images), ember.from_numpy(data["targets"].astype(np.int64))


def main(epochs: int = 30, batch_size: int = 32, lr: float = 0.1, seed: int = 0) -> float:
    """Train the raw-tensor MLP 64-64-10, print loss per epoch and return the test accuracy."""
    ember.manual_seed(seed)
    x, y = load_digits()
    order = ember.randperm(len(y))
    x, y = x[order], y[order]
    n_test = 360
    x_train, y_train, x_test, y_test = x[n_test:], y[n_test:], x[:n_test], y[:n_test]

    # Kaiming-style scaling keeps ReLU activations alive from the first step.
    w1 = (ember.randn(64, 64) * (2 / 64) ** 0.5).requires_grad_()
    b1 = ember.zeros(64, requires_grad=True)
    w2 = (ember.randn(64, 10) * (2 / 64) ** 0.5).requires_grad_()
    b2 = ember.zeros(10, requires_grad=True)
    params = [w1, b1, w2, b2]

    def forward(inputs: ember.Tensor) -> ember.Tensor:
        hidden = (inputs @ w1 + b1).relu()
        return hidden @ w2 + b2

    def cross_entropy(logits: ember.Tensor, labels: ember.Tensor) -> ember.Tensor:
        log_probs = logits - logits.logsumexp(dim=1, keepdim=True)
        return -log_probs[ember.arange(len(labels)), labels].mean()

    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        perm = ember.randperm(len(y_train))
        total = 0.0
        for i in range(0, len(perm), batch_size):
            idx = perm[i : i + batch_size]
            loss = cross_entropy(forward(x_train[idx]), y_train[idx])
            for p in params:
                p.grad = None
            loss.backward()
            with ember.no_grad():
                for p in params:
                    p -= lr * p.grad
            total += loss.item() * len(idx)
        if epoch == 1 or epoch % 5 == 0:
            print(f"epoch {epoch:3d}  train loss {total / len(y_train):.4f}")
    with ember.no_grad():
        correct = (forward(x_test).argmax(dim=1) == y_test).sum().item()
    accuracy = correct / len(y_test)
    print(f"test accuracy: {correct}/{len(y_test)} ({100 * accuracy:.1f}%) in {time.perf_counter() - start:.1f} s")
    return accuracy


if __name__ == "__main__":
    main()
