"""Doctor: watches a training loop through module hooks and reports problems in plain words.

Usage in any loop:

    doctor = Doctor(model, every=20)
    for x, y in loader:
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        doctor.step(loss, optimizer)
    print(doctor.report())

On steps that are not sampled the hooks only check a flag (and keep a reference to the last outputs, so a
NaN can be traced to its layer); on sampled steps they take a few NumPy reductions of the activations, and
step() reads the weight gradients and the size of the optimizer's update.
"""

from __future__ import annotations

import math
import textwrap
import weakref
from collections.abc import Mapping
from typing import Any

import numpy as np

from .._tensor import Tensor
from ..autograd.grad_mode import _state as _grad_state
from ..nn.modules.module import Module
from ..optim.optimizer import register_optimizer_step_post_hook, register_optimizer_step_pre_hook
from . import checks
from .finding import Finding
from .loss_history import LossHistory
from .stats import array_of, fan_in, is_finite, module_kind, norm, pack_mask, summarise_output, unpack_mask
from .thresholds import Thresholds

STATE_FORMAT = "ember-doctor"
STATE_VERSION = 1
_WEIGHTED = ("dense", "weighted")
_ACTIVATION_CHECKED = ("relu", "sigmoid", "tanh")
# outputs this large overflow float32 when squared or exponentiated by a loss
_OVERFLOW_RISK = 1e15


class _Layer:
    """One watched module (or raw weight tensor): its name, how it is watched, and its parameters."""

    __slots__ = ("name", "kind", "cls_name", "weight", "params")

    def __init__(self, name: str, kind: str, cls_name: str | None, weight, params: list[tuple[str, Tensor]]) -> None:
        self.name, self.kind, self.cls_name, self.weight, self.params = name, kind, cls_name, weight, params


def _rows_of(inp: np.ndarray, bad: bool) -> str:
    """Which rows of a batch to look at: those holding NaN/inf (bad=True), or the one with the largest value."""
    flat = inp.reshape(len(inp), -1)
    if bad:
        rows = np.flatnonzero(~np.isfinite(flat).all(axis=1))
        shown = ", ".join(str(int(r)) for r in rows[:5]) + (", ..." if len(rows) > 5 else "")
        return f"row{'s' if len(rows) != 1 else ''} {shown} of the batch"
    return f"in row {int(np.abs(flat).max(axis=1).argmax())} of the batch"


