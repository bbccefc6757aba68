"""Mutation testing of ember's core with Cosmic Ray, on a private copy of the repository.

`make mutate` runs this. For each core module it lists the mutations Cosmic Ray can make with a chosen set
of its operators, samples a fixed number of mutation sites (seeded, so a run is repeatable), and has Cosmic
Ray apply each mutant in turn to a clone of the repository in a temporary folder and run only the tests
mapped to that module (`-x`, no cache). The working tree itself is never written. Each module's session is
a Cosmic Ray work database in the output folder, so `cr-report` can read it too.

    python tools/mutate.py                         # every module, the default sample and time budget
    python tools/mutate.py --modules random,optim --sites 10 --budget 120
    python tools/mutate.py --rerun out/report.json # only the mutants that survived in an earlier run
    python tools/mutate.py --include tests/optim/test_new.py   # copy uncommitted files into the clone

A mutant is *killed* when a test fails, *timeout* when the tests ran past the limit (counted as killed),
*survived* when every mapped test passed, and *equivalent* when it survived and is listed in EQUIVALENT
below with the reason no test can tell it from the original. The score is killed / (sampled - equivalent).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Core module -> (sources, tests run for its mutants). A source file may add tests of its own in EXTRA_TESTS.
MODULES: dict[str, tuple[list[str], list[str]]] = {
    "ops": (["ember/ops"], ["tests/ops", "tests/autograd"]),
    "autograd": (["ember/autograd"], ["tests/autograd"]),
    "serialization": (
        ["ember/serialization.py"],
        ["tests/test_serialization.py", "tests/test_serialization_modules.py"],
    ),
    "optim": (["ember/optim"], ["tests/optim"]),
    "utils.data": (["ember/utils/data"], ["tests/utils"]),
    "train": (
        ["ember/train/trainer.py", "ember/train/checkpoint.py"],
        ["tests/train/test_checkpoint.py", "tests/train/test_trainer.py", "tests/train/test_resume.py"],
    ),
    "doctor": (["ember/doctor/checks.py"], ["tests/doctor"]),
    "_sampling": (["ember/_sampling.py"], ["tests/test_random_streams.py"]),
    "random": (["ember/random.py"], ["tests/test_random_streams.py"]),
}

EXTRA_TESTS: dict[str, list[str]] = {
    "ember/ops/conv.py": ["tests/nn/test_conv_pool.py"],
    "ember/ops/nn_ops.py": ["tests/nn/test_nn_losses.py", "tests/nn/test_nn_activations.py"],
    "ember/ops/pointwise.py": ["tests/nn/test_nn_activations.py"],
    "ember/utils/data/distributed.py": ["tests/distributed/test_distributed_sampler.py"],
    "ember/_sampling.py": ["tests/nn/test_nn_init.py"],
    "ember/random.py": ["tests/test_creation.py"],
}

# The operators sampled: the natural swap for each arithmetic and comparison operator, off-by-one
# constants, and/or, added or removed `not`, dropped unary minus, flipped booleans, loops that never run,
# handlers that catch nothing, break/continue. (Cosmic Ray offers every operator for every other; most of
# those are redundant with these.)
_SWAPS = [
    ("Add", "Sub"), ("Sub", "Add"), ("Mul", "Div"), ("Div", "Mul"), ("FloorDiv", "Div"), ("Mod", "FloorDiv"),
    ("Pow", "Mul"), ("BitAnd", "BitOr"), ("BitOr", "BitAnd"), ("BitXor", "BitOr"), ("LShift", "RShift"),
    ("RShift", "LShift"),
]  # fmt: skip
_FLIPS = [
    ("Lt", "LtE"), ("LtE", "Lt"), ("Gt", "GtE"), ("GtE", "Gt"), ("Eq", "NotEq"), ("NotEq", "Eq"),
    ("Is", "IsNot"), ("IsNot", "Is"),
]  # fmt: skip
OPERATORS: list[str] = (
    [f"core/ReplaceBinaryOperator_{a}_{b}" for a, b in _SWAPS]
    + [f"core/ReplaceComparisonOperator_{a}_{b}" for a, b in _FLIPS]
    + [
        "core/NumberReplacer",
        "core/AddNot",
        "core/ReplaceUnaryOperator_Delete_Not",
        "core/ReplaceUnaryOperator_Delete_USub",
        "core/ReplaceAndWithOr",
        "core/ReplaceOrWithAnd",
        "core/ReplaceTrueWithFalse",
        "core/ReplaceFalseWithTrue",
        "core/ZeroIterationForLoop",
        "core/ExceptionReplacer",
        "core/ReplaceBreakWithContinue",
        "core/ReplaceContinueWithBreak",
    ]
)

# Surviving mutants no test can kill, keyed by (file, operator, original line, mutated line), both lines
# stripped; the value says why the mutant behaves as the original. docs/testing.md discusses each.
EQUIVALENT: dict[tuple[str, str, str, str], str] = {
    (
        "ember/ops/reduction.py",
        "core/AddNot",
        "mean = mu if keepdim else mu.reshape(var.shape)",
        "mean = mu if not keepdim else mu.reshape(var.shape)",
    ): "_var_np's mean is discarded by every caller (var/std take `v, _, dof`; var_mean/std_mean call mean())",
    (
        "ember/train/trainer.py",
        "core/NumberReplacer",
        "missing.append(str(e.args[0]))",
        "missing.append(str(e.args[ -1]))",
    ): "a KeyError raised by a dict lookup has exactly one argument, so args[-1] is args[0]",
}


@dataclass
class Mutant:
    """One sampled mutation and, once run, its outcome."""

    module: str
    path: str
    operator: str
    occurrence: int
    line: int
    col: int
    end: tuple[int, int]
    definition: str | None
    job_id: str = ""
    outcome: str = "not run"
    seconds: float = 0.0
    before: str = ""
    after: str = ""
    reason: str = ""
    diff: str = field(default="", repr=False)

    def key(self) -> tuple[str, str, int]:
        """The mutation's identity within an unchanged source tree."""
        return (self.path, self.operator, self.occurrence)


