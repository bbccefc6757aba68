"""Recurrent layers (RNN, LSTM, GRU, their cells) and nn.utils.rnn against torch with the same weights."""

import warnings

import numpy as np
import pytest
import torch

import ember
from ember.autograd import gradcheck

rng = np.random.default_rng(0)
KINDS = ["RNN", "LSTM", "GRU"]


def pair(kind: str, *args, **kwargs):
    """The same module in both libraries, ember's state_dict copied from torch's."""
    tm = getattr(torch.nn, kind)(*args, **kwargs)
    em = getattr(ember.nn, kind)(*args, **kwargs)
    em.load_state_dict({k: ember.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()})
    return em, tm


def flat(out) -> list:
    """The tensors of a nested (output, h_n) / (output, (h_n, c_n)) result, PackedSequences by their data."""
    if isinstance(out, (ember.nn.utils.rnn.PackedSequence, torch.nn.utils.rnn.PackedSequence)):
        return [out.data]
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in flat(o)]
    return [out]


def both(arrays):
    """ember and torch leaves (requiring grad) holding the same float arrays."""
    e = [ember.tensor(a, requires_grad=True) for a in arrays]
    t = [torch.tensor(a, requires_grad=True) for a in arrays]
    return e, t


def compare(em, tm, e_args, t_args, e_leaves, t_leaves, atol=1e-5):
    """Forward both, compare every output; backward a random weighting of all, compare every gradient."""
    eo, to = flat(em(*e_args)), flat(tm(*t_args))
    assert len(eo) == len(to)
    loss_e, loss_t = 0, 0
    for e, t in zip(eo, to):
        assert tuple(e.shape) == tuple(t.shape)
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), atol=atol, rtol=1e-5)
        w = rng.standard_normal(tuple(t.shape)).astype(np.float32)
        loss_e = loss_e + (e * ember.tensor(w)).sum()
        loss_t = loss_t + (t * torch.tensor(w)).sum()
    loss_e.backward()
    loss_t.backward()
    for e, t in zip(e_leaves, t_leaves):
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), atol=atol * 10, rtol=1e-4)
    for (n, pe), (m, pt) in zip(em.named_parameters(), tm.named_parameters()):
        assert n == m
        np.testing.assert_allclose(pe.grad.numpy(), pt.grad.numpy(), atol=atol * 10, rtol=1e-4, err_msg=n)


CONFIGS = [
    dict(),
    dict(num_layers=2),
    dict(bidirectional=True),
    dict(num_layers=2, bidirectional=True, batch_first=True),
    dict(bias=False),
    dict(num_layers=2, batch_first=True, bias=False, bidirectional=True),
]


def _hidden_arrays(kind, kw, batch, unbatched=False):
    layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    h = kw.get("proj_size") or 5
    lead = (layers,) if unbatched else (layers, batch)
    hs = [rng.standard_normal(lead + (h,)).astype(np.float32)]
    if kind == "LSTM":
        hs.append(rng.standard_normal(lead + (5,)).astype(np.float32))
    return hs


@pytest.mark.parametrize("with_h0", [False, True])
@pytest.mark.parametrize("kw", CONFIGS, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "default")
@pytest.mark.parametrize("kind", KINDS)
def test_layers_match_torch(kind, kw, with_h0):
    em, tm = pair(kind, 3, 5, **kw)
    shape = (2, 6, 3) if kw.get("batch_first") else (6, 2, 3)
    arrays = [rng.standard_normal(shape).astype(np.float32)]
    if with_h0:
        arrays += _hidden_arrays(kind, kw, 2)
    e, t = both(arrays)

    def args(xs):
        if not with_h0:
            return [xs[0]]
        return [xs[0], tuple(xs[1:]) if kind == "LSTM" else xs[1]]

    compare(em, tm, args(e), args(t), e, t)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_relu_and_tanh(nonlinearity):
    em, tm = pair("RNN", 4, 5, 2, nonlinearity=nonlinearity, bidirectional=True)
    e, t = both([rng.standard_normal((7, 3, 4)).astype(np.float32)])
    compare(em, tm, e, t, e, t)
    assert em.nonlinearity == nonlinearity and em.mode == tm.mode