class Doctor:
    """The training doctor: Doctor(model, every=20) or Doctor(params={"w1": w1, ...}); call step() after backward."""

    def __init__(
        self,
        model: Module | None = None,
        every: int = 20,
        *,
        params: Mapping[str, Tensor] | None = None,
        thresholds: Thresholds | None = None,
    ) -> None:
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"Doctor(every=...) must be a positive integer number of steps; got {every!r}")
        if model is not None and params is not None:
            raise ValueError("Doctor takes a model or params={...}, not both: pass the model alone")
        if model is None and params is None:
            raise TypeError("Doctor needs a model (an nn.Module) or params={'name': tensor, ...} for raw-tensor loops")
        self._every = every
        self._th = thresholds or Thresholds()
        self._raw = model is None
        self._layers: dict[str, _Layer] = {}
        self._all_params: list[tuple[str, str, Tensor]] = []  # (owner layer, parameter name, tensor)
        self._handles: list = []
        # per-step scratch, never saved: outputs of the last forward, statistics of the sampled forward
        self._recent: dict[str, tuple] = {}
        self._records: dict[str, dict] = {}
        self._snapshot: dict[str, np.ndarray] | None = None
        self._pre_update_cause: tuple[str | None, str] | None = None  # NaN located before this step's update
        self._reset_state()
        if self._raw:
            self._watch_tensors(params)
        else:
            self._watch_model(model)
        self._watch_optimizers()
        self._closed = False

    # ------------------------------------------------------------------ set-up
    def _watch_model(self, model) -> None:
        if not isinstance(model, Module):
            hint = " (for raw tensors use Doctor(params={'w1': w1, ...}))" if isinstance(model, Mapping) else ""
            raise TypeError(f"Doctor(model) expects an nn.Module, got {type(model).__name__}{hint}")
        for name, module in model.named_modules():
            label = name or type(module).__name__
            own = [(f"{name}.{p}" if name else p, t) for p, t in module._parameters.items() if t is not None]
            self._all_params.extend((label, pname, t) for pname, t in own)
            kind = module_kind(module, self._th)
            if kind is None:
                continue
            weight = module._parameters.get("weight") if kind in _WEIGHTED else None
            self._layers[label] = _Layer(label, kind, type(module).__name__, weight, own)
            self._handles.append(module.register_forward_hook(self._make_hook(label, kind)))

    def _watch_tensors(self, params) -> None:
        if not isinstance(params, Mapping):
            raise TypeError(f"Doctor(params=...) expects a dict of name -> tensor, got {type(params).__name__}")
        for name, t in params.items():
            if not isinstance(t, Tensor):
                raise TypeError(f"Doctor(params=...): {name!r} is a {type(t).__name__}, not a tensor")
            self._all_params.append((str(name), str(name), t))
            if t.ndim >= 2:
                self._layers[str(name)] = _Layer(str(name), "dense", None, t, [(str(name), t)])

    def _watch_optimizers(self) -> None:
        """Measure update sizes around every optimizer's step; the global hooks hold the doctor only weakly."""
        ref = weakref.ref(self)

        def before(optimizer, args, kwargs):
            doctor = ref()
            if doctor is not None:
                doctor._before_optimizer_step(optimizer)

        def after(optimizer, args, kwargs):
            doctor = ref()
            if doctor is not None:
                doctor._after_optimizer_step()

        handles = [register_optimizer_step_pre_hook(before), register_optimizer_step_post_hook(after)]
        self._handles.extend(handles)
        for handle in handles:
            weakref.finalize(self, handle.remove)  # a doctor dropped without close() leaves no global hook behind

    def _make_hook(self, name: str, kind: str):
        recent = self._recent

        def hook(module, args, output):
            if self._armed:
                self._record(name, kind, module, args, output)
            elif module.training:
                recent[name] = (args, output)  # only a reference, dropped at the next step(): lets a NaN be traced

        return hook

    def _reset_state(self) -> None:
        self._step = 0
        self._armed = True  # step 0 is sampled: the initial state is what bad_init judges
        self._order: list[str] = []
        self._lr: float | None = None
        self._init_checked = False
        self._pending: dict[str, float] | None = None
        self._memo: dict[str, Any] = {}
        self._loss = LossHistory(self._th.loss_window)
        self._act: dict[str, dict] = {}
        self._findings: dict[tuple, Finding] = {}

    # ------------------------------------------------------------------ properties
    @property
    def every(self) -> int:
        """Activations and gradients are sampled every this many steps."""
        return self._every

    @property
    def steps(self) -> int:
        """How many times step() has been called (the step a finding is dated by is 0-based)."""
        return self._step

    @property
    def thresholds(self) -> Thresholds:
        """The limits the checks use."""
        return self._th

    # ------------------------------------------------------------------ hooks
    def _record(self, name: str, kind: str, module, args: tuple, output) -> None:
        """Summarise one module's output on a sampled training forward (the first call of the step only)."""
        if not module.training or not _grad_state.enabled:
            return  # evaluation passes are not training steps
        self._recent[name] = (args, output)
        if name in self._records:
            return
        out = array_of(output)
        if out is None:
            return
        # a dense layer's input scale is only needed for the initialisation check on the first sampled step
        inp = array_of(args[0]) if args and kind == "dense" and not self._init_checked else None
        self._records[name] = summarise_output(kind, out, inp, self._th.saturation_margin)

    def _before_optimizer_step(self, optimizer) -> None:
        if self._closed:
            return
        if self._pre_update_cause is None and not self._has("nan") and self._forward_went_nonfinite():
            # locate it now, while the weights are still those the forward used: after the update they are
            # NaN too, and the cause would read as the update's
            self._pre_update_cause = self._locate_nan()
        if not self._armed:
            return
        ids = {id(p) for group in optimizer.param_groups for p in group["params"]}
        # layers that got no gradient signal (dead units, vanished gradients) say nothing about the learning rate
        self._snapshot = {
            name: layer.weight._data.copy()
            for name, layer in self._layers.items()
            if layer.weight is not None
            and id(layer.weight) in ids
            and layer.weight.grad is not None
            and layer.weight.grad._data.any()
        }
        self._lr = _lr_of(optimizer)

    def _after_optimizer_step(self) -> None:
        snapshot, self._snapshot = self._snapshot, None
        if not snapshot:
            return
        ratios = {}
        for name, before in snapshot.items():
            # weights far below their fan-in scale (e.g. zero-initialised) would make any update look huge
            floor = 0.25 * math.sqrt(before.size / fan_in(before.shape))
            size = max(norm(before), floor)
            change = norm(self._layers[name].weight._data - before)
            if math.isfinite(size) and math.isfinite(change):
                ratios[name] = change / size
        if ratios:
            self._pending = {**(self._pending or {}), **ratios}

    # ------------------------------------------------------------------ the step
    def step(self, loss, optimizer=None) -> None:
        """Record one training step; call it after loss.backward() (before or after optimizer.step())."""
        value = _loss_value(loss)
        if optimizer is not None:
            self._lr = _lr_of(optimizer)
        s = self._step
        self._loss.add(value)
        if s == 0:
            self._memo["first_loss"] = value
        elif not self._has("lr_too_high") and not self._has("nan"):  # every step: a spike can last one step
            finding = checks.loss_spike(self._memo.get("first_loss", math.nan), value, self._lr, s, self._th)
            if finding is not None:
                self._add(finding)
        sampled = s % self._every == 0
        norms: list[tuple[str, float]] = []
        nonfinite = not math.isfinite(value)
        if sampled:
            self._update_order()
            norms = self._gradient_norms()
            nonfinite = nonfinite or any(not math.isfinite(n) for _, n in norms)
            nonfinite = nonfinite or any(not rec["finite"] for rec in self._records.values())
        if sampled and not self._init_checked:
            self._init_checked = True
            self._check_init(s, self._forward_order())
        if nonfinite and not self._has("nan"):
            layer, cause = self._pre_update_cause or self._locate_nan()
            self._add(checks.nan(s, value, layer, cause))
        self._pre_update_cause = None
        if sampled and not self._has("nan"):  # once NaN/inf is in, every other number is meaningless
            self._sampled_checks(s, [(n, v) for n, v in norms if math.isfinite(v)])
        self._recent.clear()
        self._records.clear()
        self._step = s + 1
        self._armed = self._step % self._every == 0

    def _sampled_checks(self, s: int, norms: list[tuple[str, float]]) -> None:
        th = self._th
        order = self._forward_order()
        for name in order:
            rec = self._records.get(name)
            layer = self._layers[name]
            if rec is None or layer.kind not in _ACTIVATION_CHECKED or not rec["finite"] or "rms" not in rec:
                continue
            self._check_activation(s, layer, rec, order)
        for finding in checks.gradients(norms, self._memo, s, th, suffix="" if self._raw else ".weight"):
            self._add(finding)
        ratios, self._pending = self._pending, None
        # the first steps move freshly initialised weights a lot by nature; judge the update size after the warm-up
        if ratios and s >= th.loss_warmup:
            finding = checks.update_ratio(ratios, self._lr, self._memo, s, th)
            if finding is not None:
                self._add(finding)
        finding = checks.loss_trend(self._loss, self._memo.get("largest_ratio"), self._lr, s, th)
        if finding is not None:
            self._add(finding)

    def _check_activation(self, s: int, layer: _Layer, rec: dict, order: list[str]) -> None:
        th = self._th
        hist = self._act.setdefault(layer.name, {"masks": [], "examples": [], "saturated": []})
        feeder = self._feeder(layer.name, order)
        if layer.kind == "relu":
            alive = rec["alive"]
            if hist["masks"] and hist["masks"][-1].shape != alive.shape:
                hist["masks"], hist["examples"] = [], []  # the layer's width changed: start pooling again
            hist["masks"] = [*hist["masks"], alive][-th.activation_window :]
            hist["examples"] = [*hist["examples"], int(rec.get("batch", 0))][-th.activation_window :]
            if len(hist["masks"]) < th.activation_min_samples:
                return
            pooled = np.logical_or.reduce(hist["masks"])
            dead = float(1.0 - pooled.mean())
            examples = sum(hist["examples"])
            finding = checks.dead_relu(
                layer.name,
                layer.cls_name,
                dead,
                pooled.size,
                len(hist["masks"]),
                examples,
                feeder,
                s,
                th,
                rec.get("unit", "units"),
            )
        else:
            hist["saturated"] = [*hist["saturated"], rec["saturated"]][-th.activation_window :]
            if len(hist["saturated"]) < th.activation_min_samples or self._is_output(layer.name, order):
                return  # a confident classifier's output sigmoid is saturated by design
            fraction = float(np.mean(hist["saturated"]))
            finding = checks.saturation(
                layer.name, layer.cls_name, layer.kind, fraction, len(hist["saturated"]), feeder, s, th
            )
        if finding is not None:
            self._add(finding)

    def _check_init(self, s: int, order: list[str]) -> None:
        dense = [name for name in order if self._layers[name].kind == "dense"]
        weighted = [name for name in order if self._layers[name].kind in _WEIGHTED]
        for name in dense:
            layer = self._layers[name]
            w = layer.weight._data
            if w.size == 0 or not is_finite(w):
                continue
            rows = w.reshape(w.shape[0], -1)
            stats = {
                "std": float(w.std(dtype=np.float64)),
                "mean": float(w.mean(dtype=np.float64)),
                "all_zero": not w.any(),
                "rows_identical": bool((rows == rows[:1]).all()),
                "fan_in": fan_in(w.shape),
                "shape": tuple(int(d) for d in w.shape),
            }
            if self._raw and w.ndim == 2:
                stats["fan_candidates"] = [int(w.shape[1]), int(w.shape[0])]
            rec = self._records.get(name) or {}
            gain = None
            if rec.get("input_rms") and "rms" in rec:
                gain = rec["rms"] / rec["input_rms"]
            finding = checks.bad_init(name, layer.cls_name, stats, gain, name == weighted[-1], s, self._th)
            if finding is not None:
                self._add(finding)

    # ------------------------------------------------------------------ helpers
    def _update_order(self) -> None:
        """Learn the forward order of the watched modules from the order their hooks fired."""
        for name in self._records:
            if name not in self._order:
                self._order.append(name)

    def _forward_order(self) -> list[str]:
        seen = set(self._order)
        return [*self._order, *(name for name in self._layers if name not in seen)]

    def _feeder(self, name: str, order: list[str]) -> str | None:
        """The parametrised layer that runs just before this activation, if any."""
        idx = order.index(name)
        for prev in reversed(order[:idx]):
            if self._layers[prev].kind in _WEIGHTED:
                return prev
        return None

    def _is_output(self, name: str, order: list[str]) -> bool:
        """Whether no parametrised layer runs after this activation (it produces the model's output)."""
        idx = order.index(name)
        return not any(self._layers[n].kind in _WEIGHTED for n in order[idx + 1 :])

    def _gradient_norms(self) -> list[tuple[str, float]]:
        norms = []
        for name in self._forward_order():
            w = self._layers[name].weight
            if w is not None and w.grad is not None:
                norms.append((name, norm(w.grad._data)))
        return norms

    def _params_in_order(self) -> list[tuple[str, str, Tensor]]:
        rank = {name: i for i, name in enumerate(self._forward_order())}
        return sorted(self._all_params, key=lambda item: rank.get(item[0], len(rank)))

    def _forward_went_nonfinite(self) -> bool:
        """Whether the last watched layer of the last training forward put out NaN/inf (cheap: one output)."""
        if not self._recent:
            return False
        out = array_of(next(reversed(self._recent.values()))[1])
        return out is not None and not is_finite(out)

    def _locate_nan(self) -> tuple[str | None, str]:
        """The first layer (in forward order) where NaN/inf shows, and why, from the last forward's outputs."""
        watched_any = bool(self._recent)
        for name in self._forward_order():
            if name not in self._recent:
                continue
            args, output = self._recent[name]
            out = array_of(output)
            if out is None or is_finite(out):
                continue
            layer = self._layers[name]
            where = f"layer {name} ({layer.cls_name})"
            # the input is what this forward really saw; the weights may have been updated since
            inp = array_of(args[0]) if args else None
            if inp is not None and not is_finite(inp):
                first = name == next(iter(self._recent))
                origin = (
                    f"the input batch itself contains NaN/inf (check the data: {_rows_of(inp, bad=True)})"
                    if first
                    else "it came in"
                )
                return name, f"{where} is the first watched layer whose output is NaN/inf; {origin}"
            bad = [p for p, t in layer.params if not is_finite(t._data)]
            if bad:
                return name, f"the weights of {where} ({', '.join(bad)}) are NaN/inf, written by an optimizer update"
            top = float(np.abs(inp).max()) if inp is not None and inp.size else float("nan")
            at = f", {_rows_of(inp, bad=False)}" if inp is not None and inp.size and inp.ndim > 1 else ""
            return name, (
                f"{where} is the first layer whose output is NaN/inf: it overflowed on finite inputs "
                f"(largest |input| {top:.3g}{at})"
            )
        for owner, pname, t in self._params_in_order():
            if not is_finite(t._data):
                return owner, f"the weights {pname} are NaN/inf, written by an optimizer update"
        for owner, pname, t in self._params_in_order():
            if t.grad is not None and not is_finite(t.grad._data):
                return owner, (
                    f"the gradient of {pname} is NaN/inf while the weights"
                    + (" and activations" if watched_any else "")
                    + " are finite: the backward pass of an op (sqrt or log at 0, a division by 0) produced it"
                )
        huge = self._largest_output()
        if huge is not None and huge[1] > _OVERFLOW_RISK:
            name, top = huge
            return name, (
                f"every watched value is finite, but the outputs of layer {name} ({self._layers[name].cls_name}) "
                f"reach {top:.3g}, so the loss overflowed: the weights have blown up (see exploding gradients)"
            )
        checked = "watched activations, weights and gradients" if watched_any else "weights and gradients"
        return None, (
            f"all {checked} are finite, so the loss computation itself produced it, e.g. the log of zero or "
            "of a negative number, a division by zero, or the square root of a negative number"
        )

    def _largest_output(self) -> tuple[str, float] | None:
        """The last watched output of the forward pass and its largest magnitude."""
        for name in reversed(self._forward_order()):
            if name in self._recent:
                out = array_of(self._recent[name][1])
                if out is not None and out.size and out.dtype.kind == "f":
                    return name, float(np.abs(out).max())
        return None

    def _has(self, kind: str) -> bool:
        return any(k[0] == kind for k in self._findings)

    def _add(self, finding: Finding) -> None:
        """Keep one finding per (kind, layer): the first step it was seen, the latest numbers."""
        key = (finding.kind, None) if finding.kind == "nan" else (finding.kind, finding.layer)
        finding.data["last_step"] = finding.step
        old = self._findings.get(key)
        if old is not None:
            finding.step = old.step
        self._findings[key] = finding

    # ------------------------------------------------------------------ results
    def findings(self) -> list[Finding]:
        """The findings so far, one per (kind, layer), in the order first seen."""
        return [Finding.from_dict(f.to_dict()) for f in self._findings.values()]

    def report(self, advice: Mapping[str, str] | None = None) -> str:
        """A plain-words report, or a line saying no problems were found. Findings of one kind and severity
        share a paragraph (the first one's numbers, then the other layers); `advice` (kind -> text) replaces
        the suggestion, e.g. with command-line flags."""
        scope = f"{self._step} step{'s' if self._step != 1 else ''} (sampled every {self._every})"
        found = list(self._findings.values())
        if not found:
            return f"Training doctor: no problems found in {scope}."
        groups: dict[tuple[str, str], list[Finding]] = {}
        for f in found:
            groups.setdefault((f.kind, f.severity), []).append(f)
        lines = [f"Training doctor: {len(found)} problem{'s' if len(found) > 1 else ''} found in {scope}:"]
        for i, group in enumerate(groups.values(), start=1):
            first = group[0]
            text = str(first)
            if advice and first.kind in advice:
                text = text[: text.rindex(" Try: ")] + f" Try: {advice[first.kind]}"
            others = [f.layer for f in group[1:] if f.layer is not None]
            if others:
                text += f" The same in layer{'s' if len(others) > 1 else ''} {', '.join(others)}."
            lines.append("")
            lines.append(textwrap.fill(text, width=100, initial_indent=f"{i}. ", subsequent_indent="   "))
        return "\n".join(lines)

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        """Remove every hook this doctor installed (module and optimizer hooks); the findings stay readable."""
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        self._recent.clear()
        self._records.clear()
        self._closed = True

    def __enter__(self) -> Doctor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        what = "tensors" if self._raw else "layers"
        return (
            f"Doctor({len(self._layers)} {what}, every={self._every}, steps={self._step}, "
            f"findings={len(self._findings)}{', closed' if self._closed else ''})"
        )

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """Everything a resumed run needs to reach the same findings, as plain dicts/lists/numbers/strings."""
        return {
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "every": self._every,
            "step": self._step,
            "order": list(self._order),
            "lr": self._lr,
            "init_checked": self._init_checked,
            "pending_update": None if self._pending is None else dict(self._pending),
            "memo": _plain(self._memo),
            "loss": self._loss.state_dict(),
            "activations": {
                name: {
                    "units": int(h["masks"][0].size) if h["masks"] else 0,
                    "masks": [pack_mask(m) for m in h["masks"]],
                    "examples": list(h["examples"]),
                    "saturated": list(h["saturated"]),
                }
                for name, h in self._act.items()
            },
            "findings": [f.to_dict() for f in self._findings.values()],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what state_dict() returned (on a Doctor watching the same layers)."""
        if not isinstance(state, Mapping) or state.get("format") != STATE_FORMAT:
            raise ValueError(
                "Doctor.load_state_dict: not a doctor state (expected the dict Doctor.state_dict() returns)"
            )
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"Doctor.load_state_dict: state version {state.get('version')!r} is not {STATE_VERSION}")
        unknown = [n for n in [*state["order"], *state["activations"]] if n not in self._layers]
        if unknown:
            raise ValueError(
                f"Doctor.load_state_dict: the state names layer(s) {', '.join(sorted(set(unknown)))} that this "
                f"doctor does not watch (it watches {', '.join(self._layers) or 'none'}); build the same model first"
            )
        self._reset_state()
        self._step = int(state["step"])
        self._armed = self._step % self._every == 0
        self._order = list(state["order"])
        self._lr = state["lr"]
        self._init_checked = bool(state["init_checked"])
        self._pending = None if state["pending_update"] is None else dict(state["pending_update"])
        self._memo = _plain(state["memo"])
        self._loss.load_state_dict(state["loss"])
        for name, h in state["activations"].items():
            self._act[name] = {
                "masks": [unpack_mask(m, h["units"]) for m in h["masks"]],
                "examples": [int(e) for e in h["examples"]],
                "saturated": [float(v) for v in h["saturated"]],
            }
        for d in state["findings"]:
            f = Finding.from_dict(d)
            self._findings[("nan", None) if f.kind == "nan" else (f.kind, f.layer)] = f


def _loss_value(loss) -> float:
    """The loss as a Python float (the mean, for a loss that was not reduced)."""
    if isinstance(loss, Tensor):
        a = loss._data
        return float(a.reshape(-1)[0]) if a.size == 1 else float(np.mean(a, dtype=np.float64))
    if isinstance(loss, (int, float, np.number)) and not isinstance(loss, bool):
        return float(loss)
    raise TypeError(f"doctor.step(loss): loss must be a tensor or a number, got {type(loss).__name__}")


def _lr_of(optimizer) -> float | None:
    """The first parameter group's learning rate, as a float."""
    groups = getattr(optimizer, "param_groups", None)
    if not groups:
        raise TypeError(f"doctor.step(loss, optimizer): expected an optimizer, got {type(optimizer).__name__}")
    lr = groups[0].get("lr")
    return None if lr is None else float(lr)


def _plain(value):
    """A copy made of plain Python values (NumPy scalars become floats/ints)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
