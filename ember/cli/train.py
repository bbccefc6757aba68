"""`ember train`, `ember eval`, `ember predict` and `ember summary`: the training workflow from the command line."""

from __future__ import annotations

import argparse
import os
import sys

from .. import train as workflow
from ..train import ACTIVATIONS, INITS, OPTIMIZERS

# flag -> config key; every flag is passed as text and converted (and checked) by RunConfig.set
FLAG_KEYS = {
    "data": "data.name",
    "target": "data.target",
    "data_root": "data.root",
    "val_fraction": "data.val_fraction",
    "test_fraction": "data.test_fraction",
    "limit": "data.limit",
    "model": "model.kind",
    "hidden": "model.hidden",
    "activation": "model.activation",
    "init": "model.init",
    "dropout": "model.dropout",
    "loss": "train.loss",
    "optimizer": "train.optimizer",
    "lr": "train.lr",
    "momentum": "train.momentum",
    "weight_decay": "train.weight_decay",
    "schedule": "train.schedule",
    "step_size": "train.step_size",
    "gamma": "train.gamma",
    "epochs": "train.epochs",
    "batch_size": "train.batch_size",
    "seed": "train.seed",
    "patience": "train.patience",
    "checkpoint_every": "train.checkpoint_every",
    "keep": "train.keep",
    "log_every": "train.log_every",
    "doctor_every": "train.doctor_every",
    "threads": "train.threads",
}
# on/off flags -> (config key, value they set)
SWITCH_KEYS = {"batch_norm": ("model.batch_norm", True), "no_doctor": ("train.doctor", False)}


def register(subparsers) -> None:
    """Add the train, eval, predict and summary subcommands."""
    _add_train(subparsers)
    _add_eval(subparsers)
    _add_predict(subparsers)
    _add_summary(subparsers)


# ------------------------------------------------------------------------------------------------- parsers


def _add_train(subparsers) -> None:
    p = subparsers.add_parser(
        "train",
        help="train a classifier (an MLP) on digits, MNIST, Fashion-MNIST or a CSV file",
        description="Train an MLP classifier. Settings come from the defaults, then CONFIG.toml, then the flags; "
        "the run folder receives config.toml, metrics, checkpoints and model.pt.",
        epilog="With no arguments: the built-in digits, a 128-64 ReLU MLP, Adam, 10 epochs (a few seconds).",
    )
    p.add_argument("config", nargs="?", metavar="CONFIG.toml", help="a TOML file with [data] [model] [train] tables")
    data = p.add_argument_group("data")
    data.add_argument("--data", metavar="NAME|CSV", help="digits (default), fashion-mnist, mnist, or a CSV file")
    data.add_argument("--target", metavar="COL", help="CSV: label column name or 0-based index (default: the last)")
    data.add_argument("--data-root", metavar="DIR", help="folder holding the MNIST/Fashion-MNIST IDX files")
    data.add_argument("--val-fraction", metavar="F", help="share of the training split held out for validation")
    data.add_argument("--test-fraction", metavar="F", help="CSV: share of the rows held out for testing")
    data.add_argument("--limit", metavar="N", help="use only the first N training examples (quick runs)")
    model = p.add_argument_group("model")
    model.add_argument("--model", metavar="KIND", help="mlp (default) or cnn (LeNet-style, for image data)")
    model.add_argument("--hidden", metavar="128,64", help="hidden layer sizes, comma-separated")
    model.add_argument("--activation", metavar="A", help=", ".join(ACTIVATIONS))
    model.add_argument("--init", metavar="I", help=", ".join(INITS))
    model.add_argument("--dropout", metavar="P", help="dropout probability after each hidden activation")
    model.add_argument("--batch-norm", action="store_true", default=None, help="BatchNorm1d after each hidden layer")
    train = p.add_argument_group("training")
    train.add_argument("--loss", metavar="L", help="cross_entropy, nll, mse (raw outputs against one-hot targets)")
    train.add_argument("--optimizer", metavar="O", help=", ".join(OPTIMIZERS))
    train.add_argument("--lr", metavar="X", help="learning rate")
    train.add_argument("--momentum", metavar="M", help="momentum (sgd, rmsprop)")
    train.add_argument("--weight-decay", metavar="W", help="L2 weight decay")
    train.add_argument("--schedule", metavar="S", help="none, step, cosine, exponential (stepped once per epoch)")
    train.add_argument("--step-size", metavar="N", help="schedule step: epochs between decays")
    train.add_argument("--gamma", metavar="G", help="schedule step/exponential: decay factor")
    train.add_argument("--epochs", metavar="N", help="number of epochs (with --resume: extend the run to N epochs)")
    train.add_argument("--batch-size", metavar="B", help="examples per optimizer step")
    train.add_argument("--seed", metavar="S", help="seed of weights, splits, shuffles and dropout")
    train.add_argument("--patience", metavar="P", help="stop after P epochs without a better validation loss")
    train.add_argument("--checkpoint-every", metavar="N", help="also checkpoint every N steps inside an epoch")
    train.add_argument("--keep", metavar="K", help="per-epoch checkpoints to keep")
    train.add_argument("--log-every", metavar="N", help="a step line in metrics.jsonl every N steps")
    train.add_argument("--no-doctor", action="store_true", default=None, help="do not run the training doctor")
    train.add_argument("--doctor-every", metavar="N", help="the doctor samples activations every N steps")
    train.add_argument(
        "--threads",
        metavar="N",
        help="BLAS threads per matrix product (0: as many as the machine's load leaves free; kept on resume)",
    )
    train.add_argument(
        "--set", action="append", default=[], metavar="SECTION.KEY=VALUE", help="any other setting (repeatable)"
    )
    run = p.add_argument_group("run folder")
    run.add_argument("--run-dir", metavar="DIR", help="where to write the run (default runs/<data>-<date>-<time>)")
    run.add_argument("--overwrite", action="store_true", help="replace the run already in --run-dir")
    run.add_argument("--resume", metavar="DIR", help="continue the interrupted (or finished) run in DIR")
    par = p.add_argument_group("data-parallel training (needs pip install 'ember[distributed]')")
    par.add_argument(
        "--nproc",
        metavar="N",
        type=int,
        default=1,
        help="train on N processes (through mpiexec), each on 1/N of every batch, gradients averaged; rank 0 "
        "writes the run folder (default: 1, no launcher)",
    )
    par.add_argument("--as-rank", action="store_true", help=argparse.SUPPRESS)  # set by the launcher for each rank
    _show_defaults(p)
    p.set_defaults(handler=_handler("train", train_command))


