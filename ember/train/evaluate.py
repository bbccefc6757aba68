"""Evaluating a model on arrays, and a finished (or running) run folder on one of its splits."""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from .config import ConfigError

EVAL_BATCH = 1000  # rows per forward pass when evaluating: large enough to be fast, small enough for memory

SPLITS = ("train", "val", "test")
CHECKPOINTS = ("model", "best", "last")


@dataclasses.dataclass
class EvalResult:
    """A model's predictions on one split of a run's data."""

    y_true: np.ndarray  # (N,) int64 class indices
    y_pred: np.ndarray  # (N,) int64 predicted classes
    probs: np.ndarray  # (N, C) float32 class probabilities
    loss: float | None  # mean loss (None for an empty split)
    accuracy: float | None
    class_names: list[str]
    x: np.ndarray  # (N, F) the normalised inputs
    image_shape: tuple[int, int] | None
    split: str = "test"
    checkpoint: str = "model"


def predict_outputs(model, x: np.ndarray, batch_size: int = EVAL_BATCH) -> np.ndarray:
    """The model's raw outputs for the rows of x, in eval mode without gradients, batch_size rows at a time."""
    from .. import from_numpy, no_grad

    model.eval()
    chunks = []
    with no_grad():
        for start in range(0, len(x), batch_size):
            chunks.append(model(from_numpy(np.ascontiguousarray(x[start : start + batch_size]))).numpy())
    if not chunks:
        return np.zeros((0, 0), dtype=np.float32)
    return np.concatenate(chunks)


def evaluate_arrays(
    model, loss_fn, x: np.ndarray, y: np.ndarray, batch_size: int = EVAL_BATCH
) -> tuple[float | None, float | None, np.ndarray]:
    """(mean loss, accuracy, raw outputs) of the model on (x, y); loss and accuracy are None when x is empty."""
    from .. import from_numpy, no_grad

    model.eval()
    chunks = []
    loss_sum = 0.0
    with no_grad():
        for start in range(0, len(x), batch_size):
            xb = np.ascontiguousarray(x[start : start + batch_size])
            yb = np.ascontiguousarray(y[start : start + batch_size])
            out = model(from_numpy(xb))
            loss_sum += loss_fn(out, from_numpy(yb)).item() * len(yb)
            chunks.append(out.numpy())
    if not chunks:
        return None, None, np.zeros((0, 0), dtype=np.float32)
    outputs = np.concatenate(chunks)
    accuracy = float(np.mean(outputs.argmax(axis=1) == y))
    return float(loss_sum / len(y)), accuracy, outputs


def outputs_to_probs(outputs: np.ndarray, loss: str) -> np.ndarray:
    """Class probabilities from raw outputs: softmax for cross_entropy, exp for nll's log-probabilities,
    and the clipped, renormalised outputs for mse (which regresses one-hot targets)."""
    out = outputs.astype(np.float64)
    if loss == "nll":
        probs = np.exp(out)
    elif loss == "mse":
        probs = np.clip(out, 0.0, None)
        totals = probs.sum(axis=1, keepdims=True)
        probs = np.where(totals > 0, probs / np.where(totals > 0, totals, 1.0), 1.0 / max(out.shape[1], 1))
    else:
        shifted = np.exp(out - out.max(axis=1, keepdims=True))
        probs = shifted / shifted.sum(axis=1, keepdims=True)
    return probs.astype(np.float32)


def load_run_model(run_dir: str, checkpoint: str = "model"):
    """(model, cfg, data info) of a run folder, with the weights of model.pt or checkpoints/{best,last}.pt."""
    from ..serialization import load
    from .checkpoint import load_checkpoint
    from .model import build_model, load_weights
    from .run_dir import RunDir

    if checkpoint not in CHECKPOINTS:
        raise ConfigError(f"checkpoint must be one of {', '.join(CHECKPOINTS)}; got {checkpoint!r}")
    rd = RunDir(run_dir)
    cfg = rd.read_config()
    info = rd.read_data_info()
    model = build_model(cfg, int(info["num_features"]), int(info["num_classes"]))
    if checkpoint == "model":
        if not os.path.isfile(rd.model):
            raise ConfigError(
                f"{rd.model} does not exist (the run has not finished); use --checkpoint last or --checkpoint best"
            )
        try:
            state = load(rd.model)
        except Exception as e:  # noqa: BLE001 - any parse failure means a damaged file
            raise ConfigError(f"{rd.model} cannot be read (truncated or corrupt?): {e}") from None
        source = rd.model
    else:
        source = rd.last if checkpoint == "last" else rd.best
        state = load_checkpoint(source)["model"]
    load_weights(model, state, source)
    model.eval()
    return model, cfg, info


def evaluate_run(run_dir: str, split: str = "test", checkpoint: str = "model") -> EvalResult:
    """Rebuild a run's model from config.toml and data.json, load its weights, and evaluate it on one split."""
    from .data import load_data
    from .model import build_loss

    if split not in SPLITS:
        raise ConfigError(f"split must be one of {', '.join(SPLITS)}; got {split!r}")
    model, cfg, info = load_run_model(run_dir, checkpoint)
    data = load_data(cfg)
    x, y = getattr(data, f"x_{split}"), getattr(data, f"y_{split}")
    loss, accuracy, outputs = evaluate_arrays(model, build_loss(cfg), x, y)
    if len(y) == 0:
        probs = np.zeros((0, data.num_classes), dtype=np.float32)
    else:
        probs = outputs_to_probs(outputs, cfg.train.loss)
    return EvalResult(
        y_true=np.asarray(y, dtype=np.int64),
        y_pred=probs.argmax(axis=1).astype(np.int64),
        probs=probs,
        loss=loss,
        accuracy=accuracy,
        class_names=list(data.class_names),
        x=x,
        image_shape=data.image_shape,
        split=split,
        checkpoint=checkpoint,
    )
