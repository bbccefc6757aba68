"""The training loop behind `ember train`: epochs over in-memory arrays, logs, checkpoints and exact resume.

The update and the epoch bookkeeping are here; logging of step lines, early stopping, the doctor and the
progress display are extensions (ember/train/extensions.py) that the loop calls after each step and epoch.

Exact resume: everything that influences the numbers is either derived (the per-epoch shuffle comes from
PCG64([seed, epoch])) or saved in the checkpoint (weights, optimizer, scheduler, ember's global generator that
dropout draws from, the position in the epoch, the partial sums of the epoch, each extension's state under its
name, and the byte sizes of the log files, which are truncated back on resume). A run killed at any moment and resumed
therefore ends with the same weights and the same metrics.jsonl bytes as a run that was never interrupted.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sys
import time
from typing import Any, TextIO

import numpy as np

from .._atomic import write_text_atomic
from .._jsonl import parse_jsonl
from .checkpoint import CheckpointError, find_resume_checkpoint, prune_epoch_checkpoints
from .checkpoint import save_checkpoint as _save_checkpoint
from .config import ConfigError, RunConfig, to_toml
from .evaluate import evaluate_arrays
from .extensions import DoctorWatch, EarlyStopping, Extension, ProgressDisplay, StepLog, finite, legacy_states
from .progress import Progress
from .run_dir import RunDir, read_jsonl, write_json_atomic

# Test hook: the name of a point in the loop (see _Trainer._crash) at which the process kills itself with SIGKILL,
# so crash recovery can be tested at exact places.
CRASH_ENV = "EMBER_TRAIN_CRASH_AT"


class TrainingDiverged(RuntimeError):
    """The loss or the weights stopped being finite numbers; the message says where and what to change."""


@dataclasses.dataclass
class FitResult:
    """What fit() did: where the run lives, how far it got, and its final numbers."""

    run_dir: str
    epochs_run: int  # completed epochs, counting those of earlier (interrupted) processes
    metrics: dict[str, Any]  # the last epoch's train/val numbers plus test_loss and test_acc
    best_epoch: int | None
    stopped_early: bool


@dataclasses.dataclass
class _State:
    """The loop's own bookkeeping (the extensions keep theirs), all of it saved in checkpoints."""

    epoch: int = 0  # completed epochs
    step_in_epoch: int = 0  # optimizer steps done in the epoch in progress
    global_step: int = 0
    loss_sum: float = 0.0  # of the epoch in progress: sum of batch loss x batch size
    correct: int = 0
    count: int = 0
    finished: bool = False


def fit(
    cfg: RunConfig | None,
    run_dir: str,
    resume: bool = False,
    overwrite: bool = False,
    out: TextIO | None = None,
    ranks: Any = None,
) -> FitResult:
    """Train the model cfg describes, writing logs, checkpoints and model.pt into run_dir.

    With resume=True the run in run_dir continues exactly where its last checkpoint left it (cfg may then be
    None to use the run's own config.toml; a different cfg is refused). A non-empty run_dir is refused unless
    overwrite or resume.

    With ranks (a parallel.Ranks), this process is one rank of a data-parallel run (`ember train --nproc N`):
    rank 0 writes the run folder and prints, the others only train.
    """
    rd = RunDir(run_dir)
    writer = ranks is None or ranks.writer
    progress_out = (sys.stdout if out is None else out) if writer else open(os.devnull, "w")  # noqa: SIM115
    if resume:
        if not rd.exists():
            raise ConfigError(f"cannot resume: {rd.not_a_run()}; start a new run with --run-dir instead")
        saved = rd.read_config()
        if cfg is not None:
            _check_same_config(cfg, saved, rd)
            saved.train.epochs = cfg.train.epochs  # the settings a resumed run may change
            saved.train.threads = cfg.train.threads
        cfg = saved
    else:
        if cfg is None:
            raise ConfigError("fit() needs a config for a new run (cfg=None is only allowed with resume=True)")
        cfg.validate()
        if writer:
            rd.check_new(overwrite)

    from .data import load_data

    data = load_data(cfg)
    if writer:
        if not resume:
            rd.create(overwrite)
            write_text_atomic(rd.config, to_toml(cfg))
        else:
            rd.remove_stale_temporaries()  # writes an earlier process was killed in the middle of
        os.makedirs(rd.checkpoints, exist_ok=True)
        info = data_info(data)
        if resume and os.path.isfile(rd.data_json):
            _check_same_data(info, rd)
        else:
            write_json_atomic(rd.data_json, info)
    from .. import get_num_threads, set_num_threads

    threads_before = get_num_threads()
    trainer = _Trainer(cfg, rd, data, progress_out, ranks)
    try:
        return trainer.run(resume)
    finally:
        trainer.close()
        set_num_threads(threads_before)
        if not writer:
            progress_out.close()