@pytest.mark.parametrize("with_h0", [False, True])
@pytest.mark.parametrize("kind", KINDS)
def test_unbatched_input(kind, with_h0):
    kw = dict(num_layers=2, bidirectional=True, batch_first=True)
    em, tm = pair(kind, 3, 5, **kw)
    arrays = [rng.standard_normal((6, 3)).astype(np.float32)]
    if with_h0:
        arrays += _hidden_arrays(kind, kw, None, unbatched=True)
    e, t = both(arrays)

    def args(xs):
        return [xs[0]] if not with_h0 else [xs[0], tuple(xs[1:]) if kind == "LSTM" else xs[1]]

    compare(em, tm, args(e), args(t), e, t)


@pytest.mark.parametrize("batch_first", [False, True])
def test_lstm_projection(batch_first):
    kw = dict(num_layers=2, bidirectional=True, proj_size=3, batch_first=batch_first)
    em, tm = pair("LSTM", 4, 5, **kw)
    assert [tuple(p.shape) for p in em.parameters()] == [tuple(p.shape) for p in tm.parameters()]
    shape = (2, 6, 4) if batch_first else (6, 2, 4)
    e, t = both([rng.standard_normal(shape).astype(np.float32), *_hidden_arrays("LSTM", kw, 2)])
    compare(em, tm, [e[0], (e[1], e[2])], [t[0], (t[1], t[2])], e, t)


# ---------------------------------------------------------------------------- packed sequences
@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("kind", KINDS)
def test_packed_input_matches_torch(kind, enforce_sorted):
    lengths = [6, 4, 4, 1] if enforce_sorted else [4, 6, 1, 4]
    kw = dict(num_layers=2, bidirectional=True, batch_first=True)
    em, tm = pair(kind, 3, 5, **kw)
    e, t = both([rng.standard_normal((4, 6, 3)).astype(np.float32), *_hidden_arrays(kind, kw, 4)])

    def args(lib, xs):
        packed = lib.nn.utils.rnn.pack_padded_sequence(xs[0], lengths, batch_first=True, enforce_sorted=enforce_sorted)
        return [packed, tuple(xs[1:]) if kind == "LSTM" else xs[1]]

    compare(em, tm, args(ember, e), args(torch, t), e, t)
    out = em(args(ember, e)[0])[0]
    padded, lens = ember.nn.utils.rnn.pad_packed_sequence(out, batch_first=True)
    t_padded, t_lens = torch.nn.utils.rnn.pad_packed_sequence(tm(args(torch, t)[0])[0], batch_first=True)
    np.testing.assert_allclose(padded.detach().numpy(), t_padded.detach().numpy(), atol=1e-5)
    assert lens.tolist() == t_lens.tolist() == lengths


def test_pack_pad_round_trip_and_fields():
    R = ember.nn.utils.rnn
    T = torch.nn.utils.rnn
    x = rng.standard_normal((5, 3, 2)).astype(np.float32)
    for lengths, sorted_ in [([5, 3, 2], True), ([2, 5, 3], False)]:
        e, t = both([x])
        pe = R.pack_padded_sequence(e[0], lengths, enforce_sorted=sorted_)
        pt = T.pack_padded_sequence(t[0], torch.tensor(lengths), enforce_sorted=sorted_)
        np.testing.assert_array_equal(pe.data.detach().numpy(), pt.data.detach().numpy())
        for field in ("batch_sizes", "sorted_indices", "unsorted_indices"):
            a, b = getattr(pe, field), getattr(pt, field)
            assert (a is None) == (b is None) and (a is None or a.tolist() == b.tolist()), field
        assert pe.batch_sizes.dtype == ember.int64
        for kw in [dict(), dict(batch_first=True), dict(padding_value=-1.0, total_length=7)]:
            (ep, el), (tp, tl) = R.pad_packed_sequence(pe, **kw), T.pad_packed_sequence(pt, **kw)
            np.testing.assert_array_equal(ep.detach().numpy(), tp.detach().numpy())
            assert el.tolist() == tl.tolist() and el.dtype == ember.int64
        w = rng.standard_normal(tuple(tp.shape)).astype(np.float32)
        (ep * ember.tensor(w)).sum().backward()
        (tp * torch.tensor(w)).sum().backward()
        np.testing.assert_array_equal(e[0].grad.numpy(), t[0].grad.numpy())
    assert repr(R.pack_sequence([ember.ones(2), ember.ones(1)])) == repr(
        T.pack_sequence([torch.ones(2), torch.ones(1)])
    )


