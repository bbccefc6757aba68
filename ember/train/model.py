"""The model, loss, optimizer and learning-rate schedule a RunConfig describes."""

from __future__ import annotations

from collections import OrderedDict

from .. import nn, optim
from .config import ConfigError, RunConfig

# activation name -> module factory
ACTIVATION_MODULES = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "silu": nn.SiLU,
}

# activation name -> the nonlinearity whose gain kaiming init uses; the ReLU-like smooth ones borrow relu's gain
KAIMING_NONLINEARITY = {
    "relu": "relu",
    "leaky_relu": "leaky_relu",
    "elu": "relu",
    "gelu": "relu",
    "silu": "relu",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
}

# slope of nn.LeakyReLU() at its defaults, needed for the leaky_relu gain
LEAKY_SLOPE = 0.01


def build_model(cfg: RunConfig, in_features: int, num_classes: int) -> nn.Sequential:
    """The network of cfg.model: for a cnn, the convolutional layers of _conv_layers first; then per hidden layer
    fcK, [bnK], actK, [dropK]; then `out` (and `log_softmax` for nll).

    ember's global generator is seeded with cfg.train.seed first, so one config always gives the same weights.
    """
    from .. import manual_seed

    m = cfg.model
    if m.activation not in ACTIVATION_MODULES:
        raise ConfigError(f"model.activation must be one of {', '.join(ACTIVATION_MODULES)}; got {m.activation!r}")
    manual_seed(cfg.train.seed)
    layers: list[tuple[str, nn.Module]] = []
    width = in_features
    if m.kind == "cnn":
        layers, width = _conv_layers(in_features, m.activation)
    for k, size in enumerate(m.hidden, start=1):
        layers.append((f"fc{k}", nn.Linear(width, size)))
        if m.batch_norm:
            layers.append((f"bn{k}", nn.BatchNorm1d(size)))
        layers.append((f"act{k}", ACTIVATION_MODULES[m.activation]()))
        if m.dropout > 0:
            layers.append((f"drop{k}", nn.Dropout(m.dropout)))
        width = size
    layers.append(("out", nn.Linear(width, num_classes)))
    if cfg.train.loss == "nll":
        layers.append(("log_softmax", nn.LogSoftmax(dim=1)))
    model = nn.Sequential(OrderedDict(layers))
    initialise(model, m.init, m.activation)
    return model


def image_side(in_features: int) -> int:
    """The side of the square one-channel image in_features pixels make (a ConfigError when they make none)."""
    side = int(round(in_features**0.5))
    if side * side != in_features or side < 4:
        raise ConfigError(
            f"model.kind = 'cnn' needs square one-channel images of at least 4x4 pixels; this data has "
            f"{in_features} features per example (use model.kind = 'mlp')"
        )
    return side


def _conv_layers(in_features: int, activation: str) -> tuple[list, int]:
    """LeNet-style feature layers for flattened square images: unflatten to 1 x S x S, then two blocks of a
    5x5 convolution (padded to keep the size), the activation and 2x2 max-pooling (6 then 16 channels),
    then flatten. Returns the layers and the number of features they give."""
    side = image_side(in_features)
    layers = [("image", nn.Unflatten(1, (1, side, side)))]
    channels = 1
    for k, out in enumerate((6, 16), start=1):
        layers += [
            (f"conv{k}", nn.Conv2d(channels, out, 5, padding=2)),
            (f"conv_act{k}", ACTIVATION_MODULES[activation]()),
            (f"pool{k}", nn.MaxPool2d(2)),
        ]
        channels, side = out, side // 2
    layers.append(("flatten", nn.Flatten()))
    return layers, channels * side * side


def initialise(model: nn.Sequential, init: str, activation: str) -> None:
    """Re-draw every Linear layer's weights by the named scheme ("default" keeps the layers' own init)."""
    if init == "default":
        return
    linears = [module for module in model if isinstance(module, nn.Linear)]
    for k, layer in enumerate(linears):
        # hidden layers feed the activation; the output layer feeds the loss directly, so it is linear
        nonlinearity = KAIMING_NONLINEARITY[activation] if k < len(linears) - 1 else "linear"
        _init_linear(layer, init, nonlinearity)


