"""Shared pieces for the doctor tests: the digits data (normalised, flat) and a plain PyTorch-style training loop."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

import ember
from ember import nn
from ember.data import digits_arrays
from ember.doctor import Doctor


@lru_cache(maxsize=1)
def digits():
    """Digits train split as (x float32 N x 64, zero mean / unit std; y int64)."""
    images, labels = digits_arrays("train")
    x = images.reshape(len(images), -1).astype(np.float32) / 16
    x = (x - x.mean()) / x.std()
    return ember.tensor(x), ember.tensor(labels)


def mlp(sizes, act=nn.ReLU, init=None) -> nn.Sequential:
    """Linear layers of the given widths with `act` between them; `init` (if given) re-draws every weight."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(act())
    model = nn.Sequential(*layers)
    if init is not None:
        for layer in model:
            if isinstance(layer, nn.Linear):
                init(layer.weight)
                nn.init.zeros_(layer.bias)
    return model


def train(model, optimizer, steps, *, data=None, every=5, batch=64, loss_fn=None, doctor=None, seed=0) -> Doctor:
    """A plain loop: forward, loss, zero_grad, backward, step, doctor.step; returns the doctor."""
    x, y = data if data is not None else digits()
    doctor = doctor if doctor is not None else Doctor(model, every=every)
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        idx = ember.tensor(rng.integers(0, x.shape[0], batch))
        loss = loss_fn(model(x[idx]), y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        doctor.step(loss, optimizer)
    return doctor


def by_key(doctor) -> dict:
    """The findings keyed by (kind, layer)."""
    return {(f.kind, f.layer): f for f in doctor.findings()}


def kinds(doctor) -> set:
    """The kinds of finding the doctor reported."""
    return {f.kind for f in doctor.findings()}
