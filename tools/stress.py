"""Hostile-input campaigns against ember, by hand (never in CI): the figures issue reports quote.

    .venv/bin/python tools/stress.py payloads     # pickles that try to run code through ember.load
    .venv/bin/python tools/stress.py mutations 12 # damaged checkpoints, compared with torch.load
    .venv/bin/python tools/stress.py kills 30     # `ember train` killed at random moments, then resumed

Every load runs in its own process under a 4 GiB address-space limit and a timeout. torch (the test
oracle) is needed for `mutations`."""

from __future__ import annotations

import collections
import hashlib
import io
import json
import os
import random
import resource
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ONE_LINE_ERRORS = {"RuntimeError", "UnpicklingError", "CheckpointError", "ValueError"}


# ---------------------------------------------------------------------------- one load, in a child process
def _flatten(obj, prefix: str = "") -> dict:
    if isinstance(obj, dict):
        return {k: v for key, val in obj.items() for k, v in _flatten(val, f"{prefix}/{key}").items()}
    if isinstance(obj, (list, tuple)):
        return {k: v for i, val in enumerate(obj) for k, v in _flatten(val, f"{prefix}/{i}").items()}
    if hasattr(obj, "detach"):
        a = obj.detach().numpy()
        return {prefix: (str(a.dtype), a.shape, hashlib.sha1(a.tobytes()).hexdigest())}
    return {prefix: repr(obj)[:200]}


def child(path: str, library: str) -> None:
    """Load path with ember or torch and print one JSON line: loaded (with a digest of the contents) or the error."""
    warnings.simplefilter("ignore")
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
    try:
        if library == "ember":
            sys.path.insert(0, ROOT)
            import ember

            result = ember.load(path)
        else:
            import torch

            result = torch.load(path, weights_only=True)
        digest = hashlib.sha1(json.dumps(_flatten(result), sort_keys=True, default=str).encode()).hexdigest()
        print(json.dumps({"ok": True, "digest": digest}))
    except BaseException as e:  # noqa: BLE001 - every outcome is reported
        print(json.dumps({"ok": False, "type": type(e).__name__, "msg": str(e)[:300], "lines": str(e).count("\n") + 1}))


def load_in_child(path: str, library: str) -> dict:
    try:
        r = subprocess.run(
            [sys.executable, __file__, "child", path, library], capture_output=True, text=True, timeout=30
        )
    except subprocess.TimeoutExpired:
        return {"ok": None, "type": "timeout"}
    line = (r.stdout.strip().splitlines() or [""])[-1]
    if not line.startswith("{"):
        return {"ok": None, "type": f"crash (status {r.returncode})", "msg": r.stderr[-200:]}
    return json.loads(line)