def _init_linear(layer: nn.Linear, init: str, nonlinearity: str) -> None:
    w = layer.weight
    if init == "kaiming":
        slope = LEAKY_SLOPE if nonlinearity == "leaky_relu" else 0
        nn.init.kaiming_normal_(w, a=slope, nonlinearity=nonlinearity)
    elif init == "xavier":
        gain = nn.init.calculate_gain(nonlinearity) if nonlinearity in ("tanh", "sigmoid") else 1.0
        nn.init.xavier_uniform_(w, gain=gain)
    elif init == "normal":
        nn.init.normal_(w, 0.0, 0.01)
    elif init == "randn":
        nn.init.normal_(w, 0.0, 1.0)  # the classic mistake: unit variance regardless of fan-in
    elif init == "zeros":
        nn.init.zeros_(w)
    else:
        raise ConfigError(f"model.init must be one of default, kaiming, xavier, normal, randn, zeros; got {init!r}")
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)


class OneHotMSELoss(nn.Module):
    """Mean squared error between the raw outputs (N, C) and one-hot encodings of the class indices (N,)."""

    def forward(self, input, target):
        one_hot = nn.functional.one_hot(target, num_classes=input.shape[1]).to(input.dtype)
        return nn.functional.mse_loss(input, one_hot)


def build_loss(cfg: RunConfig) -> nn.Module:
    """The loss of cfg.train.loss, called as loss(outputs, class_indices).

    cross_entropy takes raw scores; nll takes the model's LogSoftmax output; mse compares the raw outputs (no
    softmax) with one-hot targets.
    """
    loss = cfg.train.loss
    if loss == "cross_entropy":
        return nn.CrossEntropyLoss()
    if loss == "nll":
        return nn.NLLLoss()
    if loss == "mse":
        return OneHotMSELoss()
    raise ConfigError(f"train.loss must be one of cross_entropy, nll, mse; got {loss!r}")


def build_optimizer(cfg: RunConfig, model: nn.Module) -> optim.Optimizer:
    """The optimizer of cfg.train over model's parameters (momentum applies to sgd and rmsprop only)."""
    t = cfg.train
    params = model.parameters()
    if t.optimizer == "sgd":
        return optim.SGD(params, lr=t.lr, momentum=t.momentum, weight_decay=t.weight_decay)
    if t.optimizer == "adam":
        return optim.Adam(params, lr=t.lr, weight_decay=t.weight_decay)
    if t.optimizer == "adamw":
        return optim.AdamW(params, lr=t.lr, weight_decay=t.weight_decay)
    if t.optimizer == "rmsprop":
        return optim.RMSprop(params, lr=t.lr, momentum=t.momentum, weight_decay=t.weight_decay)
    if t.optimizer == "adagrad":
        return optim.Adagrad(params, lr=t.lr, weight_decay=t.weight_decay)
    raise ConfigError(f"train.optimizer must be one of sgd, adam, adamw, rmsprop, adagrad; got {t.optimizer!r}")


def build_scheduler(cfg: RunConfig, optimizer: optim.Optimizer):
    """The learning-rate schedule of cfg.train (stepped once per epoch), or None for schedule "none"."""
    t = cfg.train
    if t.schedule == "none":
        return None
    if t.schedule == "step":
        return optim.lr_scheduler.StepLR(optimizer, step_size=t.step_size, gamma=t.gamma)
    if t.schedule == "cosine":
        return optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=t.epochs)
    if t.schedule == "exponential":
        return optim.lr_scheduler.ExponentialLR(optimizer, gamma=t.gamma)
    raise ConfigError(f"train.schedule must be one of none, step, cosine, exponential; got {t.schedule!r}")


def load_weights(model, state: dict, source: str) -> None:
    """model.load_state_dict(state), with a one-line error naming source when the shapes or names disagree."""
    try:
        model.load_state_dict(state)
    except (RuntimeError, KeyError) as e:
        first = str(e).strip().splitlines()[-1].strip() if str(e).strip() else type(e).__name__
        raise ConfigError(
            f"{source} does not fit the model described by the run's config.toml ({first}); "
            "was config.toml edited, or the file copied from another run?"
        ) from None