def _annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Spans (line, column) of the type annotations in a module, where a mutant only changes a hint."""
    lines = source.splitlines()

    def char_col(line: int, byte_col: int) -> int:
        return len(lines[line - 1].encode()[:byte_col].decode(errors="ignore"))

    spans = []
    for node in ast.walk(ast.parse(source)):
        hints = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns is not None:
            hints.append(node.returns)
        elif isinstance(node, ast.arg) and node.annotation is not None:
            hints.append(node.annotation)
        elif isinstance(node, ast.AnnAssign):
            hints.append(node.annotation)
        for h in hints:
            start = (h.lineno, char_col(h.lineno, h.col_offset))
            spans.append((start, (h.end_lineno, char_col(h.end_lineno, h.end_col_offset))))
    return spans


def _source_files(sources: list[str], root: Path) -> list[str]:
    """The .py files of a module, as paths relative to the repository root, sorted."""
    files: list[str] = []
    for s in sources:
        p = root / s
        files += [str(f.relative_to(root)) for f in sorted(p.rglob("*.py"))] if p.is_dir() else [s]
    return files


def enumerate_mutants(module: str, root: Path) -> list[Mutant]:
    """Every mutation the chosen operators can make in a module, outside type annotations."""
    import cosmic_ray.plugins
    from cosmic_ray.ast import ast_nodes, get_ast_from_path
    from cosmic_ray.ast.ast_query import ASTQuery

    out = []
    for path in _source_files(MODULES[module][0], root):
        tree = get_ast_from_path(root / path)
        spans = _annotation_spans((root / path).read_text())
        for name in OPERATORS:
            op = cosmic_ray.plugins.get_operator(name)()
            positions = ((n, s, e) for n in ast_nodes(tree) for s, e in op.mutation_positions(n))
            for occurrence, (node, start, end) in enumerate(positions):
                if any(a <= start < b for a, b in spans):
                    continue
                definition = ASTQuery(node).get_definition_name()
                out.append(Mutant(module, path, name, occurrence, start[0], start[1], tuple(end), definition))
    return out


def sample(mutants: list[Mutant], sites: int, seed: int, module: str) -> list[Mutant]:
    """`sites` mutation sites drawn with a seeded generator, one operator drawn for each."""
    rng = random.Random(f"{seed}:{module}")
    by_site: dict[tuple[str, int, int], list[Mutant]] = {}
    for m in sorted(mutants, key=lambda m: (m.path, m.line, m.col, m.operator, m.occurrence)):
        by_site.setdefault((m.path, m.line, m.col), []).append(m)
    keys = sorted(by_site)
    rng.shuffle(keys)
    return [rng.choice(by_site[k]) for k in keys[:sites]]


def tests_for(module: str, paths: list[str], root: Path) -> list[str]:
    """The test paths run for mutants of these files (the module's, plus any a file adds) that exist in root."""
    tests = list(MODULES[module][1])
    for p in paths:
        tests += [t for t in EXTRA_TESTS.get(p, []) if t not in tests]
    return [t for t in tests if (root / t).exists()]


def test_command(tests: list[str]) -> str:
    """The pytest command line run for a mutant."""
    return f"{sys.executable} -m pytest -x -q -p no:cacheprovider -p no:randomly {' '.join(tests)}"


def _changed_lines(diff: str) -> tuple[str, str]:
    """The first removed and added lines of a unified diff, stripped."""
    minus = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("-") and not ln.startswith("---")]
    plus = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    return (minus[0] if minus else "", plus[0] if plus else "")