@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pad_sequence(batch_first, padding_side):
    arrays = [rng.standard_normal((n, 2)).astype(np.float32) for n in (3, 5, 1)]
    e, t = both(arrays)
    kw = dict(batch_first=batch_first, padding_value=9.0, padding_side=padding_side)
    out_e = ember.nn.utils.rnn.pad_sequence(e, **kw)
    out_t = torch.nn.utils.rnn.pad_sequence(t, **kw)
    np.testing.assert_array_equal(out_e.detach().numpy(), out_t.detach().numpy())
    out_e.sum().backward()
    out_t.sum().backward()
    for a, b in zip(e, t):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


def test_pack_sequence_unpack_unpad():
    R = ember.nn.utils.rnn
    T = torch.nn.utils.rnn
    arrays = [rng.standard_normal((n, 3)).astype(np.float32) for n in (2, 4, 3)]
    pe = R.pack_sequence([ember.tensor(a) for a in arrays], enforce_sorted=False)
    pt = T.pack_sequence([torch.tensor(a) for a in arrays], enforce_sorted=False)
    np.testing.assert_array_equal(pe.data.numpy(), pt.data.numpy())
    for a, b in zip(R.unpack_sequence(pe), arrays):
        np.testing.assert_array_equal(a.numpy(), b)
    padded = R.pad_sequence([ember.tensor(a) for a in arrays])
    for a, b in zip(R.unpad_sequence(padded, ember.tensor([2, 4, 3])), arrays):
        np.testing.assert_array_equal(a.numpy(), b)
    assert R.invert_permutation(None) is None
    assert R.invert_permutation(ember.tensor([2, 0, 1])).tolist() == [1, 2, 0]
    assert pe.double().data.dtype == ember.float64 and pe.to(ember.float32) is pe and not pe.is_cuda


def test_base_classes_and_packed_sequence_type():
    assert isinstance(ember.nn.LSTM(2, 3), ember.nn.RNNBase) and isinstance(ember.nn.GRU(2, 3), ember.nn.RNNBase)
    assert isinstance(ember.nn.GRUCell(2, 3), ember.nn.RNNCellBase)
    PS = ember.nn.utils.rnn.PackedSequence
    data, sizes = ember.tensor([[1.0], [2.0], [3.0]]), ember.tensor([2, 1])
    for packed in (PS(data, sizes), PS((data, sizes)), PS(data, sizes, ember.tensor([1, 0]))):
        assert isinstance(packed, tuple) and packed.batch_sizes is sizes
    t = torch.nn.utils.rnn.PackedSequence(
        torch.tensor([[1.0], [2.0], [3.0]]), torch.tensor([2, 1]), torch.tensor([1, 0])
    )
    assert repr(PS(data, sizes, ember.tensor([1, 0]))) == repr(t)
    data_e, sizes_e, sorted_e, unsorted_e = PS(data, sizes, ember.tensor([1, 0]))
    assert unsorted_e.tolist() == t.unsorted_indices.tolist()


def _torch_error(fn_t):
    try:
        fn_t()
    except Exception as e:  # noqa: BLE001 - torch's exception is the reference
        return type(e), str(e)
    raise AssertionError("torch did not raise")


def _same_error(fn_e, fn_t):
    kind, message = _torch_error(fn_t)
    with pytest.raises(kind) as info:
        fn_e()
    assert str(info.value) == message


def test_packing_errors_match_torch():
    for name, args, kw in [
        ("pack_padded_sequence", lambda lib: (lib.zeros(5, 3, 2), [2, 3, 1]), {}),
        ("pack_padded_sequence", lambda lib: (lib.zeros(5, 3, 2), [2, 0, 1]), dict(enforce_sorted=False)),
        ("pack_padded_sequence", lambda lib: (lib.zeros(5, 3, 2), [5, 3]), {}),
        ("pack_padded_sequence", lambda lib: (lib.zeros(5, 3, 2), lib.tensor([[5, 3, 1]])), {}),
        ("pad_sequence", lambda lib: ([lib.ones(2)],), dict(padding_side="middle")),
    ]:
        _same_error(
            lambda name=name, args=args, kw=kw: getattr(ember.nn.utils.rnn, name)(*args(ember), **kw),
            lambda name=name, args=args, kw=kw: getattr(torch.nn.utils.rnn, name)(*args(torch), **kw),
        )
    pe = ember.nn.utils.rnn.pack_sequence([ember.ones(3), ember.ones(2)])
    pt = torch.nn.utils.rnn.pack_sequence([torch.ones(3), torch.ones(2)])
    _same_error(
        lambda: ember.nn.utils.rnn.pad_packed_sequence(pe, total_length=2),
        lambda: torch.nn.utils.rnn.pad_packed_sequence(pt, total_length=2),
    )