def _show_defaults(parser: argparse.ArgumentParser) -> None:
    """Append each setting's default (from RunConfig) to its flag's help, unless the help already says it."""
    cfg = workflow.RunConfig()
    for action in parser._actions:
        key = FLAG_KEYS.get(action.dest) or SWITCH_KEYS.get(action.dest, (None,))[0]
        if key is None or action.help is None or "(default" in action.help or "default)" in action.help:
            continue
        section, name = key.split(".")
        value = getattr(getattr(cfg, section), name)
        if action.dest in SWITCH_KEYS:
            value = "on" if value else "off"
            what = "model.batch_norm" if action.dest == "batch_norm" else "the doctor"
            action.help += f" (default: {what} {value})"
            continue
        if isinstance(value, list):
            value = ",".join(str(v) for v in value)
        elif value == "":
            value = "none" if name != "root" else "the usual places"
        elif value == 0 and name in _ZERO_MEANS:
            value = f"0, {_ZERO_MEANS[name]}"
        action.help += f" (default: {value})"


_ZERO_MEANS = {"limit": "all", "patience": "off", "checkpoint_every": "at epoch ends only", "keep": "none"}


def _add_eval(subparsers) -> None:
    p = subparsers.add_parser("eval", help="evaluate a trained run on one of its data splits")
    p.add_argument("run", metavar="RUN", help="a run folder written by ember train")
    p.add_argument("--split", default="test", choices=("test", "val", "train"), help="which split (default test)")
    p.add_argument(
        "--checkpoint",
        default="model",
        choices=("model", "best", "last"),
        help="model.pt (default), or checkpoints/best.pt or last.pt",
    )
    p.set_defaults(handler=_handler("eval", eval_command))


def _add_predict(subparsers) -> None:
    p = subparsers.add_parser(
        "predict",
        help="classify image, IDX or CSV files with a trained run",
        description="Classify examples with a trained run: PNG/JPEG images (grayscale, resized to the training "
        "images' size), IDX image files (one line per image, FILE:index from 0), or CSV files (one line per "
        "row, FILE:line; a header row is skipped and the label column dropped when present).",
    )
    p.add_argument("run", metavar="RUN", help="a run folder written by ember train")
    p.add_argument("files", nargs="+", metavar="FILE", help="images, IDX files or CSV files")
    p.add_argument("--checkpoint", default="model", choices=("model", "best", "last"), help="weights to use")
    p.add_argument(
        "--invert", action="store_true", help="invert image brightness (dark strokes on white, unlike MNIST)"
    )
    p.set_defaults(handler=_handler("predict", predict_command))


def _add_summary(subparsers) -> None:
    p = subparsers.add_parser("summary", help="layer-by-layer table of a run's (or a config's) model")
    p.add_argument("target", metavar="RUN|CONFIG", help="a run folder or a CONFIG.toml file")
    p.set_defaults(handler=_handler("summary", summary_command))