def _spec(m: Mutant):
    """The Cosmic Ray description of a mutant."""
    from cosmic_ray.work_item import MutationSpec

    return MutationSpec(m.path, m.operator, m.occurrence, (m.line, m.col), m.end, {}, m.definition)


def _rerun_key(m: Mutant, root: Path) -> tuple:
    """What identifies a mutant across edits elsewhere in its file."""
    line = (root / m.path).read_text().splitlines()[m.line - 1].strip()
    return (m.path, m.operator, m.definition, line, m.col, _variant(m.operator, m.occurrence))


def _variant(operator: str, occurrence: int) -> int:
    """Which of an operator's mutations at one position: NumberReplacer makes two (+1, then -1)."""
    return occurrence % 2 if operator == "core/NumberReplacer" else 0


def make_clone(dest: Path, include: list[str]) -> Path:
    """A clone of the repository's HEAD in `dest`, with `include` copied over from the working tree."""
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(dest)], check=True)
    for rel in include:
        src, dst = ROOT / rel, dest / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
    return dest


def run_module(module: str, mutants: list[Mutant], clone: Path, out: Path, budget: float, log) -> dict:
    """Runs a module's sampled mutants through Cosmic Ray within `budget` seconds; returns its summary."""
    from cosmic_ray.mutating import mutate_and_test
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkItem

    # The baseline runs every test any of the module's mutants will run, and sets the time limit per mutant.
    tests = tests_for(module, sorted({m.path for m in mutants}), clone)
    t0 = time.monotonic()
    base = subprocess.run(test_command(tests).split(), cwd=clone, capture_output=True, text=True)
    base_s = time.monotonic() - t0
    if base.returncode != 0:
        log(f"[{module}] the unmutated tests fail; skipping the module\n{base.stdout[-2000:]}")
        return {"module": module, "tests": tests, "baseline_s": base_s, "error": "baseline fails"}
    timeout = max(30.0, 3.0 * base_s)
    log(f"[{module}] {len(mutants)} mutants, tests {' '.join(tests)} (baseline {base_s:.0f}s, timeout {timeout:.0f}s)")
    start = time.monotonic()
    db_path = out / f"{module}.sqlite"
    db_path.unlink(missing_ok=True)
    cwd = os.getcwd()
    os.chdir(clone)
    try:
        with use_db(str(db_path), WorkDB.Mode.create) as db:
            for m in mutants:
                m.job_id = uuid.uuid4().hex
                spec = _spec(m)
                db.add_work_item(WorkItem.single(m.job_id, spec))
            for i, m in enumerate(mutants):
                if time.monotonic() - start > budget:
                    log(f"[{module}] time budget spent; {len(mutants) - i} mutants not run")
                    break
                t0 = time.monotonic()
                spec = _spec(m)
                result = mutate_and_test([spec], test_command(tests_for(module, [m.path], clone)), timeout)
                m.seconds = time.monotonic() - t0
                db.set_result(m.job_id, result)
                m.diff = result.diff or ""
                m.before, m.after = _changed_lines(m.diff)
                if result.worker_outcome == "no-test":
                    m.outcome = "no mutation"
                elif result.test_outcome == "incompetent":
                    m.outcome = "incompetent"
                elif result.test_outcome == "killed":
                    m.outcome = "timeout" if result.output == "timeout" else "killed"
                else:
                    m.reason = EQUIVALENT.get((m.path, m.operator, m.before, m.after), "")
                    m.outcome = "equivalent" if m.reason else "survived"
                log(f"[{module}] {m.outcome:<11} {m.path}:{m.line} {m.operator} ({m.seconds:.0f}s)")
    finally:
        os.chdir(cwd)
    return {
        "module": module,
        "tests": tests,
        "baseline_s": round(base_s, 1),
        "seconds": round(time.monotonic() - start),
    }