# ---------------------------------------------------------------------------- cells
CELLS = ["RNNCell", "LSTMCell", "GRUCell"]


@pytest.mark.parametrize("shape", [(4, 3), (3,)])
@pytest.mark.parametrize("with_h", [False, True])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("kind", CELLS)
def test_cells_match_torch(kind, bias, with_h, shape):
    extra = dict(nonlinearity="relu") if kind == "RNNCell" and not bias else {}
    em, tm = pair(kind, 3, 5, bias=bias, **extra)
    lead = shape[:-1]
    arrays = [rng.standard_normal(shape).astype(np.float32)]
    if with_h:
        arrays += [rng.standard_normal(lead + (5,)).astype(np.float32) for _ in range(2 if kind == "LSTMCell" else 1)]
    e, t = both(arrays)

    def args(xs):
        return [xs[0]] if not with_h else [xs[0], tuple(xs[1:]) if kind == "LSTMCell" else xs[1]]

    compare(em, tm, args(e), args(t), e, t)


def test_cell_loop_equals_layer():
    """An LSTMCell stepped by hand gives the LSTM layer's outputs (same weights, torch's own identity)."""
    cell = ember.nn.LSTMCell(3, 4)
    layer = ember.nn.LSTM(3, 4)
    layer.load_state_dict({k + "_l0": v for k, v in cell.state_dict().items()})
    x = ember.randn(5, 2, 3)
    h = c = ember.zeros(2, 4)
    outs = []
    for t in range(5):
        h, c = cell(x[t], (h, c))
        outs.append(h)
    out, (hn, cn) = layer(x)
    np.testing.assert_allclose(ember.stack(outs).detach().numpy(), out.detach().numpy(), atol=1e-6)
    np.testing.assert_allclose(cn[0].detach().numpy(), c.detach().numpy(), atol=1e-6)


# ---------------------------------------------------------------------------- gradcheck
@pytest.mark.parametrize("kind", KINDS)
def test_gradcheck_float64(kind):
    m = getattr(ember.nn, kind)(2, 3, num_layers=2, bidirectional=True, dtype=ember.float64)
    x = ember.randn(4, 2, 2, dtype=ember.float64, requires_grad=True)
    params = list(m.parameters())

    # gradients of the input and every parameter: the module run with its parameters swapped for the inputs
    def run(x, *weights):
        names = [n for n, _ in m.named_parameters()]
        saved = {n: m._parameters[n] for n in names}
        try:
            for n, w in zip(names, weights):
                m._parameters[n] = w
            return tuple(flat(m(x)))
        finally:
            m._parameters.update(saved)

    weights = [p.detach().clone().requires_grad_(True) for p in params]
    assert gradcheck(run, (x, *weights))
    cell = getattr(ember.nn, kind + "Cell")(2, 3, dtype=ember.float64)
    h = ember.randn(3, 3, dtype=ember.float64, requires_grad=True)
    xi = ember.randn(3, 2, dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda xi, h: tuple(flat(cell(xi, (h, h * 2) if kind == "LSTM" else h))), (xi, h))


# ---------------------------------------------------------------------------- init, names, reprs
MODULES = [
    ("RNN", (3, 5), {}),
    ("RNN", (3, 5, 2), dict(nonlinearity="relu", bidirectional=True, bias=False)),
    ("LSTM", (3, 5, 2), dict(bidirectional=True, batch_first=True, dropout=0.25)),
    ("LSTM", (3, 5, 2), dict(proj_size=2, bidirectional=True)),
    ("GRU", (4, 6, 3), dict(bidirectional=True)),
    ("GRU", (4, 6), dict(bias=False, batch_first=True)),
    ("RNNCell", (3, 5), dict(nonlinearity="relu")),
    ("RNNCell", (3, 5), dict(bias=False)),
    ("LSTMCell", (3, 5), {}),
    ("GRUCell", (3, 5), dict(bias=False)),
]