def _handler(name: str, command):
    """Wrap a command so configuration mistakes print one line and exit with status 2, with no traceback."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except (workflow.ConfigError, workflow.CheckpointError) as e:
            print(f"ember {name}: error: {e}", file=sys.stderr)
            return 2
        except workflow.TrainingDiverged as e:  # the settings were valid; the run failed
            print(f"ember {name}: error: {e}", file=sys.stderr)
            return 1

    return run


# ------------------------------------------------------------------------------------------------- train


def overrides_from_args(args: argparse.Namespace) -> dict[str, object]:
    """The config overrides the flags ask for (only flags actually given), in a stable order."""
    overrides: dict[str, object] = {}
    for attr, key in FLAG_KEYS.items():
        value = getattr(args, attr, None)
        if value is not None:
            # checked here so that a bad value is reported against the flag the user typed
            workflow.RunConfig().set(key, value, source=f"--{attr.replace('_', '-')}")
            overrides[key] = value
    for attr, (key, value) in SWITCH_KEYS.items():
        if getattr(args, attr, None):
            overrides[key] = value
    for item in getattr(args, "set", None) or []:
        key, sep, value = item.partition("=")
        if not sep or "." not in key:
            raise workflow.ConfigError(f"--set {item!r}: expected SECTION.KEY=VALUE, e.g. --set train.log_every=5")
        overrides[key.strip()] = value.strip()
    return overrides


def _given_flags(args: argparse.Namespace) -> list[str]:
    """Names of the setting flags given on the command line, as --flag-name."""
    given = [attr for attr in (*FLAG_KEYS, *SWITCH_KEYS) if getattr(args, attr, None) is not None]
    if getattr(args, "set", None):
        given.append("set")
    return ["--" + attr.replace("_", "-") for attr in given]


def train_command(args: argparse.Namespace) -> int:
    """Handler for `ember train`."""
    if args.resume is not None:
        extra = [f for f in _given_flags(args) if f not in ("--epochs", "--threads")]
        if args.config is not None:
            extra.insert(0, args.config)
        if args.run_dir is not None:
            extra.append("--run-dir")
        if args.overwrite:
            extra.append("--overwrite")
        if extra:
            raise workflow.ConfigError(
                f"--resume continues {args.resume} with its saved config.toml; only --epochs and --threads may "
                f"change (got {', '.join(extra)})"
            )
        run_dir = args.resume
        cfg = None  # the run's own config.toml
        if args.epochs is not None or args.threads is not None:
            cfg = workflow.RunDir(run_dir).read_config()
            for flag, key in ((args.epochs, "train.epochs"), (args.threads, "train.threads")):
                if flag is not None:
                    cfg.set(key, flag, source="command line")
            cfg.validate()
        resume = True
    else:
        cfg = workflow.load_config(args.config, overrides_from_args(args))
        workflow.resolve_paths(cfg)
        run_dir = args.run_dir or workflow.default_run_dir(cfg.data.name)
        resume = False
    nproc = getattr(args, "nproc", 1)
    if nproc < 1:
        raise workflow.ConfigError(f"--nproc must be at least 1, got {nproc}")
    if nproc > 1 and not getattr(args, "as_rank", False):
        return _launch(args, cfg, run_dir, resume, nproc)
    if getattr(args, "as_rank", False):
        return _fit_rank(cfg, run_dir, resume, bool(args.overwrite), nproc)
    return _fit(cfg, run_dir, resume=resume, overwrite=bool(args.overwrite))


def _rank_argv(args: argparse.Namespace, run_dir: str, resume: bool, nproc: int) -> list[str]:
    """The `ember train` arguments each rank runs with: the same settings, the run folder named explicitly."""
    argv = ["train", "--as-rank", "--nproc", str(nproc)]
    if resume:
        argv += ["--resume", os.path.abspath(run_dir)]
        for attr in ("epochs", "threads"):
            if getattr(args, attr, None) is not None:
                argv += ["--" + attr, str(getattr(args, attr))]
        return argv
    if args.config is not None:
        argv.append(os.path.abspath(args.config))
    for attr in FLAG_KEYS:
        value = getattr(args, attr, None)
        if value is not None:
            argv += ["--" + attr.replace("_", "-"), str(value)]
    for attr in SWITCH_KEYS:
        if getattr(args, attr, None):
            argv.append("--" + attr.replace("_", "-"))
    for item in getattr(args, "set", None) or []:
        argv += ["--set", item]
    argv += ["--run-dir", os.path.abspath(run_dir)]
    if args.overwrite:
        argv.append("--overwrite")
    return argv


def _launch(args: argparse.Namespace, cfg, run_dir: str, resume: bool, nproc: int) -> int:
    """Start nproc ranks of this training through the distributed launcher (mpiexec); its exit status."""
    from ..distributed import _mpi
    from ..distributed.run import launch

    if not _mpi.available():
        raise workflow.ConfigError(
            f"--nproc {nproc} needs mpi4py and an MPI library, which the 'distributed' extra installs: "
            f"{_mpi.INSTALL_HINT} (or train on one process without --nproc)"
        )
    rd = workflow.RunDir(run_dir)
    if resume:
        if not rd.exists():
            raise workflow.ConfigError(f"cannot resume: {rd.not_a_run()}; start a new run with --run-dir instead")
    else:
        cfg.validate()
        rd.check_new(bool(args.overwrite))  # refused here, before any rank starts
    rc = launch(["-m", "ember", *_rank_argv(args, run_dir, resume, nproc)], nproc)
    if rc not in (0, 2) and rd.exists():
        print(f"training stopped; continue with: ember train --nproc {nproc} --resume {run_dir}", file=sys.stderr)
    return rc


def _fit_rank(cfg, run_dir: str, resume: bool, overwrite: bool, nproc: int) -> int:
    """One rank of `ember train --nproc N` (started by the launcher)."""
    from ..train.parallel import Ranks

    ranks = Ranks()
    if ranks.size != nproc:
        raise workflow.ConfigError(f"--nproc {nproc}, but this process is one of {ranks.size} ranks")
    return _fit(cfg, run_dir, resume=resume, overwrite=overwrite, ranks=ranks)


class _Terminated(KeyboardInterrupt):
    """SIGTERM (a `kill`, a scheduler's stop), handled as Ctrl-C is."""


def _terminate(signum, frame) -> None:
    raise _Terminated


def _fit(cfg, run_dir: str, resume: bool, overwrite: bool, ranks=None) -> int:
    """Run the training loop; Ctrl-C or SIGTERM leaves a resumable run and says how to continue it."""
    import signal
    import threading

    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if main_thread else None
    try:
        workflow.fit(cfg, run_dir, resume=resume, overwrite=overwrite, ranks=ranks)
    except KeyboardInterrupt as stop:
        if ranks is None:
            print(f"\ninterrupted; continue with: ember train --resume {run_dir}", file=sys.stderr)
        return 143 if isinstance(stop, _Terminated) else 130  # 128 + the signal's number, as shells report
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
    if ranks is None or ranks.writer:
        print(f"run folder: {run_dir}")
    return 0


# ------------------------------------------------------------------------------------------------- eval, predict, summary


def eval_command(args: argparse.Namespace) -> int:
    """Handler for `ember eval`: loss, accuracy and per-class accuracy on one split."""
    import numpy as np

    result = workflow.evaluate_run(args.run, split=args.split, checkpoint=args.checkpoint)
    n = len(result.y_true)
    if n == 0:
        print(f"{args.run}: the {args.split} split is empty")
        return 0
    correct = int(np.sum(result.y_true == result.y_pred))
    print(
        f"{args.run} ({args.checkpoint}) on {args.split}: accuracy {result.accuracy:.4f} ({correct}/{n}), "
        f"loss {result.loss:.4f}"
    )
    width = max(len("class"), *(len(name) for name in result.class_names))
    print(f"  {'class':<{width}}  {'n':>6}  {'accuracy':>8}")
    for k, name in enumerate(result.class_names):
        mask = result.y_true == k
        count = int(mask.sum())
        acc = f"{float(np.mean(result.y_pred[mask] == k)):.4f}" if count else "-"
        print(f"  {name:<{width}}  {count:>6}  {acc:>8}")
    return 0


def predict_command(args: argparse.Namespace) -> int:
    """Handler for `ember predict`: one line per example."""
    for prediction in workflow.predict_files(args.run, args.files, checkpoint=args.checkpoint, invert=args.invert):
        print(prediction.line())
    return 0


def summary_command(args: argparse.Namespace) -> int:
    """Handler for `ember summary`: the torchsummary-style table of a run's or a config's model."""
    from ..summary import summary_string

    target = args.target
    if os.path.isdir(target):
        rd = workflow.RunDir(target)
        cfg = rd.read_config()
        info = rd.read_data_info()
        features, classes = int(info["num_features"]), int(info["num_classes"])
    elif os.path.isfile(target):
        cfg = workflow.load_config(target)
        features, classes = workflow.data_dims(cfg)
    else:
        raise workflow.ConfigError(f"{target!r} is neither a run folder nor a config file")
    model = workflow.build_model(cfg, features, classes)
    text, _ = summary_string(model, (features,))
    print(f"{target}: {cfg.data.name}, {features} features -> {classes} classes")
    print(model)
    print(text, end="")
    return 0
