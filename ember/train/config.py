"""The resolved settings of one training run: defaults, TOML files, command-line overrides, validation."""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
from typing import Any


class ConfigError(ValueError):
    """A configuration mistake; its message is one line that names the culprit."""


@dataclasses.dataclass
class DataConfig:
    """Where the examples come from and how they are split."""

    name: str = "digits"  # digits (built in), fashion-mnist, mnist, or a path to a CSV file
    target: str = ""  # CSV only: the name (or 0-based index) of the label column; default the last column
    root: str = ""  # folder holding MNIST/raw or FashionMNIST/raw; "" means the usual places
    val_fraction: float = 0.1  # share of the training split held out for validation
    test_fraction: float = 0.2  # CSV only (other data sets have a test split of their own)
    limit: int = 0  # use only the first N training examples (0 = all); handy for quick runs


@dataclasses.dataclass
class ModelConfig:
    """The network to build: a multilayer perceptron, or a LeNet-style CNN in front of the same hidden layers."""

    kind: str = "mlp"  # mlp, or cnn (square images: two 5x5 convolutions with pooling, then the hidden layers)
    hidden: list[int] = dataclasses.field(default_factory=lambda: [128, 64])
    activation: str = "relu"  # relu, leaky_relu, elu, gelu, tanh, sigmoid, silu
    init: str = "default"  # default (PyTorch's), kaiming, xavier, normal (std 0.01), randn (std 1), zeros
    dropout: float = 0.0
    batch_norm: bool = False


@dataclasses.dataclass
class TrainConfig:
    """How to fit the model."""

    loss: str = "cross_entropy"  # cross_entropy, nll, mse
    optimizer: str = "adam"  # sgd, adam, adamw, rmsprop, adagrad
    lr: float = 1e-3
    momentum: float = 0.0  # sgd and rmsprop
    weight_decay: float = 0.0
    schedule: str = "none"  # none, step, cosine, exponential
    step_size: int = 10  # schedule = step: epochs between decays
    gamma: float = 0.1  # schedule = step / exponential: decay factor
    epochs: int = 10
    batch_size: int = 64
    seed: int = 0
    patience: int = 0  # early stopping: epochs without a better validation loss (0 = off)
    checkpoint_every: int = 0  # also checkpoint every N steps inside an epoch (0 = at epoch ends only)
    keep: int = 3  # per-epoch checkpoints kept besides last.pt and best.pt
    log_every: int = 10  # a "step" metrics line every N optimizer steps
    doctor: bool = True  # run the training doctor
    doctor_every: int = 20  # the doctor samples activations and gradients every N steps
    threads: int = 0  # BLAS threads per product; 0 = as many as the machine's load leaves free (kept on resume)


@dataclasses.dataclass
class RunConfig:
    """All settings of a run; written to the run folder as config.toml."""

    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """The settings as nested plain dicts (section -> key -> value)."""
        return dataclasses.asdict(self)

    def set(self, dotted_key: str, value: Any, source: str = "override") -> None:
        """Set `section.key` to value, converting and checking its type; unknown keys are a ConfigError."""
        section_name, _, key = dotted_key.partition(".")
        section = _section(self, section_name, source)
        fields = {f.name: f for f in dataclasses.fields(section)}
        if key not in fields:
            raise ConfigError(f"{source}: unknown key {dotted_key!r}{_did_you_mean(key, fields, section_name + '.')}")
        setattr(section, key, _convert(value, getattr(section, key), dotted_key, source))

    def validate(self) -> RunConfig:
        """Check value ranges and choices; raises ConfigError naming the first bad setting."""
        d, m, t = self.data, self.model, self.train
        _choice("model.kind", m.kind, MODEL_KINDS)
        _choice("model.activation", m.activation, ACTIVATIONS)
        _choice("model.init", m.init, INITS)
        _choice("train.loss", t.loss, LOSSES)
        _choice("train.optimizer", t.optimizer, OPTIMIZERS)
        _choice("train.schedule", t.schedule, SCHEDULES)
        _check(0.0 <= d.val_fraction < 1.0, "data.val_fraction must be in [0, 1)", d.val_fraction)
        _check(0.0 < d.test_fraction < 1.0, "data.test_fraction must be in (0, 1)", d.test_fraction)
        _check(d.limit >= 0, "data.limit must be >= 0", d.limit)
        _check(all(h > 0 for h in m.hidden), "model.hidden sizes must be positive", m.hidden)
        _check(0.0 <= m.dropout < 1.0, "model.dropout must be in [0, 1)", m.dropout)
        for section, name in (("data", "val_fraction"), ("data", "test_fraction"), ("model", "dropout")) + tuple(
            ("train", k) for k in ("lr", "momentum", "weight_decay", "gamma")
        ):
            value = getattr(getattr(self, section), name)
            _check(math.isfinite(value), f"{section}.{name} must be a finite number", value)
        _check(t.lr > 0, "train.lr must be positive", t.lr)
        _check(t.gamma > 0, "train.gamma must be positive", t.gamma)
        _check(t.epochs > 0, "train.epochs must be positive", t.epochs)
        _check(t.batch_size > 0, "train.batch_size must be positive", t.batch_size)
        for key in ("momentum", "weight_decay", "patience", "checkpoint_every", "keep", "threads"):
            _check(getattr(t, key) >= 0, f"train.{key} must be >= 0", getattr(t, key))
        _check(t.log_every > 0 and t.doctor_every > 0, "train.log_every and train.doctor_every must be positive", "")
        return self