def data_info(data) -> dict[str, Any]:
    """The data.json record of a DataBundle: what eval, predict and report need without reloading the data."""
    return {
        "name": data.name,
        "num_features": int(data.num_features),
        "num_classes": int(data.num_classes),
        "class_names": list(data.class_names),
        "image_shape": list(data.image_shape) if data.image_shape is not None else None,
        "mean": [float(v) for v in np.ravel(data.mean)],
        "std": [float(v) for v in np.ravel(data.std)],
        "sizes": {k: int(v) for k, v in data.sizes().items()},
    }


def _check_same_config(cfg: RunConfig, saved: RunConfig, rd: RunDir) -> None:
    """Refuse to resume with settings other than the run's own (train.epochs aside): the result would match neither."""
    new, old = cfg.to_dict(), saved.to_dict()
    diffs = [
        f"{section}.{key} = {old[section][key]!r} (asked for {new[section][key]!r})"
        for section in old
        for key in old[section]
        if new[section][key] != old[section][key] and f"{section}.{key}" not in ("train.epochs", "train.threads")
    ]
    if diffs:
        raise ConfigError(
            f"cannot resume {rd.path!r} with different settings: it was started with {'; '.join(diffs)}; "
            "resume without overrides (only train.epochs and train.threads may change), or start a new run"
        )


def _check_same_data(info: dict[str, Any], rd: RunDir) -> None:
    """Refuse to resume on data other than the run's own (say, an edited CSV file): batches would not line up."""
    saved = rd.read_data_info()
    changed = [
        key
        for key in ("num_features", "num_classes", "class_names", "sizes", "mean", "std")
        if saved.get(key) != info[key]
    ]
    if changed:
        raise ConfigError(
            f"cannot resume {rd.path!r}: the data changed since the run started ({', '.join(changed)} differ from "
            "data.json); start a new run"
        )


