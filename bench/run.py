"""Benchmarks ember against PyTorch: each workload in fresh processes, interleaved, as a markdown table."""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKLOADS_DIR = ROOT / "bench" / "workloads"
DOC = ROOT / "docs" / "performance.md"
LIBRARIES = ("ember", "torch")
# ember again with the fallbacks of every choice that reads the CPU, its BLAS or the clock forced
# (EMBER_FALLBACKS=machine, see ember/_machine.py): what a machine whose checks come out the other way gets.
FALLBACKS = "ember-fallbacks"
FALLBACKS_FORCED = "machine"
WITH_FALLBACKS = ("ember", FALLBACKS, "torch")
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


@dataclass(frozen=True)
class Metric:
    """One number a workload reports: its JSON key, the table label, the unit and which way is better."""

    key: str
    label: str
    unit: str
    scale: float = 1.0
    higher_is_better: bool = False


@dataclass(frozen=True)
class Workload:
    """A script under bench/workloads/ and the metrics to read from its JSON line."""

    name: str
    metrics: tuple[Metric, ...]
    rounds: int = 7
    quick_rounds: int = 3
    warmup_process: bool = False
    # "numpy" is the workload written by hand in NumPy, the floor both libraries are measured against.
    libraries: tuple[str, ...] = LIBRARIES


WORKLOADS = (
    Workload(
        "sgd_epoch",
        (
            Metric("s_per_epoch", "(1) SGD epoch, batch 200", "s"),
            Metric("peak_rss_mb", "(6) peak RSS of (1)", "MiB"),
            Metric("training_rss_mb", "(6) peak RSS growth during (1)", "MiB"),
        ),
        libraries=(*WITH_FALLBACKS, "numpy"),
    ),
    Workload("adam_epoch", (Metric("s_per_epoch", "(2) Adam epoch, batch 64", "s"),), libraries=WITH_FALLBACKS),
    Workload("tiny_step", (Metric("us_per_step", "(3) tiny training step", "µs"),), libraries=WITH_FALLBACKS),
    Workload("small_ops", (Metric("us_per_iter", "(4) small-op forward+backward", "µs"),), libraries=WITH_FALLBACKS),
    # Imports are cheap and noisy: more rounds, after one untimed run warms the file cache.
    Workload(
        "import_time",
        (Metric("import_s", "(5) import time", "ms", scale=1e3),),
        rounds=15,
        quick_rounds=3,
        warmup_process=True,
    ),
    Workload(
        "inference",
        (
            Metric("batch1_samples_per_s", "(7) inference, batch 1", "samples/s", higher_is_better=True),
            Metric("batch1000_samples_per_s", "(7) inference, batch 1000", "samples/s", higher_is_better=True),
        ),
    ),
    Workload(
        "seed004_epoch",
        (
            Metric("s_per_epoch", "(8) seed 004's training epoch", "s"),
            Metric("subnormals", "(8) subnormal weights+grads after (8)", "values"),
        ),
        rounds=5,
        libraries=WITH_FALLBACKS,
    ),
    Workload("dataloader_epoch", (Metric("s_per_epoch", "(9) DataLoader epoch, ToTensor+Normalize", "s"),), rounds=3),
    # ember: fit() against a bare loop; torch: a hand-written loop with the same bookkeeping against a bare one.
    Workload(
        "train_overhead",
        (
            Metric("train_s_per_epoch", "(10) training-CLI epoch (SGD, batch 200, logs, checkpoints)", "s"),
            Metric("overhead_ratio", "(10) that epoch / the same epoch as a bare loop", "×"),
        ),
        rounds=3,
        quick_rounds=1,
        libraries=WITH_FALLBACKS,  # fit() makes the load-based thread choice; the fallbacks column skips it
    ),
    Workload(
        "lenet_epoch",
        (
            Metric("s_per_epoch", "(11) LeNet-5 epoch, batch 64", "s"),
            Metric("samples_per_s", "(11) LeNet-5 inference, batch 1000", "samples/s", higher_is_better=True),
        ),
        rounds=5,
        libraries=WITH_FALLBACKS,
    ),
    Workload(
        "two_conv_epoch",
        (
            Metric("s_per_epoch", "(12) two-conv MNIST example epoch, batch 64", "s"),
            Metric("samples_per_s", "(12) two-conv inference, batch 1000", "samples/s", higher_is_better=True),
        ),
        rounds=3,
        quick_rounds=1,
        libraries=WITH_FALLBACKS,
    ),
    # the same seeded streams as torch's, value for value (tests/test_random_streams.py)
    Workload(
        "random_draws",
        (
            Metric("rand_ms", "(13) rand, 10 million float32", "ms"),
            Metric("randn_ms", "(13) randn, 10 million float32", "ms"),
            Metric("randperm_ms", "(13) randperm(60000)", "ms"),
        ),
        rounds=5,
    ),
    # ember only: workload (1)'s epoch on 1 and 2 ranks through the launcher (DistributedDataParallel over MPI)
    Workload(
        "ddp_epoch",
        (
            Metric("s_per_epoch_1", "(14) SGD epoch, DDP on 1 rank", "s"),
            Metric("s_per_epoch_2", "(14) SGD epoch, DDP on 2 ranks", "s"),
            Metric("comm_ms_per_step_1", "(14) allreduce wait per step, 1 rank", "ms"),
            Metric("comm_ms_per_step_2", "(14) allreduce wait per step, 2 ranks", "ms"),
        ),
        rounds=3,
        quick_rounds=1,
        libraries=("ember",),
    ),
)


