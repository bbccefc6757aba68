"""Seconds per epoch of workload (1)'s SGD epoch trained data-parallel on 1 and 2 ranks through the launcher.

The same 784-200-200-10 MLP, SGD lr 0.01 and global batch 200 as sgd_epoch.py, wrapped in
DistributedDataParallel; each rank takes rows r::N of every batch. Besides seconds per epoch it reports the
time per step spent finishing backward in DDP (waiting for the gradient allreduces and averaging them), on
rank 0. Each rank count runs in a launcher of its own (`python -m ember.distributed.run`); two ranks use
one BLAS thread each, as the launcher sets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from _common import N_IMAGES, emit, image_data, load_library, mlp

WARMUP_BATCHES = 10
BATCH = 200
RANK_FLAG = "--as-rank"


def rank_main(quick: bool) -> None:
    """One rank: train the epoch's batches on this rank's shards and print rank 0's timings as JSON."""
    lib = load_library("ember")
    dist = lib.distributed
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    fraction = 0.25 if quick else 1.0
    x_np, y_np = image_data(int(N_IMAGES * fraction))
    x, y = lib.from_numpy(x_np), lib.from_numpy(y_np)
    model = lib.nn.parallel.DistributedDataParallel(mlp(lib))
    waited = [0.0]
    finish = model._finish_backward

    def timed_finish() -> None:
        start = time.perf_counter()
        finish()
        waited[0] += time.perf_counter() - start

    model._finish_backward = timed_finish
    opt = lib.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = lib.nn.CrossEntropyLoss()

    def steps(first: int, count: int) -> float:
        for i in range(first, first + count):
            xb, yb = x[i * BATCH + rank : (i + 1) * BATCH : world], y[i * BATCH + rank : (i + 1) * BATCH : world]
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
        return loss.item()

    steps(0, WARMUP_BATCHES)
    n_batches = len(x_np) // BATCH
    dist.barrier()
    waited[0] = 0.0
    start = time.perf_counter()
    loss = steps(0, n_batches)
    dist.barrier()
    seconds = time.perf_counter() - start
    if rank == 0:
        scale = (N_IMAGES // BATCH) / n_batches
        line = {"s_per_epoch": seconds * scale, "comm_ms_per_step": waited[0] / n_batches * 1e3, "final_loss": loss}
        print("RESULT " + json.dumps(line), flush=True)
    dist.destroy_process_group()


def launch(ranks: int, quick: bool) -> dict[str, float]:
    """Run the epoch on `ranks` ranks through the launcher; rank 0's result."""
    env = dict(os.environ)
    if ranks > 1:
        env["OMP_NUM_THREADS"] = "1"
    here = os.path.dirname(os.path.abspath(__file__))
    cmd = [sys.executable, "-m", "ember.distributed.run", "--nproc-per-node", str(ranks), os.path.abspath(__file__)]
    cmd += [RANK_FLAG] + (["--quick"] if quick else [])
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=here, timeout=1800)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise SystemExit(f"the {ranks}-rank run failed (exit status {done.returncode}):\n{done.stdout}\n{done.stderr}")


if __name__ == "__main__":
    if RANK_FLAG in sys.argv:
        rank_main("--quick" in sys.argv)
    else:
        from _common import parse_args

        args = parse_args(__doc__, ("ember",))
        one, two = launch(1, args.quick), launch(2, args.quick)
        emit(
            s_per_epoch_1=one["s_per_epoch"],
            s_per_epoch_2=two["s_per_epoch"],
            comm_ms_per_step_1=one["comm_ms_per_step"],
            comm_ms_per_step_2=two["comm_ms_per_step"],
            final_loss=two["final_loss"],
        )