class _Trainer:
    """One fit() call: builds everything from the config and runs (or continues) the loop."""

    def __init__(self, cfg: RunConfig, rd: RunDir, data, out: TextIO, ranks: Any = None) -> None:
        from .. import manual_seed
        from .model import build_loss, build_model, build_optimizer, build_scheduler

        self.cfg, self.rd, self.data = cfg, rd, data
        self.ranks = ranks
        self.writer = ranks is None or ranks.writer
        t = cfg.train
        manual_seed(t.seed)
        self.model = build_model(cfg, data.num_features, data.num_classes)
        self.net = self.model  # what the training step calls: the model, or its DistributedDataParallel wrapper
        if ranks is not None:
            from ..nn.parallel import DistributedDataParallel
            from .parallel import rank_seed

            self.net = DistributedDataParallel(self.model)
            manual_seed(rank_seed(t.seed, ranks.rank))  # each rank its own dropout stream
        self.loss_fn = build_loss(cfg)
        self.optimizer = build_optimizer(cfg, self.model)
        self.scheduler = build_scheduler(cfg, self.optimizer)
        self.state = _State()
        self.n_train = len(data.y_train)
        self.steps_per_epoch = -(-self.n_train // t.batch_size)  # the last, partial batch is kept
        self.progress = Progress(out, t.epochs, self.n_train)
        self.early = EarlyStopping(t.patience, validation=len(data.y_val) > 0)
        self.doctor = _make_doctor(cfg, self.model) if self.writer else None  # the doctor only watches
        self._epoch_timing = (0.0, 0.0)
        # Called in this order after each step and each epoch; each keeps its state in checkpoints by name.
        self.extensions: list[Extension] = [
            *([self.doctor] if self.doctor is not None else []),
            StepLog(t.log_every),
            self.early,
            ProgressDisplay(self.progress, lambda: self._epoch_timing),
        ]
        self._metrics_file = None
        self._timing_file = None
        self._crash_at = os.environ.get(CRASH_ENV) or None
        if self._crash_at and ranks is not None and "@" in self._crash_at:
            point, _, rank = self._crash_at.rpartition("@")
            self._crash_at = point if int(rank) == ranks.rank else None
        self._before_test: tuple[int, int] | None = None
        self.threads = 0  # set by _choose_threads when the run starts

    # ------------------------------------------------------------------ files
    def _open_logs(self, metrics_bytes: int, timing_bytes: int) -> None:
        """Cut the logs back to what the checkpoint had seen, then append from there."""
        for path, size in ((self.rd.metrics, metrics_bytes), (self.rd.timing, timing_bytes)):
            current = os.path.getsize(path) if os.path.exists(path) else 0
            if path == self.rd.metrics:
                self._check_metrics_prefix(size, current)
            with open(path, "ab") as f:
                f.truncate(min(size, current))  # timing.jsonl is not synced to disk: it may have lost its end
        self._metrics_file = open(self.rd.metrics, "ab")
        self._timing_file = open(self.rd.timing, "ab")

    def _check_metrics_prefix(self, size: int, current: int) -> None:
        """Refuse to resume unless the first `size` bytes of metrics.jsonl (what the checkpoint saw) are whole,
        readable lines: cutting the file there must not join two records or keep a damaged one."""
        path = self.rd.metrics
        problem = None
        if current < size:
            problem = f"has {current} bytes but the checkpoint was written when it had {size}"
        elif size:
            with open(path, "rb") as f:
                head = f.read(size)
            try:
                if not head.endswith(b"\n"):
                    raise ValueError("the checkpoint's position is not at the end of a line")
                parse_jsonl(head.decode("utf-8"), path, ValueError)
            except ValueError as e:
                problem = f"no longer holds what the checkpoint saw ({e})"
        if problem:
            raise ConfigError(
                f"cannot resume: {path} {problem}; the file was modified, so the run cannot continue exactly "
                "(start a new run)"
            )

    def log(self, record: dict[str, Any]) -> None:
        """Append one line to metrics.jsonl (extensions log through this too)."""
        if not self.writer:
            return
        self._metrics_file.write((json.dumps(record) + "\n").encode())
        self._metrics_file.flush()  # readers (the dashboard) follow the file live

    def _log_timing(self, record: dict[str, Any]) -> None:
        if not self.writer:
            return
        self._timing_file.write((json.dumps(record) + "\n").encode())
        self._timing_file.flush()

    def close(self) -> None:
        """Close the log files and the extensions (the progress bar, the doctor's hooks)."""
        for ext in self.extensions:
            ext.close()
        for f in (self._metrics_file, self._timing_file):
            if f is not None:
                f.close()
        if self.ranks is not None:
            self.ranks.close()

    # ------------------------------------------------------------------ what extensions see (extensions.Loop)
    @property
    def epoch(self) -> int:
        return self.state.epoch

    @property
    def global_step(self) -> int:
        return self.state.global_step

    def message(self, text: str) -> None:
        """Print a line for the user."""
        self.progress.message(text)

    def learning_rate(self) -> float:
        """The first parameter group's current learning rate."""
        return float(self.optimizer.param_groups[0]["lr"])

    def epoch_sums(self) -> tuple[int, float, int]:
        """(samples, loss sum, correct) of the epoch in progress."""
        s = self.state
        return s.count, s.loss_sum, s.correct

    def _crash(self, point: str) -> None:
        """Die like a killed process at a named point when the test hook asks for it."""
        if self._crash_at == point:
            os.kill(os.getpid(), signal.SIGKILL)

    # ------------------------------------------------------------------ checkpoints
    def _save(self, paths: str | list[str]) -> None:
        """Write a checkpoint (on rank 0 of a data-parallel run, holding every rank's random stream)."""
        from .. import get_rng_state

        if self.ranks is None:
            _save_checkpoint(paths, self._checkpoint_state())
            return
        streams = self.ranks.gather(get_rng_state())
        if self.writer:
            _save_checkpoint(paths, {**self._checkpoint_state(), "world_size": self.ranks.size, "rank_rng": streams})

    def _checkpoint_state(self) -> dict[str, Any]:
        from .. import get_rng_state

        s = self.state
        os.fsync(self._metrics_file.fileno())  # the size recorded below must be on disk before the checkpoint is
        return {
            "epoch": s.epoch,
            "step_in_epoch": s.step_in_epoch,
            "global_step": s.global_step,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "rng": get_rng_state(),
            "threads": self.threads,
            "metrics_bytes": self._metrics_file.tell(),
            "timing_bytes": self._timing_file.tell(),
            "epoch_sums": {"loss_sum": s.loss_sum, "correct": s.correct, "count": s.count},
            "finished": s.finished,
            "extensions": {ext.name: state for ext in self.extensions if (state := ext.state_dict()) is not None},
            # set in the final checkpoint only: where the logs stood before the test line, for runs given more epochs
            "metrics_bytes_before_test": self._before_test[0] if self._before_test else None,
            "timing_bytes_before_test": self._before_test[1] if self._before_test else None,
        }

    def _restore(self, ckpt: dict[str, Any], path: str) -> None:
        from .. import set_rng_state
        from .model import load_weights

        states = self._extension_states(ckpt, path)  # checked before anything is changed
        load_weights(self.model, ckpt["model"], path)
        self.optimizer.load_state_dict(ckpt["optimizer"])
        if self.scheduler is not None and ckpt["scheduler"] is not None:
            self.scheduler.load_state_dict(ckpt["scheduler"])
        set_rng_state(ckpt["rng"])
        if self.ranks is not None:
            self._restore_rank_stream(ckpt)
        for ext in self.extensions:
            if ext.name in states:
                ext.load_state_dict(states[ext.name])
        sums = ckpt["epoch_sums"]
        self.state = _State(
            epoch=int(ckpt["epoch"]),
            step_in_epoch=int(ckpt["step_in_epoch"]),
            global_step=int(ckpt["global_step"]),
            loss_sum=float(sums["loss_sum"]),
            correct=int(sums["correct"]),
            count=int(sums["count"]),
            finished=bool(ckpt["finished"]),
        )

    def _restore_rank_stream(self, ckpt: dict[str, Any]) -> None:
        """Give this rank its own random stream back (a run checkpointed with another rank count: a fresh one)."""
        from .. import manual_seed, set_rng_state
        from .parallel import rank_seed

        streams = ckpt.get("rank_rng")
        if streams is not None and len(streams) == self.ranks.size:
            set_rng_state(streams[self.ranks.rank])
            return
        if self.ranks.rank > 0:
            manual_seed(rank_seed(self.cfg.train.seed + int(ckpt["global_step"]), self.ranks.rank))
        before = int(ckpt.get("world_size", 1))
        self.progress.message(
            f"note: this run trained on {before} process(es) so far and continues on {self.ranks.size}; the "
            "result matches neither an uninterrupted run on one count nor on the other exactly"
        )

    def _extension_states(self, ckpt: dict[str, Any], path: str) -> dict[str, Any]:
        """The extensions' states in ckpt (either layout); a missing entry is a one-line CheckpointError."""
        entries = ("model", "optimizer", "scheduler", "rng", "epoch", "step_in_epoch", "global_step", "epoch_sums")
        missing = [k for k in (*entries, "finished") if k not in ckpt]
        try:
            states = ckpt["extensions"] if "extensions" in ckpt else legacy_states(ckpt)
        except KeyError as e:
            missing.append(str(e.args[0]))
            states = {}
        missing += [
            f"extensions/{ext.name}"
            for ext in self.extensions
            if ext.state_dict() is not None and ext.name not in states
        ]
        if missing:
            raise CheckpointError(f"checkpoint {path} has no {missing[0]!r} entry; it was not written by ember train")
        rng = ckpt["rng"]
        if not hasattr(rng, "numel") or rng.numel() != 5056:
            # before its random streams became torch's, ember stored its generator in another form
            raise CheckpointError(
                f"checkpoint {path} holds a random-generator state of another format (written by an earlier ember "
                "whose random streams differ); it cannot be resumed exactly: start a new run"
            )
        return states

    def _resume_point(self) -> dict[str, Any] | None:
        """Load the newest usable checkpoint (reporting skipped ones) and return it; None if there is none yet."""
        if self.writer:
            self.rd.remove_stale_temporaries()
            path, ckpt, notes = find_resume_checkpoint(self.rd.checkpoints)
        if self.ranks is not None:  # every rank continues from the checkpoint rank 0 chose
            path = self.ranks.from_writer(path if self.writer else None)
            if not self.writer:
                from .checkpoint import load_checkpoint

                ckpt, notes = (load_checkpoint(path) if path is not None else None), []
        for note in notes:
            self.progress.message(f"warning: {note}")
        if ckpt is None:
            self.progress.message(
                f"resuming {self.rd.path}: no checkpoint was written yet; starting from the beginning"
            )
            return None
        if path != self.rd.last:
            self.progress.message(f"resuming from {path} instead of {self.rd.last}")
        self._restore(ckpt, path)
        s = self.state
        if not s.finished:
            where = f"epoch {s.epoch + 1}, step {s.step_in_epoch}/{self.steps_per_epoch}"
            if s.epoch >= self.cfg.train.epochs or self.early.stopped:
                where = "the final evaluation"
            self.progress.message(f"resuming {self.rd.path} at {where} (global step {s.global_step})")
        return ckpt

    def _choose_threads(self, ckpt: dict[str, Any] | None) -> None:
        """Set the BLAS thread count for this run: --threads, else the count the run started with (so a resumed
        run makes the same products), else as many as the machine's load leaves free."""
        from .. import _blas, set_num_threads

        limit = _blas.num_threads()
        asked = self.cfg.train.threads
        recorded = ckpt.get("threads") if ckpt else None
        if asked:
            self.threads = asked
            if recorded and recorded != asked:
                self.progress.message(
                    f"note: this run used {recorded} BLAS thread(s) so far and continues on {asked}; some products "
                    "may round differently than in an uninterrupted run"
                )
        elif recorded:
            self.threads = int(recorded)
        else:
            self.threads, why = _blas.threads_for_load(limit)
            if self.threads < limit:
                self.progress.message(
                    f"the machine is busy ({why}): using {self.threads} BLAS thread(s) of {limit}, since waiting "
                    "threads slow every product down (--threads N to choose)"
                )
        set_num_threads(self.threads)

    # ------------------------------------------------------------------ the loop
    def run(self, resume: bool) -> FitResult:
        """Train (or continue training) to the end, evaluate on the test split and save model.pt."""
        ckpt = self._resume_point() if resume else None
        self._choose_threads(ckpt)
        metrics_bytes, timing_bytes = (int(ckpt["metrics_bytes"]), int(ckpt["timing_bytes"])) if ckpt else (0, 0)
        s, epochs = self.state, self.cfg.train.epochs
        if s.epoch > epochs:
            raise ConfigError(
                f"cannot resume {self.rd.path!r} with train.epochs = {epochs}: it has already trained {s.epoch} epochs"
            )
        if s.finished and s.epoch < epochs and not self.early.stopped:
            # More epochs for a finished run: continue from its last epoch's end, before the test line.
            metrics_bytes, timing_bytes = int(ckpt["metrics_bytes_before_test"]), int(ckpt["timing_bytes_before_test"])
            s.finished = False
            self.progress.message(f"continuing {self.rd.path} from epoch {s.epoch} to epoch {epochs}")
        if self.state.finished:
            how = "stopped early" if self.early.stopped else "finished"
            self.progress.message(f"run {self.rd.path} already {how} after {self.state.epoch} epochs; nothing to do")
            result = self._result_from_logs()
            self._print_table(result.metrics)
            return result
        if self.writer:
            self._open_logs(metrics_bytes, timing_bytes)  # refuses damaged logs before anything is changed
        if self.ranks is not None:
            self.ranks.barrier()  # every rank has read the checkpoint before rank 0 writes the next one
        if self.writer and resume and self.rd.read_config().train.epochs != epochs:
            write_text_atomic(self.rd.config, to_toml(self.cfg))
        if not resume or self.state.global_step == 0:
            sizes = self.data.sizes()
            where = f" ({self.data.source})" if self.data.source else ""
            self.progress.message(
                f"training on {self.data.name}{where}: {sizes['train']:,} train / {sizes['val']:,} validation / "
                f"{sizes['test']:,} test examples, {self.data.num_features} features, {self.data.num_classes} "
                f"classes; run folder {self.rd.path}"
            )
        t = self.cfg.train
        if resume:
            self._refuse_diverged(None)  # a run that diverged before stays stopped
        while self.state.epoch < t.epochs and not self.early.stopped:
            self._run_epoch()
            self._refuse_diverged(self._epoch_train_loss)
        return self._finish()

    def _refuse_diverged(self, train_loss) -> None:
        """Stop with TrainingDiverged when the last epoch's training loss or any weight is not finite: the
        checkpoints stay as they are, and model.pt is never written with such weights."""
        bad = sum(int(np.count_nonzero(~np.isfinite(p.detach().numpy()))) for p in self.model.parameters())
        lossy = train_loss is not None and not np.isfinite(train_loss)
        if not bad and not lossy:
            return
        total = sum(p.numel() for p in self.model.parameters())
        what = [f"the training loss is {train_loss}"] if lossy else []
        if bad:
            what.append(f"{bad:,} of {total:,} weights are not finite")
        if self.doctor is not None:
            self.doctor.report(self)
        lr = float(self.optimizer.param_groups[0]["lr"])
        raise TrainingDiverged(
            f"training diverged by the end of epoch {self.state.epoch}: {' and '.join(what)}; model.pt was not "
            f"written (the checkpoints in {self.rd.checkpoints} are kept). Try a lower learning rate "
            f"(train.lr is {lr:g})"
        )

    def _run_epoch(self) -> None:
        from .. import from_numpy

        s, t = self.state, self.cfg.train
        epoch = s.epoch + 1
        start = time.perf_counter()
        first_step, count_before = s.step_in_epoch, s.count
        batch = t.batch_size
        order = np.random.Generator(np.random.PCG64([t.seed & 0xFFFFFFFFFFFFFFFF, epoch])).permutation(self.n_train)
        x, y = self.data.x_train, self.data.y_train
        model, optimizer, loss_fn, extensions = self.net, self.optimizer, self.loss_fn, self.extensions
        model.train()
        for ext in extensions:
            ext.start_epoch(self, epoch, min(first_step * batch, self.n_train))
        for k in range(first_step, self.steps_per_epoch):
            idx = order[k * batch : (k + 1) * batch]
            if self.ranks is not None:
                loss, value = self._parallel_step(x, y, idx)
            else:
                yb_np = y[idx]
                optimizer.zero_grad()
                outputs = model(from_numpy(x[idx]))
                loss = loss_fn(outputs, from_numpy(yb_np))
                loss.backward()
                optimizer.step()
                value = loss.item()
                s.correct += int(np.count_nonzero(outputs.detach().numpy().argmax(axis=1) == yb_np))
            n = len(idx)
            s.global_step += 1
            s.step_in_epoch = k + 1
            s.loss_sum += value * n
            s.count += n
            for ext in extensions:  # the doctor first: its update-size check must see this step's update
                ext.after_step(self, loss, value, optimizer)
            if t.checkpoint_every and s.global_step % t.checkpoint_every == 0 and k + 1 < self.steps_per_epoch:
                self._save(self.rd.last)
                self._crash(f"saved:{s.global_step}")
            if self._crash_at is not None:
                self._crash(f"step:{s.global_step}")
        self._end_epoch(epoch, start, s.count - count_before)

    def _parallel_step(self, x: np.ndarray, y: np.ndarray, idx: np.ndarray) -> tuple[Any, float]:
        """One data-parallel step on this rank's shard of the global batch idx: (the shard's loss, the global
        batch's mean loss); the batch's correct predictions are added to the epoch sums."""
        from .. import from_numpy

        mine = self.ranks.shard(idx)
        yb_np = y[mine]
        self.optimizer.zero_grad()
        outputs = self.net(from_numpy(x[mine]))
        if len(mine):
            loss = self.loss_fn(outputs, from_numpy(yb_np))
            scale = self.ranks.size * len(mine) / len(idx)  # makes the ranks' average the global batch's mean
            (loss * scale if scale != 1.0 else loss).backward()
            local = [loss.item() * len(mine), float(np.count_nonzero(outputs.detach().numpy().argmax(axis=1) == yb_np))]
        else:  # a last batch smaller than the rank count: this rank adds zero gradients
            loss = outputs.sum() * 0.0
            loss.backward()
            local = [0.0, 0.0]
        self.optimizer.step()
        loss_sum, correct = self.ranks.sums(local)
        self.state.correct += int(correct)
        return loss, float(loss_sum / len(idx))

    def _end_epoch(self, epoch: int, start: float, samples_here: int) -> None:
        s, t = self.state, self.cfg.train
        train_loss = s.loss_sum / s.count if s.count else None
        self._epoch_train_loss = train_loss
        train_acc = s.correct / s.count if s.count else None
        val_loss, val_acc = None, None
        if self.writer:
            val_loss, val_acc, _ = evaluate_arrays(self.model, self.loss_fn, self.data.x_val, self.data.y_val)
        if self.ranks is not None:  # rank 0 evaluates; every rank's early stopping follows its numbers
            val_loss, val_acc = self.ranks.from_writer((val_loss, val_acc))
        lr = float(self.optimizer.param_groups[0]["lr"])  # the rate this epoch trained with
        record = {
            "kind": "epoch",
            "epoch": epoch,
            "step": s.global_step,
            "train_loss": finite(train_loss),
            "train_acc": train_acc,
            "val_loss": finite(val_loss),
            "val_acc": val_acc,
            "lr": lr,
        }
        self.log(record)
        seconds = time.perf_counter() - start
        samples_per_s = samples_here / seconds if seconds > 0 else 0.0
        self._epoch_timing = (seconds, samples_per_s)
        # The doctor logs its new findings, early stopping follows the validation loss (the training loss
        # without a validation split) and decides best.pt, the progress display ends the epoch's line.
        for ext in self.extensions:
            ext.after_epoch(self, record)
        if self.scheduler is not None:
            self.scheduler.step()
        s.epoch, s.step_in_epoch = epoch, 0
        s.loss_sum, s.correct, s.count = 0.0, 0, 0
        self._crash(f"epoch:{epoch}")

        self._log_timing({"epoch": epoch, "seconds": round(seconds, 4), "samples_per_s": round(samples_per_s, 1)})
        paths = ([self.rd.best] if self.early.improved else []) + ([self.rd.epoch_checkpoint(epoch)] if t.keep else [])
        self._save(paths + [self.rd.last])  # last.pt last: see save_checkpoint
        if t.keep and self.writer:
            prune_epoch_checkpoints(self.rd.checkpoints, t.keep)
        self._crash(f"saved:{s.global_step}")
        if self.early.stopped:
            self.progress.message(self.early.stop_message())

    def _finish(self) -> FitResult:
        """The test evaluation, model.pt, doctor.json, and a last checkpoint that marks the run finished."""
        from ..serialization import save

        s = self.state
        if not self.writer:  # the other ranks only hand rank 0 their random streams for its last checkpoint
            s.finished = True
            self._save(self.rd.last)
            return FitResult(self.rd.path, s.epoch, {}, self.early.best_epoch, self.early.stopped)
        self._before_test = (self._metrics_file.tell(), self._timing_file.tell())
        final, kept = self.model, None
        if self.cfg.train.patience and self.early.best_epoch not in (None, s.epoch) and os.path.isfile(self.rd.best):
            # early stopping keeps the best epoch's weights as the result; the trainer's own state (last.pt) stays
            # at the last epoch, so resuming or continuing the run is unchanged
            final, kept = self._best_model(), self.early.best_epoch
        test_loss, test_acc, _ = evaluate_arrays(final, self.loss_fn, self.data.x_test, self.data.y_test)
        self.log(
            {
                "kind": "test",
                "epoch": s.epoch,
                "step": s.global_step,
                "test_loss": finite(test_loss),
                "test_acc": test_acc,
            }
        )
        self._crash("test")
        save(final.state_dict(), self.rd.model)
        for ext in self.extensions:
            ext.after_training(self, self.rd)  # the doctor writes doctor.json
        self._crash("model")
        s.finished = True
        self._save(self.rd.last)
        result = self._result_from_logs()
        shown = result.metrics
        if kept is not None:  # the table describes the weights in model.pt: the kept epoch's numbers
            line = next((r for r in self.rd.read_metrics("epoch") if r.get("epoch") == kept), {})
            shown = {**shown, **{k: line[k] for k in ("train_loss", "train_acc", "val_loss", "val_acc") if k in line}}
        self._print_table(shown)
        if self.doctor is not None:
            self.doctor.report(self)
        if kept is not None:
            what = "validation" if self.early.validation else "training"
            self.progress.message(
                f"saved {self.rd.model}: the weights of epoch {kept}, the best {what} loss "
                f"({self.early.best_loss:.4f}); the last epoch's are in {self.rd.last}"
            )
        else:
            self.progress.message(f"saved {self.rd.model}")
        return result

    def _best_model(self):
        """A copy of the model holding the weights of best.pt."""
        import copy

        from .checkpoint import load_checkpoint
        from .model import load_weights

        model = copy.deepcopy(self.model)
        model._forward_hooks.clear()  # the doctor watches the training model only
        load_weights(model, load_checkpoint(self.rd.best)["model"], self.rd.best)
        return model

    def _print_table(self, final: dict[str, Any]) -> None:
        rows = [("train", final.get("train_loss"), final.get("train_acc"))]
        if len(self.data.y_val):
            rows.append(("validation", final.get("val_loss"), final.get("val_acc")))
        rows.append(("test", final.get("test_loss"), final.get("test_acc")))
        self.progress.table(rows)

    def _result_from_logs(self) -> FitResult:
        return result_from_metrics(self.rd, self.state.epoch, self.early.best_epoch, self.early.stopped)


def result_from_metrics(rd: RunDir, epochs_run: int, best_epoch: int | None, stopped_early: bool) -> FitResult:
    """A FitResult whose metrics are the last epoch line plus the test line of the run's metrics.jsonl."""
    final: dict[str, Any] = {}
    for record in read_jsonl(rd.metrics):
        if record.get("kind") in ("epoch", "test"):
            final.update({k: v for k, v in record.items() if k != "kind"})
    return FitResult(rd.path, epochs_run, final, best_epoch, stopped_early)


def _make_doctor(cfg: RunConfig, model) -> DoctorWatch | None:
    """The training doctor watching model, as an extension; None when cfg.train.doctor is off."""
    if not cfg.train.doctor:
        return None
    from ..doctor import Doctor

    return DoctorWatch(Doctor(model, every=cfg.train.doctor_every))


__all__ = ["fit", "FitResult", "data_info", "result_from_metrics"]