def _checkpoint_zip(pkl: bytes, records: dict | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("archive/data.pkl", pkl)
        z.writestr("archive/byteorder", b"little")
        for key, data in (records or {}).items():
            z.writestr(f"archive/data/{key}", data)
        z.writestr("archive/version", b"3\n")
    return buf.getvalue()


# ---------------------------------------------------------------------------- payloads
_TARGETS = [
    ("os", "system"), ("posix", "system"), ("subprocess", "getoutput"), ("subprocess", "check_output"),
    ("builtins", "eval"), ("builtins", "exec"), ("__builtin__", "eval"), ("builtins", "open"),
    ("builtins", "getattr"), ("builtins", "__import__"), ("pty", "spawn"), ("torch", "load"),
    ("torch.serialization", "load"), ("numpy", "load"), ("pickle", "loads"), ("_pickle", "loads"),
    ("code", "InteractiveInterpreter"), ("timeit", "timeit"), ("torch._utils", "_rebuild_tensor_v2"),
    ("collections", "OrderedDict"), ("torch", "Tensor"), ("ember", "load"),
]  # fmt: skip


def _payload(kind: str, mod: str, name: str, arg: str) -> bytes:
    m, n, a = mod.encode(), name.encode(), arg.encode()
    text = b"X" + struct.pack("<I", len(a)) + a
    if kind == "reduce (protocol 2)":
        return b"\x80\x02c" + m + b"\n" + n + b"\n" + text + b"\x85R."
    if kind == "reduce (protocol 0)":
        return b"c" + m + b"\n" + n + b"\n" + text + b"\x85R."
    if kind == "stack_global":
        return b"\x80\x04\x8c" + bytes([len(m)]) + m + b"\x8c" + bytes([len(n)]) + n + b"\x93" + text + b"\x85R."
    if kind == "inst":
        return b"(S'" + a + b"'\ni" + m + b"\n" + n + b"\n."
    if kind == "obj":
        return b"(c" + m + b"\n" + n + b"\nS'" + a + b"'\no."
    if kind == "build with __setstate__":
        state = b"}X\x0c\x00\x00\x00__setstate__c" + m + b"\n" + n + b"\ns"
        return b"\x80\x02ccollections\nOrderedDict\n)R" + state + b"b."
    if kind == "newobj":
        return b"\x80\x02c" + m + b"\n" + n + b"\n" + text + b"\x85\x81."
    return b"\x80\x02c" + m + b"\n" + n + b"\n" + text + b"\x85RQ."  # a persistent id from a call


def payloads() -> None:
    kinds = ["reduce (protocol 2)", "reduce (protocol 0)", "stack_global", "inst", "obj", "build with __setstate__",
             "newobj", "persistent id"]  # fmt: skip
    folder = tempfile.mkdtemp(prefix="ember-payloads-")
    counts, seen = collections.Counter(), {}
    for kind in kinds:
        for mod, name in _TARGETS:
            for form in ("touch {m}", "python3 -c \"open('{m}', 'w')\""):
                marker = os.path.join(folder, f"ran-{counts['total']}")
                arg = form.format(m=marker)
                if name in ("eval", "exec"):
                    arg = f"__import__('os').system('touch {marker}')"
                elif name == "open":
                    arg = marker
                path = os.path.join(folder, f"payload-{counts['total']}.pt")
                with open(path, "wb") as f:
                    f.write(_checkpoint_zip(_payload(kind, mod, name, arg)))
                verdict = load_in_child(path, "ember")
                counts["total"] += 1
                if os.path.exists(marker):
                    counts["code ran"] += 1
                    seen.setdefault("code ran", (kind, mod, name))
                elif verdict.get("ok") is False:
                    counts["refused"] += 1
                else:
                    counts["loaded as data"] += 1
                    seen.setdefault("loaded as data", (kind, mod, name))
    shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(counts), "examples:", seen)


# ---------------------------------------------------------------------------- mutations
def mutations(per_class: int) -> None:
    import torch

    sys.path.insert(0, ROOT)
    import ember

    rng = random.Random(1)
    folder = tempfile.mkdtemp(prefix="ember-mutations-")
    a = torch.arange(20, dtype=torch.float32).reshape(4, 5)
    torch.save({"a": a, "v": a.view(-1)[5:12], "w": torch.randn(3, 3, dtype=torch.float64)}, f"{folder}/t.pt")
    e = ember.arange(20, dtype=ember.float32).reshape(4, 5)
    ember.save({"a": e, "v": e.view(-1)[5:12], "w": ember.randn(3, 3, dtype=ember.float64)}, f"{folder}/e.pt")
    model = ember.nn.Linear(4, 3)
    opt = ember.optim.Adam(model.parameters())
    model(ember.randn(2, 4)).sum().backward()
    opt.step()
    ember.save({"model": model.state_dict(), "optimizer": opt.state_dict()}, f"{folder}/c.pt")
    bases = {n: open(f"{folder}/{n}.pt", "rb").read() for n in ("t", "e", "c")}

    def records(data):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return [(i.filename, z.read(i.filename)) for i in z.infolist()]

    def rezip(items):
        buf = io.BytesIO()
        with warnings.catch_warnings(), zipfile.ZipFile(buf, "w") as z:
            warnings.simplefilter("ignore")
            for name, data in items:
                z.writestr(name, data)
        return buf.getvalue()

    def flip(d):
        b = bytearray(d)
        b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        return bytes(b)

    def pickle_byte(d):
        items = records(d)
        k = next(j for j, (n, _) in enumerate(items) if n.endswith("data.pkl"))
        p = bytearray(items[k][1])
        p[rng.randrange(2, len(p))] = rng.randrange(256)
        items[k] = (items[k][0], bytes(p))
        return rezip(items)

    def resize(d):
        items = records(d)
        k = rng.choice([j for j, (n, _) in enumerate(items) if "/data/" in n])
        n, x = items[k]
        cut = rng.choice([1, 4, 8])
        items[k] = (n, x + bytes(cut) if rng.random() < 0.5 else x[: max(0, len(x) - cut)])
        return rezip(items)

    def duplicate(d):
        items = records(d)
        n, x = items[rng.randrange(len(items))]
        return rezip(items + [(n, bytes(reversed(x)))])

    def at(d):
        return rng.randrange(len(d))

    classes = {
        "bit flip": flip,
        "truncation": lambda d: d[: at(d)],
        "byte inserted": lambda d: (lambda i: d[:i] + bytes([rng.randrange(256)]) + d[i:])(at(d)),
        "byte deleted": lambda d: (lambda i: d[:i] + d[i + 1 :])(at(d)),
        "pickle byte changed": pickle_byte,
        "storage record resized": resize,
        "duplicate entry": duplicate,
    }
    table = collections.defaultdict(collections.Counter)
    notes = collections.defaultdict(list)
    for cname, mutate in classes.items():
        for bname, data in bases.items():
            for k in range(per_class):
                path = f"{folder}/m-{len(notes)}-{cname[:4]}-{bname}-{k}.pt"
                with open(path, "wb") as f:
                    f.write(mutate(data))
                mine = load_in_child(path, "ember")
                if mine.get("ok"):
                    theirs = load_in_child(path, "torch")
                    if not theirs.get("ok"):
                        verdict = "ember loaded, torch refused"
                    else:
                        verdict = (
                            "loaded, as torch" if theirs["digest"] == mine["digest"] else "loaded, differs from torch"
                        )
                elif mine.get("ok") is None:
                    verdict = mine["type"]
                elif mine["type"] in ONE_LINE_ERRORS and mine["lines"] == 1:
                    verdict = "refused in one line"
                else:
                    verdict = f"refused with {mine['type']}"
                table[cname][verdict] += 1
                if verdict not in ("loaded, as torch", "refused in one line"):
                    notes[verdict].append((cname, bname, mine.get("msg", "")[:120]))
    shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps({k: dict(v) for k, v in table.items()}, indent=1))
    for verdict, cases in notes.items():
        print(verdict, len(cases), cases[:4])


