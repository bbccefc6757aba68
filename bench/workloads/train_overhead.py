"""The cost of `ember train`'s bookkeeping: an epoch of fit() over the same epoch as a bare loop (ratio).

784-200-200-10 ReLU MLP, SGD lr 0.01, batch 200, cross-entropy, on Fashion-MNIST's 60,000 training images when
the data set is installed (else the built-in digits). fit() runs with its defaults: progress output (to a
non-terminal: one line per epoch), metrics.jsonl step lines every 10 steps, per-step loss and accuracy sums,
last/best/epoch checkpoints at every epoch end, and the training doctor. There is no validation split on either
side: evaluating one is work a user asks for, not overhead. For torch, the same comparison is made against a
hand-written loop with the same bookkeeping (loss and accuracy sums, JSON lines, torch.save checkpoints).
"""

from __future__ import annotations

import io
import json
import os
import statistics
import sys
import tempfile
import time

import numpy as np
from _common import SEED, emit, load_library, parse_args

BATCH = 200
LR = 0.01
QUICK_LIMIT = 15_000


def config(quick: bool):
    """The run's config, and the data it loads (Fashion-MNIST if installed, else digits)."""
    from ember.train import ConfigError, load_config, load_data

    overrides = {
        "model.hidden": [200, 200],
        "train.optimizer": "sgd",
        "train.lr": LR,
        "train.batch_size": BATCH,
        "train.epochs": 1,
        "train.seed": SEED,
        "data.val_fraction": 0.0,
        "data.limit": QUICK_LIMIT if quick else 0,
    }
    for name in ("fashion-mnist", "digits"):
        cfg = load_config(None, {**overrides, "data.name": name})
        try:
            return cfg, load_data(cfg)
        except ConfigError:
            continue
    raise RuntimeError("no data set could be loaded")


class Clock:
    """Wall and CPU seconds of a stretch of code; CPU time is far less noisy on a shared machine."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def bare_epoch(lib, model, optimizer, loss_fn, x: np.ndarray, y: np.ndarray, epoch: int) -> Clock:
    """One epoch as the shortest correct loop writes it (same shuffle and batches as fit)."""
    with Clock() as clock:
        order = np.random.Generator(np.random.PCG64([SEED, epoch])).permutation(len(y))
        for k in range(0, len(y), BATCH):
            idx = order[k : k + BATCH]
            optimizer.zero_grad()
            loss = loss_fn(model(lib.from_numpy(x[idx])), lib.from_numpy(y[idx]))
            loss.backward()
            optimizer.step()
    return clock


def kept_epoch(lib, model, optimizer, loss_fn, x, y, epoch: int, folder: str, log) -> Clock:
    """One epoch of a torch loop with fit()'s bookkeeping, written by hand."""
    with Clock() as clock:
        order = np.random.Generator(np.random.PCG64([SEED, epoch])).permutation(len(y))
        loss_sum, correct, count, steps = 0.0, 0, 0, 0
        for k in range(0, len(y), BATCH):
            idx = order[k : k + BATCH]
            yb = y[idx]
            optimizer.zero_grad()
            out = model(lib.from_numpy(x[idx]))
            loss = loss_fn(out, lib.from_numpy(yb))
            loss.backward()
            optimizer.step()
            value = loss.item()
            loss_sum += value * len(idx)
            correct += int(np.count_nonzero(out.detach().numpy().argmax(axis=1) == yb))
            count += len(idx)
            steps += 1
            if steps % 10 == 0:
                log.write(json.dumps({"kind": "step", "epoch": epoch, "step": steps, "loss": value}) + "\n")
                log.flush()
        record = {"kind": "epoch", "epoch": epoch, "loss": loss_sum / count, "acc": correct / count}
        log.write(json.dumps(record) + "\n")
        log.flush()
        state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "rng": lib.get_rng_state()}
        for name in ("best.pt", f"epoch-{epoch:04d}.pt", "last.pt"):
            lib.save(state, os.path.join(folder, name))
    return clock


def main() -> None:
    args = parse_args(__doc__)
    lib = load_library(args.library)
    cfg, data = config(args.quick)
    x, y = data.x_train, data.y_train
    rounds = 3 if args.quick else 7
    bare, kept = [], []

    # Bare and bookkept epochs alternate, so drifting machine load hits both alike.
    if args.library == "ember":
        import ember.train.data
        from ember.train import trainer
        from ember.train.model import build_loss, build_model, build_optimizer

        ember.train.data.load_data = lambda _cfg: data  # fit() would reload the files each round; not measured
        run_epoch = trainer._Trainer._run_epoch

        def timed_epoch(self) -> None:  # the whole epoch: steps, bookkeeping and the epoch-end checkpoints
            with Clock() as clock:
                run_epoch(self)
            kept.append(clock)

        trainer._Trainer._run_epoch = timed_epoch
        model = build_model(cfg, data.num_features, data.num_classes)
        optimizer, loss_fn = build_optimizer(cfg, model), build_loss(cfg)
        bare_epoch(lib, model, optimizer, loss_fn, x, y, 0)  # warm-up
        with tempfile.TemporaryDirectory() as tmp:
            for r in range(rounds):
                bare.append(bare_epoch(lib, model, optimizer, loss_fn, x, y, r + 1))
                trainer.fit(cfg, os.path.join(tmp, f"run{r}"), out=io.StringIO())
    else:
        nn = lib.nn
        model = nn.Sequential(
            nn.Linear(data.num_features, 200),
            nn.ReLU(),
            nn.Linear(200, 200),
            nn.ReLU(),
            nn.Linear(200, data.num_classes),
        )
        optimizer, loss_fn = lib.optim.SGD(model.parameters(), lr=LR), nn.CrossEntropyLoss()
        bare_epoch(lib, model, optimizer, loss_fn, x, y, 0)
        with tempfile.TemporaryDirectory() as tmp, open(os.path.join(tmp, "metrics.jsonl"), "w") as log:
            for r in range(rounds):
                bare.append(bare_epoch(lib, model, optimizer, loss_fn, x, y, r + 1))
                kept.append(kept_epoch(lib, model, optimizer, loss_fn, x, y, r + 1, tmp, log))

    # The median of per-round ratios: each pair ran back to back, so it is the least exposed to drifting load.
    wall = statistics.median(k.wall / b.wall for k, b in zip(kept, bare))
    cpu = statistics.median(k.cpu / b.cpu for k, b in zip(kept, bare))
    print(f"bare epochs (wall s) {[round(b.wall, 3) for b in bare]}", file=sys.stderr)
    print(f"bookkept epochs (wall s) {[round(k.wall, 3) for k in kept]}", file=sys.stderr)
    emit(
        overhead_ratio=wall,
        overhead_pct=100 * (wall - 1),
        overhead_ratio_cpu=cpu,
        overhead_pct_cpu=100 * (cpu - 1),
        train_s_per_epoch=statistics.median(k.wall for k in kept),
        bare_s_per_epoch=statistics.median(b.wall for b in bare),
        examples=len(y),
        fashion_mnist=data.name == "fashion-mnist",
    )


if __name__ == "__main__":
    main()