@dataclass
class Result:
    """Per-library samples (one per round) of each metric of one workload."""

    workload: Workload
    samples: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    error: str | None = None


def child_env(threads: int) -> dict[str, str]:
    """The environment for workload processes: same thread count for NumPy's BLAS and torch."""
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    env["PYTHONWARNINGS"] = "ignore"
    # Import from bytecode, as installed packages do (pip compiles them); with this set, every run would
    # compile ember's sources again while torch's site-packages already hold bytecode.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_once(workload: Workload, library: str, quick: bool, env: dict[str, str]) -> dict[str, float]:
    """Runs one workload script for one library in a fresh interpreter and parses its JSON line."""
    if library == FALLBACKS:
        library, env = "ember", {**env, "EMBER_FALLBACKS": FALLBACKS_FORCED}
    cmd = [sys.executable, str(WORKLOADS_DIR / f"{workload.name}.py"), library]
    if quick and workload.name != "import_time":
        cmd.append("--quick")
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"{workload.name} on {library} exited {proc.returncode}:\n{proc.stderr.strip()}")
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"{workload.name} on {library} printed no JSON line:\n{proc.stdout}{proc.stderr}")
    return json.loads(lines[-1])


def run_workload(workload: Workload, quick: bool, env: dict[str, str], rounds: int | None) -> Result:
    """Runs ember and torch alternately (A B A B ...) so drift in machine load hits both alike."""
    result = Result(workload, {lib: {} for lib in workload.libraries})
    n_rounds = rounds or (workload.quick_rounds if quick else workload.rounds)
    scales = {m.key: m.scale for m in workload.metrics}
    try:
        if workload.warmup_process:
            for library in workload.libraries:
                run_once(workload, library, quick, env)
        for i in range(n_rounds):
            for library in workload.libraries:
                values = run_once(workload, library, quick, env)
                for metric in workload.metrics:
                    values[metric.key]  # a missing metric is a failure (KeyError below)
                for key, value in values.items():
                    result.samples[library].setdefault(key, []).append(value * scales.get(key, 1.0))
            print(f"  {workload.name}: round {i + 1}/{n_rounds} done", file=sys.stderr, flush=True)
    except (RuntimeError, subprocess.TimeoutExpired, KeyError) as exc:
        result.error = str(exc)
        print(f"  {workload.name} FAILED: {exc}", file=sys.stderr, flush=True)
    return result


def fmt(value: float) -> str:
    """A number with three significant digits, without scientific notation for everyday sizes."""
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def cell(samples: list[float]) -> str:
    """'median (min–max)' of a list of samples."""
    return f"{fmt(statistics.median(samples))} ({fmt(min(samples))}–{fmt(max(samples))})"