MODEL_KINDS = ("mlp", "cnn")
ACTIVATIONS = ("relu", "leaky_relu", "elu", "gelu", "tanh", "sigmoid", "silu")
INITS = ("default", "kaiming", "xavier", "normal", "randn", "zeros")
LOSSES = ("cross_entropy", "nll", "mse")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")
SCHEDULES = ("none", "step", "cosine", "exponential")


def _section(cfg: RunConfig, name: str, source: str):
    names = [f.name for f in dataclasses.fields(cfg)]
    if name not in names:
        raise ConfigError(
            f"{source}: unknown section {name!r}{_did_you_mean(name, names)}; sections: {', '.join(names)}"
        )
    return getattr(cfg, name)


def _did_you_mean(word: str, options, prefix: str = "") -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {prefix + close[0]!r}?)" if close else ""


def _convert(value: Any, current: Any, key: str, source: str) -> Any:
    """Coerce a TOML or command-line value to the type of the current setting."""
    try:
        if isinstance(current, bool):
            if isinstance(value, str):
                low = value.strip().lower()
                if low in ("1", "true", "yes", "on"):
                    return True
                if low in ("0", "false", "no", "off"):
                    return False
                raise ValueError
            if isinstance(value, (bool, int)) and value in (0, 1):
                return bool(value)
            raise ValueError
        if isinstance(current, list):
            if isinstance(value, str):  # "128,64" or "128 64"; an empty item ("12,,3") is a mistake, not a gap
                parts = value.split(",")
                if len(parts) > 1 and any(not p.strip() for p in parts):
                    raise ValueError
                items = [v for p in parts for v in p.split()]
            else:
                items = list(value)
            return [_as_int(v) for v in items]
        if isinstance(current, int):
            return _as_int(value)
        if isinstance(current, float):
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
            if not math.isfinite(number):  # "inf", "nan", "1e400", and TOML's inf and nan
                raise ValueError
            return number
        return str(value)
    except (TypeError, ValueError):
        kind = {list: "a list of integers", float: "a finite number"}.get(type(current), type(current).__name__)
        raise ConfigError(f"{source}: {key} must be {kind}, got {value!r}") from None


def _as_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError
        return int(value)
    return int(value)


def _choice(key: str, value: str, options) -> None:
    if value not in options:
        raise ConfigError(f"{key} must be one of {', '.join(options)}; got {value!r}{_did_you_mean(value, options)}")


def _check(ok: bool, message: str, value: Any) -> None:
    if not ok:
        raise ConfigError(f"{message}; got {value!r}")


def _toml_module():
    try:
        import tomllib  # Python 3.11+

        return tomllib
    except ImportError:
        try:
            import tomli  # the same parser, for Python 3.10

            return tomli
        except ImportError:
            raise ConfigError("reading TOML config files on Python 3.10 needs the tomli package (pip install tomli)")


def load_config(path: str | os.PathLike | None = None, overrides: dict[str, Any] | None = None) -> RunConfig:
    """Defaults, then the TOML file at path (if any), then overrides {'section.key': value}; validated."""
    cfg = RunConfig()
    if path is not None:
        path = os.fspath(path)
        try:
            with open(path, "rb") as f:
                doc = _toml_module().load(f)
        except FileNotFoundError:
            raise ConfigError(f"config file {path!r} does not exist")
        except ValueError as e:  # tomllib.TOMLDecodeError is a ValueError
            raise ConfigError(f"{path}: not valid TOML: {e}")
        for section, table in doc.items():
            if not isinstance(table, dict):
                raise ConfigError(f"{path}: {section!r} must be a [section] table, not a bare key")
            for key, value in table.items():
                cfg.set(f"{section}.{key}", value, source=path)
    for key, value in (overrides or {}).items():
        cfg.set(key, value, source="command line")
    return cfg.validate()


def to_toml(cfg: RunConfig) -> str:
    """The config as TOML text (readable back with load_config)."""
    lines: list[str] = []
    for section, table in cfg.to_dict().items():
        lines.append(f"[{section}]")
        for key, value in table.items():
            lines.append(f"{key} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'