# ---------------------------------------------------------------------------- kills
def kills(trials: int) -> None:
    sys.path.insert(0, ROOT)
    import numpy as np

    import ember

    folder = tempfile.mkdtemp(prefix="ember-kills-")
    train = [sys.executable, "-m", "ember", "train"]
    args = ["--epochs", "6", "--limit", "1500", "--hidden", "48,24", "--checkpoint-every", "3", "--batch-size", "32"]
    env = {**os.environ, "PYTHONPATH": ROOT}
    start = time.perf_counter()
    subprocess.run([*train, *args, "--run-dir", f"{folder}/ref"], check=True, capture_output=True, env=env)
    span = time.perf_counter() - start
    want = {k: v.numpy() for k, v in ember.load(f"{folder}/ref/model.pt").items()}
    rng = random.Random(7)
    killed, identical, problems = 0, 0, []
    for trial in range(trials):
        path = f"{folder}/t{trial}"
        cmd = [*train, *args, "--run-dir", path]
        for attempt in range(8):
            p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
            if attempt < 3 and rng.random() < 0.9:
                time.sleep(rng.uniform(0.05, span))
                if p.poll() is None:
                    p.send_signal(signal.SIGKILL)
                    killed += 1
            _, err = p.communicate()
            if p.returncode != -signal.SIGKILL:
                if p.returncode:
                    problems.append((trial, attempt, p.returncode, err[-200:]))
                break
            resumable = os.path.exists(f"{path}/config.toml")
            cmd = [*train, "--resume", path] if resumable else [*train, *args, "--run-dir", path]
        if not os.path.exists(f"{path}/model.pt"):
            problems.append((trial, "no model.pt"))
            continue
        got = {k: v.numpy() for k, v in ember.load(f"{path}/model.pt").items()}
        if got.keys() == want.keys() and all(np.array_equal(got[k], want[k]) for k in want):
            identical += 1
        else:
            problems.append((trial, "weights differ from the uninterrupted run"))
        leftovers = [n for _, _, files in os.walk(path) for n in files if n.endswith(".tmp")]
        if leftovers:
            problems.append((trial, "temporary files left", leftovers))
    shutil.rmtree(folder, ignore_errors=True)
    print(
        f"{trials} runs, {killed} kills, {identical} finished bit-identical to the uninterrupted run; problems: {problems}"
    )


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else ""
    if what == "child":
        child(sys.argv[2], sys.argv[3])
    elif what == "payloads":
        payloads()
    elif what == "mutations":
        mutations(int(sys.argv[2]) if len(sys.argv) > 2 else 12)
    elif what == "kills":
        kills(int(sys.argv[2]) if len(sys.argv) > 2 else 30)
    else:
        sys.exit(__doc__)