def ratio(mine: float, theirs: float) -> str:
    """mine / theirs to two decimals (1.00 when both are zero)."""
    return f"{mine / theirs:.2f}" if theirs else ("1.00" if not mine else "–")


def table(results: list[Result]) -> str:
    """The markdown results table: median and range per library, and the ratios of medians to torch's.

    "fallbacks" is ember with the machine-reading choices forced to their fallbacks (where the workload runs so)."""
    rows = [
        "| Workload | Unit | ember median (min–max) | torch median (min–max) | ember/torch "
        "| fallbacks median (min–max) | fallbacks/torch | Better |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        for metric in result.workload.metrics:
            better = "higher" if metric.higher_is_better else "lower"
            ember, torch = result.samples["ember"].get(metric.key), result.samples.get("torch", {}).get(metric.key)
            forced = result.samples.get(FALLBACKS, {}).get(metric.key)
            if ember and not torch and "torch" not in result.workload.libraries and not result.error:
                rows.append(f"| {metric.label} | {metric.unit} | {cell(ember)} | – | – | – | – | {better} |")
                continue
            if result.error or not ember or not torch:
                rows.append(f"| {metric.label} | {metric.unit} | failed | failed | – | – | – | {better} |")
                continue
            torch_median = statistics.median(torch)
            fallback_cells = f"{cell(forced)} | {ratio(statistics.median(forced), torch_median)}" if forced else "– | –"
            rows.append(
                f"| {metric.label} | {metric.unit} | {cell(ember)} | {cell(torch)} "
                f"| {ratio(statistics.median(ember), torch_median)} | {fallback_cells} | {better} |"
            )
    return "\n".join(rows)


def floor_table(results: list[Result]) -> str:
    """Each library's SGD epoch against the same epoch written by hand in NumPy and its matrix products alone."""
    rows = ["| SGD epoch (1) against the NumPy floor | Unit | Value |", "|---|---|---|"]
    for result in results:
        floor = result.samples.get("numpy", {})
        if result.error or "matmul_s_per_epoch" not in floor:
            continue
        numpy_epoch = statistics.median(floor["s_per_epoch"])
        matmuls = statistics.median(floor["matmul_s_per_epoch"])
        rows.append(f"| hand-written NumPy epoch | s | {cell(floor['s_per_epoch'])} |")
        rows.append(f"| its eight matrix products per step, alone | s | {cell(floor['matmul_s_per_epoch'])} |")
        for library in result.workload.libraries:
            if library == "numpy" or "s_per_epoch" not in result.samples[library]:
                continue
            name = "ember with fallbacks forced" if library == FALLBACKS else library
            epoch = statistics.median(result.samples[library]["s_per_epoch"])
            rows.append(f"| {name} epoch / NumPy epoch | × | {epoch / numpy_epoch:.2f} |")
            rows.append(f"| {name} epoch / matrix products alone | × | {epoch / matmuls:.2f} |")
    return "\n".join(rows) if len(rows) > 2 else ""


def cpu_model() -> str:
    """The CPU's model name as /proc/cpuinfo gives it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def mem_total() -> str:
    """Total RAM from /proc/meminfo, in GiB."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def blas_name() -> str:
    """The BLAS NumPy was built against, from numpy.show_config's structured form."""
    import numpy as np

    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas['name']} {blas.get('version', '')}".strip()
    except (TypeError, KeyError):
        return "unknown"


def version(package: str) -> str:
    """Installed version of a distribution, or 'not installed'."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def outcomes(env: dict[str, str]) -> dict[str, str]:
    """What ember's machine-dependent choices find in a workload's environment (ember._machine.outcomes)."""
    code = "import json; from ember import _machine; print(json.dumps(_machine.outcomes()))"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    return json.loads(proc.stdout) if proc.returncode == 0 else {"error": proc.stderr.strip().splitlines()[-1]}


def machine(threads: int, env: dict[str, str]) -> str:
    """A markdown list describing the machine and software the numbers come from, and ember's probe outcomes."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    found = outcomes(env)
    forced = outcomes({**env, "EMBER_FALLBACKS": FALLBACKS_FORCED})
    return "\n".join(
        [
            f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores ({usable} usable by this process)",
            f"- RAM: {mem_total()}; OS: {platform.platform()}",
            f"- Python {platform.python_version()}, numpy {version('numpy')} ({blas_name()}), "
            f"torch {version('torch')}, ember {version('ember')}",
            f"- Threads: {threads} for both (OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = MKL_NUM_THREADS = {threads}, "
            f"and `torch.set_num_threads({threads})` in every torch process)",
            "- ember's machine-dependent choices (`ember/_machine.py`), as found here / with "
            f"EMBER_FALLBACKS={FALLBACKS_FORCED} (the fallbacks column):",
            *(f"  - {name}: {found.get(name, '?')} / {forced.get(name, '?')}" for name in found),
        ]
    )