@pytest.mark.parametrize("kind,args,kw", MODULES)
def test_default_init_names_and_repr_match_torch(kind, args, kw):
    torch.manual_seed(7)
    tm = getattr(torch.nn, kind)(*args, **kw)
    ember.manual_seed(7)
    em = getattr(ember.nn, kind)(*args, **kw)
    assert repr(em) == repr(tm)
    assert list(em.state_dict()) == list(tm.state_dict())
    for (n, pe), (_, pt) in zip(em.named_parameters(), tm.named_parameters()):
        assert tuple(pe.shape) == tuple(pt.shape), n
        np.testing.assert_array_equal(pe.detach().numpy(), pt.detach().numpy(), err_msg=n)
    if not kind.endswith("Cell"):
        assert em._flat_weights_names == tm._flat_weights_names
        assert [[tuple(p.shape) for p in ws] for ws in em.all_weights] == [
            [tuple(p.shape) for p in ws] for ws in tm.all_weights
        ]
        em.flatten_parameters()
    # the same stream goes on identically after construction
    np.testing.assert_array_equal(ember.rand(3).numpy(), torch.rand(3).numpy())


def test_float64_and_state_dict_from_torch():
    tm = torch.nn.GRU(3, 4, dtype=torch.float64)
    em = ember.nn.GRU(3, 4, dtype=ember.float64)
    assert all(p.dtype == ember.float64 for p in em.parameters())
    em.load_state_dict({k: ember.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    x = rng.standard_normal((3, 2, 3))
    np.testing.assert_allclose(em(ember.tensor(x))[0].detach().numpy(), tm(torch.tensor(x))[0].detach().numpy())
    assert em(ember.tensor(x))[0].dtype == ember.float64


def test_whole_module_saved_by_either_library_loads_in_the_other(tmp_path):
    torch.save({"rnn": torch.nn.LSTM(2, 3, 2, bidirectional=True)}, tmp_path / "t.pt")
    em = ember.load(tmp_path / "t.pt", weights_only=False)["rnn"]
    tm = torch.load(tmp_path / "t.pt", weights_only=False)["rnn"]
    assert isinstance(em, ember.nn.LSTM) and repr(em) == repr(tm)
    x = rng.standard_normal((4, 1, 2)).astype(np.float32)
    np.testing.assert_allclose(
        em(ember.tensor(x))[0].detach().numpy(), tm(torch.tensor(x))[0].detach().numpy(), atol=1e-6
    )
    ember.save(ember.nn.GRU(2, 3), tmp_path / "e.pt")
    back = torch.load(tmp_path / "e.pt", weights_only=False)
    assert isinstance(back, torch.nn.GRU) and back(torch.zeros(4, 1, 2))[0].shape == (4, 1, 3)


# ---------------------------------------------------------------------------- errors
CONSTRUCTION_ERRORS = [
    ("RNN", (3, 4), dict(nonlinearity="sigmoid")),
    ("GRU", (3, 4), dict(proj_size=2)),
    ("RNN", (3, 4), dict(proj_size=2)),
    ("LSTM", (3, 4), dict(proj_size=4)),
    ("LSTM", (3, 4), dict(proj_size=-1)),
    ("LSTM", (3, 0), {}),
    ("LSTM", (3, 4, 0), {}),
    ("GRU", (3, 4), dict(dropout=1.5)),
    ("LSTM", (3, 4.0), {}),
]


@pytest.mark.parametrize("kind,args,kw", CONSTRUCTION_ERRORS)
def test_construction_errors_match_torch(kind, args, kw):
    _same_error(lambda: getattr(ember.nn, kind)(*args, **kw), lambda: getattr(torch.nn, kind)(*args, **kw))


def test_dropout_with_one_layer_warns_as_torch():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1") as rec:
        ember.nn.LSTM(3, 4, dropout=0.5)
    with warnings.catch_warnings(record=True) as trec:
        warnings.simplefilter("always")
        torch.nn.LSTM(3, 4, dropout=0.5)
    assert str(rec[0].message) == str(trec[0].message)


def _call_errors(lib):
    lstm = lib.nn.LSTM(3, 4, 2)
    gru = lib.nn.GRU(3, 4)
    rnn = lib.nn.RNN(3, 4, batch_first=True)
    cell = lib.nn.LSTMCell(3, 4)
    z = lib.zeros
    return [
        lambda: lstm(z(5, 2, 2)),
        lambda: lstm(z(5, 2, 2, 1)),
        lambda: lstm(z(5)),
        lambda: rnn(z(5, 2, 2, 1)),
        lambda: gru(z(5, 2, 3, 3)),
        lambda: lstm(z(5, 2, 3), (z(1, 2, 4), z(2, 2, 4))),
        lambda: lstm(z(5, 2, 3), (z(2, 2, 4), z(2, 3, 4))),
        lambda: lstm(z(5, 3), (z(2, 2, 4), z(2, 3, 4))),
        lambda: lstm(z(5, 2, 3), (z(2, 4), z(2, 4))),
        lambda: gru(z(5, 2, 3), z(2, 2, 4)),
        lambda: gru(z(5, 3), z(1, 2, 4)),
        lambda: gru(z(5, 2, 3), z(1, 4)),
        lambda: rnn(z(2, 5, 3), z(1, 5, 4)),
        lambda: cell(z(2, 5)),
        lambda: cell(z(2, 3, 1)),
        lambda: cell(z(2, 3), (z(3, 4), z(3, 4))),
        lambda: cell(z(2, 3), (z(2, 5), z(2, 4))),
        lambda: cell(z(3), (z(2, 4), z(2, 4))),
        lambda: lib.nn.RNNCell(3, 4)(z(2, 3), z(3, 4)),
        lambda: lib.nn.GRUCell(3, 4)(z(2, 3, 3)),
        lambda: lib.nn.RNNCell(3, 4, nonlinearity="gelu")(z(2, 3)),
    ]


@pytest.mark.parametrize("i", range(len(_call_errors(torch))))
def test_input_errors_match_torch(i):
    _same_error(_call_errors(ember)[i], _call_errors(torch)[i])


# ---------------------------------------------------------------------------- dropout, training
def test_dropout_between_layers_follows_torch_stream():
    em, tm = pair("LSTM", 3, 5, 3, dropout=0.5)
    x = rng.standard_normal((4, 2, 3)).astype(np.float32)
    torch.manual_seed(3)
    ember.manual_seed(3)
    out_t = tm(torch.tensor(x))[0]
    out_e = em(ember.tensor(x))[0]
    np.testing.assert_allclose(out_e.detach().numpy(), out_t.detach().numpy(), atol=1e-5)
    em.eval()
    tm.eval()
    np.testing.assert_allclose(
        em(ember.tensor(x))[0].detach().numpy(), tm(torch.tensor(x))[0].detach().numpy(), atol=1e-5
    )
    np.testing.assert_array_equal(em(ember.tensor(x))[0].detach().numpy(), em(ember.tensor(x))[0].detach().numpy())


def _tagger(lib, kind):
    """The NLP tutorial's tagger: embeddings, a recurrent layer, a linear layer, log-softmax over the tags."""
    nn = lib.nn

    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(9, 6)
            self.rnn = getattr(nn, kind)(6, 7, num_layers=2, bidirectional=True)
            self.out = nn.Linear(14, 3)

        def forward(self, sentence):
            emb = self.embed(sentence)
            out, _ = self.rnn(emb.view(len(sentence), 1, -1))
            return nn.functional.log_softmax(self.out(out.view(len(sentence), -1)), dim=1)

    return Tagger()


@pytest.mark.parametrize("kind", KINDS)
def test_training_follows_torch_step_by_step(kind):
    torch.manual_seed(0)
    tm = _tagger(torch, kind)
    ember.manual_seed(0)
    em = _tagger(ember, kind)
    for (n, pe), (_, pt) in zip(em.named_parameters(), tm.named_parameters()):
        np.testing.assert_array_equal(pe.detach().numpy(), pt.detach().numpy(), err_msg=n)
    opt_e = ember.optim.SGD(em.parameters(), lr=0.1)
    opt_t = torch.optim.SGD(tm.parameters(), lr=0.1)
    data = [([0, 1, 2, 3, 4], [0, 1, 2, 0, 1]), ([5, 6, 7, 8], [2, 2, 1, 0])]
    for step in range(6):
        words, tags = data[step % 2]
        losses = []
        for lib, model, opt in ((ember, em, opt_e), (torch, tm, opt_t)):
            opt.zero_grad()
            loss = lib.nn.NLLLoss()(model(lib.tensor(words)), lib.tensor(tags))
            loss.backward()
            opt.step()
            losses.append(loss.item())
        assert abs(losses[0] - losses[1]) < 1e-5, (step, losses)
    for (n, pe), (_, pt) in zip(em.named_parameters(), tm.named_parameters()):
        np.testing.assert_allclose(pe.detach().numpy(), pt.detach().numpy(), atol=1e-5, err_msg=n)


def test_torch_regressor_tutorial_pattern():
    """An RNN regressor fed its own hidden state between chunks (h_state.detach()), as the tutorial does."""
    results = []
    for lib in (torch, ember):
        lib.manual_seed(1)
        rnn = lib.nn.RNN(input_size=1, hidden_size=8, num_layers=1, batch_first=True)
        head = lib.nn.Linear(8, 1)
        params = list(rnn.parameters()) + list(head.parameters())
        opt = lib.optim.Adam(params, lr=0.02)
        h_state = None
        losses = []
        for step in range(5):
            steps = np.linspace(step * np.pi, (step + 1) * np.pi, 10, dtype=np.float32)
            x = lib.tensor(np.sin(steps)[None, :, None])
            y = lib.tensor(np.cos(steps)[None, :, None])
            out, h_state = rnn(x, h_state)
            h_state = h_state.detach()
            pred = lib.stack([head(out[:, t, :]) for t in range(out.size(1))], dim=1)
            loss = lib.nn.functional.mse_loss(pred, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        results.append(losses)
    np.testing.assert_allclose(results[1], results[0], atol=1e-5)


def test_long_sequence_backward_runs():
    """A 300-step sequence: the time loop's graph is walked without recursion limits."""
    m = ember.nn.GRU(2, 3)
    out, h = m(ember.randn(300, 2, 2))
    (out.sum() + h.sum()).backward()
    assert all(p.grad is not None for p in m.parameters())


def test_rnn_example_trains_under_ember_run(tmp_path):
    """examples/rnn_mnist.py (an LSTM over image rows, in the tutorials' style) runs unchanged and learns."""
    import re

    from test_examples import _digit_images, _run_example

    proc = _run_example("rnn_mnist.py", tmp_path, _digit_images(tmp_path / "data"), 3)
    lines = proc.stdout.splitlines()
    assert "(lstm): LSTM(28, 64, num_layers=2, batch_first=True)" in proc.stdout
    steps = [line for line in lines if line.startswith("Epoch [")]
    assert len(steps) == 3 * 2 and re.fullmatch(r"Epoch \[1/3\], Step \[7/14\], Loss: \d+\.\d{4}", steps[0])
    found = re.search(r"Test Accuracy of the model on the 397 test images: ([\d.]+) %", proc.stdout)
    assert found and float(found.group(1)) > 50  # chance is 10 %
    assert (tmp_path / "rnn_mnist.pt").is_file()


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.nn.LSTM(3, 4)(lib.zeros(5, 2, 3, dtype=lib.float64)),
        lambda lib: lib.nn.LSTMCell(3, 4)(lib.zeros(2, 3), (lib.zeros(2, 4),)),
        lambda lib: lib.nn.GRU(3, 5)(lib.zeros(0, 2, 3)),
        lambda lib: lib.nn.GRU(3, 5, batch_first=True)(lib.zeros(2, 0, 3)),
        lambda lib: lib.nn.RNN(3, 5)(lib.zeros(0, 3)),
        lambda lib: lib.nn.LSTM(0, 4),
        lambda lib: lib.nn.LSTM(-1, 4),
        lambda lib: lib.nn.LSTM(2.0, 4),
    ],
)
def test_checks_found_in_review_match_torch(call):
    outcomes = []
    for lib in (torch, ember):
        try:
            call(lib)
            outcomes.append(None)
        except (RuntimeError, ValueError, TypeError) as e:
            outcomes.append((type(e).__name__, str(e)))
    assert outcomes[0] is not None and outcomes[1] == outcomes[0]


def test_bool_sizes_and_pad_sequence_dtype_follow_torch():
    assert str(ember.nn.LSTM(2, 4, num_layers=True)) == str(torch.nn.LSTM(2, 4, num_layers=True))
    padded = ember.nn.utils.rnn.pad_sequence([ember.zeros(2), ember.zeros(3, dtype=ember.float64)])
    reference = torch.nn.utils.rnn.pad_sequence([torch.zeros(2), torch.zeros(3, dtype=torch.float64)])
    assert str(padded.dtype) == str(reference.dtype) and tuple(padded.shape) == tuple(reference.shape)