def score_row(module: str, mutants: list[Mutant]) -> dict:
    """Counts of each outcome and the score killed / (run - equivalent) for one module."""
    n = {k: sum(m.outcome == k for m in mutants) for k in ("killed", "timeout", "survived", "equivalent")}
    n["not run"] = sum(m.outcome in ("not run", "no mutation", "incompetent") for m in mutants)
    dead = n["killed"] + n["timeout"]
    live = dead + n["survived"]
    return {"module": module, **n, "score": f"{dead}/{live}" + (f" ({100 * dead / live:.0f}%)" if live else "")}


def print_table(rows: list[dict], survivors: list[Mutant]) -> None:
    """The per-module table and every surviving mutant's diff line."""
    cols = ["module", "killed", "timeout", "survived", "equivalent", "not run", "score"]
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in cols]
    print("\n" + "  ".join(c.ljust(w) for c, w in zip(cols, widths)))
    for r in rows:
        print("  ".join(str(r[c]).ljust(w) for c, w in zip(cols, widths)))
    for m in survivors:
        print(f"\nsurvived: {m.path}:{m.line} ({m.definition}) {m.operator}\n  - {m.before}\n  + {m.after}")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: sample, run and report mutants per core module."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--modules", default=",".join(MODULES), help="comma-separated names from: " + ", ".join(MODULES))
    p.add_argument("--sites", type=int, default=20, help="mutation sites sampled per module (default 20)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--budget",
        type=float,
        default=300,
        help="seconds of mutant runs per module before its remaining mutants are skipped",
    )
    p.add_argument("--out", default="build/mutate", help="folder for report.json and the Cosmic Ray sessions")
    p.add_argument("--include", nargs="*", default=[], help="working-tree files copied into the clone")
    p.add_argument("--rerun", help="a report.json: run only the mutants that survived in it")
    p.add_argument("--keep", action="store_true", help="keep the clone (its path is printed)")
    args = p.parse_args(argv)

    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="ember-mutate-"))
    clone = make_clone(tmp / "repo", args.include)

    def log(msg: str) -> None:
        print(msg, flush=True)

    log(f"clone: {clone}")
    previous = None
    if args.rerun:
        previous = json.loads(Path(args.rerun).read_text())
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=clone, capture_output=True, text=True).stdout.strip()
    rows, survivors, report = [], [], {"commit": head, "seed": args.seed, "sites": args.sites, "modules": []}
    try:
        for module in [m for m in args.modules.split(",") if m]:
            if module not in MODULES:
                p.error(f"unknown module {module!r}")
            if previous is not None:
                # Matched by file, operator, function, line text and column, so line numbers may move.
                want = {
                    (
                        m["path"],
                        m["operator"],
                        m["definition"],
                        m["before"],
                        m["col"],
                        _variant(m["operator"], m["occurrence"]),
                    )
                    for entry in previous["modules"]
                    if entry["module"] == module
                    for m in entry.get("mutants", [])
                    if m["outcome"] == "survived"
                }
                if not want:
                    continue
                mutants = [m for m in enumerate_mutants(module, clone) if _rerun_key(m, clone) in want]
            else:
                mutants = sample(enumerate_mutants(module, clone), args.sites, args.seed, module)
            summary = run_module(module, mutants, clone, out, args.budget, log)
            rows.append(score_row(module, mutants))
            survivors += [m for m in mutants if m.outcome == "survived"]
            summary["mutants"] = [{k: v for k, v in asdict(m).items() if k != "diff"} for m in mutants]
            report["modules"].append(summary)
            (out / "report.json").write_text(json.dumps(report, indent=1))
    finally:
        if args.keep:
            log(f"kept {clone}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print_table(rows, survivors)
    return 0


if __name__ == "__main__":
    sys.exit(main())