def report(results: list[Result], threads: int, env: dict[str, str], quick: bool, elapsed: float) -> str:
    """The generated part of docs/performance.md: machine, date, settings and the table."""
    mode = "quick" if quick else "full"
    return "\n".join(
        [
            BEGIN,
            f"Measured {time.strftime('%Y-%m-%d')} with `.venv/bin/python bench/run.py` ({mode} run, {elapsed:.0f} s).",
            "",
            machine(threads, env),
            "",
            table(results),
            *(["", floor_table(results)] if floor_table(results) else []),
            END,
        ]
    )


def write_doc(section: str) -> None:
    """Replaces the generated section of docs/performance.md, keeping the hand-written text around it."""
    text = DOC.read_text() if DOC.exists() else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = f"# Performance\n\n{section}\n"
    DOC.write_text(text)


def profile(name: str, quick: bool, env: dict[str, str], top: int) -> None:
    """Runs one workload on ember under cProfile and prints the functions with the most own time."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "ember.prof"
        script = str(WORKLOADS_DIR / f"{name}.py")
        if name == "import_time":
            # The import is the whole workload, so profile the whole process.
            cmd = [sys.executable, "-m", "cProfile", "-o", str(out), script, "ember"]
        else:
            # The workload profiles only its timed section, leaving out data generation and warm-up.
            cmd = [sys.executable, script, "ember"] + (["--quick"] if quick else [])
            env = {**env, "BENCH_PROFILE": str(out)}
        subprocess.run(cmd, cwd=ROOT, env=env, check=True)
        pstats.Stats(str(out)).strip_dirs().sort_stats("tottime").print_stats(top)


def main() -> int:
    """Parses the options, runs the selected workloads and prints (and maybe records) the table."""
    names = [w.name for w in WORKLOADS]
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="less work per workload and fewer rounds (~2 min)")
    parser.add_argument("--only", action="append", choices=names, metavar="NAME", help=f"one of {', '.join(names)}")
    parser.add_argument("--rounds", type=int, help="rounds per workload (default: 7, imports 15; quick: 3)")
    parser.add_argument("--threads", type=int, default=2, help="BLAS/intra-op threads for both libraries")
    parser.add_argument(
        "--write",
        action="store_true",
        help="record the table in docs/performance.md (default only for a full run of every workload)",
    )
    parser.add_argument("--no-write", action="store_true", help="never touch docs/performance.md")
    parser.add_argument("--profile", choices=names, metavar="NAME", help="cProfile NAME on ember and stop")
    args = parser.parse_args()
    env = child_env(args.threads)

    if args.profile:
        profile(args.profile, args.quick, env, top=15)
        return 0

    selected = [w for w in WORKLOADS if not args.only or w.name in args.only]
    start = time.perf_counter()
    results = []
    for workload in selected:
        print(f"running {workload.name} ...", file=sys.stderr, flush=True)
        results.append(run_workload(workload, args.quick, env, args.rounds))
    elapsed = time.perf_counter() - start

    print(machine(args.threads, env))
    print()
    print(table(results))
    if floor_table(results):
        print()
        print(floor_table(results))
    print(
        f"\n{elapsed:.0f} s in all; ember/torch above 1 means ember is slower (or bigger), except for "
        "rows where higher is better."
    )
    full = not args.quick and not args.only and not args.rounds
    if not args.no_write and (args.write or full):
        write_doc(report(results, args.threads, env, args.quick, elapsed))
        print(f"wrote {DOC.relative_to(ROOT)}")
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
