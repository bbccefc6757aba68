"""Convolution, unfold/fold and pooling against torch: values, every gradient, second derivatives, errors,
modules (repr, state_dict, initialisation bounds), and the classic CNN programs trained step by step."""

import numpy as np
import pytest
import torch
from helpers import (
    assert_same_error,
    check_op,
    gradcheck,
    gradgradcheck,
    linear_op_gradcheck,
    outcome_of,
    raised_by_both,
    to_np,
)

import ember

rng = np.random.default_rng(0)


def arr(*shape):
    return rng.standard_normal(shape).astype(np.float32)


# ---------------------------------------------------------------------------- conv2d / conv1d
CONV2D_CASES = [
    # (input shape, weight shape, kwargs)
    ((2, 3, 8, 7), (4, 3, 3, 3), {}),
    ((2, 3, 8, 7), (4, 3, 3, 3), {"stride": 2, "padding": 1}),
    ((1, 2, 9, 9), (3, 2, 2, 3), {"stride": (2, 1), "padding": (1, 2), "dilation": (2, 1)}),
    ((2, 4, 6, 6), (6, 2, 3, 3), {"groups": 2, "padding": 1}),
    ((2, 4, 6, 6), (8, 1, 3, 3), {"groups": 4}),  # depthwise
    ((2, 3, 7, 7), (2, 3, 3, 3), {"padding": "same"}),
    ((2, 3, 7, 7), (2, 3, 4, 2), {"padding": "same", "dilation": (1, 2)}),  # uneven: padded on one side
    ((2, 3, 7, 7), (2, 3, 3, 3), {"padding": "valid"}),
    ((3, 6, 6), (4, 3, 3, 3), {"padding": 1}),  # unbatched
    ((1, 1, 5, 5), (1, 1, 5, 5), {}),  # kernel as large as the input
]


@pytest.mark.parametrize("xs,ws,kw", CONV2D_CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_matches_torch(xs, ws, kw, bias, conv_layout):
    arrays = [arr(*xs), arr(*ws)] + ([arr(ws[0])] if bias else [])

    def fn(lib, x, w, b=None):
        return lib.nn.functional.conv2d(x, w, b, **kw)

    check_op(fn, *arrays, atol=1e-4)


def test_cache_chunks_cut_a_batch_into_runs_of_about_the_target_size():
    from ember.ops.conv import cache_chunks

    def lengths(*args):
        return [(s.start, s.stop) for s in cache_chunks(*args)]

    assert lengths(10, 1, 1, 3) == [(0, 3), (3, 6), (6, 9), (9, 10)]
    assert lengths(10, 1, 4, 3) == [(0, 4), (4, 10)]  # at least 4 each: the short tail joins the run before
    assert lengths(3, 1, 16, 3) == [(0, 3)]
    assert lengths(0, 8) == [(0, 0)]
    assert lengths(5, 10**9) == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]


@pytest.mark.parametrize("xs,ws", [((40, 3, 9, 9), (4, 3, 3, 3)), ((40, 2, 12, 12), (5, 2, 5, 5))])
def test_a_convolution_without_gradients_works_through_the_batch_in_pieces(monkeypatch, conv_layout, xs, ws):
    from ember.ops import conv

    monkeypatch.setattr(conv, "CONV_CHUNK_BYTES", 1)  # pieces of BATCH_LAST_MIN_BATCH samples, or one
    x, w, b = arr(*xs), arr(*ws), arr(ws[0])
    with ember.no_grad():
        pieces = to_np(ember.nn.functional.conv2d(ember.tensor(x), ember.tensor(w), ember.tensor(b), padding=1))
    whole = to_np(
        ember.nn.functional.conv2d(ember.tensor(x, requires_grad=True), ember.tensor(w), ember.tensor(b), padding=1)
    )
    theirs = to_np(torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), padding=1))
    np.testing.assert_allclose(pieces, theirs, rtol=1e-4, atol=1e-4)
    if conv_layout == "nchw":  # one product per sample either way: the same bits
        np.testing.assert_array_equal(pieces, whole)
    else:
        np.testing.assert_allclose(pieces, whole, rtol=1e-5, atol=1e-5)  # other product sizes: rounding


@pytest.mark.parametrize("pieces", [1, 1 << 30])
@pytest.mark.parametrize(
    "xs,ws,kw",
    [((17, 2, 15, 15), (3, 2, 3, 3), {}), ((16, 4, 9, 9), (6, 2, 3, 2), {"stride": 2, "padding": 1, "groups": 2})],
)
def test_the_input_gradient_of_a_large_batch_in_pieces(monkeypatch, conv_layout, pieces, xs, ws, kw):
    # pieces of one sample, or the whole batch in one; the array form (plain backward) and the tensor form
    # (create_graph) make the same products piece for piece: the same bits
    from ember.ops import conv

    monkeypatch.setattr(conv, "CONV_CHUNK_BYTES", pieces)
    x, w = arr(*xs), arr(*ws)
    y = to_np(torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), **kw))
    g = arr(*y.shape)
    grads = []
    for create_graph in (False, True):
        xt = ember.tensor(x, requires_grad=True)
        out = ember.nn.functional.conv2d(xt, ember.tensor(w, requires_grad=True), **kw)
        (gx,) = ember.autograd.grad(out, xt, ember.tensor(g), create_graph=create_graph)
        grads.append(to_np(gx))
    np.testing.assert_array_equal(grads[0], grads[1])
    xt = torch.tensor(x, requires_grad=True)
    torch.nn.functional.conv2d(xt, torch.tensor(w), **kw).backward(torch.tensor(g))
    np.testing.assert_allclose(grads[0], to_np(xt.grad), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kw", [{"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": 1}])
def test_max_pool_in_cache_sized_pieces_matches_torch_bit_for_bit(monkeypatch, kw):
    from ember.ops import conv

    monkeypatch.setattr(conv, "CHUNK_BYTES", 300)  # a few planes per piece
    x = arr(3, 5, 8, 8)
    x[0, 1, 2, 2] = np.nan
    x[2, 4, :2, :2] = -np.inf
    g = None
    outs = []
    for lib in (ember, torch):
        xt = lib.tensor(x, requires_grad=True)
        y, idx = lib.nn.functional.max_pool2d(xt, return_indices=True, **kw)
        g = arr(*y.shape) if g is None else g
        y.backward(lib.tensor(g))
        outs.append([to_np(y), to_np(idx), to_np(xt.grad)])
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)


def test_the_layout_fixture_reaches_the_convolution(conv_layout):
    x, w = ember.ones(2, 3, 8, 7, requires_grad=True), ember.ones(4, 3, 3, 3)
    assert ember.nn.functional.conv2d(x, w).grad_fn.batch_last == (conv_layout == "batch_last")


@pytest.mark.parametrize(
    "xs,ws,expected",
    [
        ((64, 6, 12, 12), (16, 6, 5, 5), True),  # LeNet's second layer: 8x8 outputs
        ((1000, 6, 12, 12), (16, 6, 5, 5), True),
        ((64, 1, 28, 28), (6, 1, 5, 5), False),  # LeNet's first layer: 24x24 outputs
        ((64, 32, 26, 26), (64, 32, 3, 3), False),
        ((2, 6, 12, 12), (16, 6, 5, 5), False),  # a small batch
    ],
)
def test_batch_last_columns_serve_large_batches_of_small_feature_maps(xs, ws, expected):
    y = ember.nn.functional.conv2d(ember.ones(*xs, requires_grad=True), ember.ones(*ws))
    assert y.grad_fn.batch_last is expected


@pytest.mark.parametrize(
    "xs,ws,kw",
    [
        ((2, 3, 10), (4, 3, 3), {}),
        ((2, 3, 10), (4, 3, 3), {"stride": 2, "padding": 2, "dilation": 2}),
        ((2, 4, 9), (4, 1, 3), {"groups": 4, "padding": "same"}),
        ((3, 10), (2, 3, 4), {"padding": "same"}),
    ],
)
def test_conv1d_matches_torch(xs, ws, kw, conv_layout):
    check_op(lambda lib, x, w, b: lib.nn.functional.conv1d(x, w, b, **kw), arr(*xs), arr(*ws), arr(ws[0]), atol=1e-4)


@pytest.mark.parametrize("xs,ws,kw", CONV2D_CASES[:6])
def test_conv2d_grad_names_match_torch(xs, ws, kw, conv_layout):
    names = []
    for lib in (ember, torch):
        x = lib.tensor(arr(*xs), requires_grad=True)
        y = lib.nn.functional.conv2d(x, lib.tensor(arr(*ws)), **kw)
        names.append(type(y.grad_fn).__name__)
    assert names[0] == names[1]


def test_conv2d_gradcheck_and_second_derivatives(conv_layout):
    x, w, b = rng.standard_normal((2, 4, 5, 6)), rng.standard_normal((4, 2, 3, 2)), rng.standard_normal(4)

    def fn(x, w, b):
        return ember.nn.functional.conv2d(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2), groups=2)

    gradcheck(fn, x, w, b)
    gradgradcheck(fn, x, w, b)


def test_conv2d_double_backward_matches_torch(conv_layout):
    x, w = arr(2, 3, 6, 6).astype(np.float64), arr(4, 3, 3, 3).astype(np.float64)
    res = []
    for lib in (ember, torch):
        xt, wt = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        y = lib.nn.functional.conv2d(xt, wt, padding=1)
        (gx,) = lib.autograd.grad((y * y).sum(), xt, create_graph=True)
        (gw,) = lib.autograd.grad(gx.pow(2).sum(), wt)
        res.append((to_np(gx), to_np(gw)))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.nn.functional.conv2d(lib.ones(1, 3, 4, 4), lib.ones(2, 2, 3, 3)),
        lambda lib: lib.nn.functional.conv2d(lib.ones(1, 2, 2, 2), lib.ones(2, 2, 3, 3)),
        lambda lib: lib.nn.functional.conv2d(lib.ones(2, 3), lib.ones(1, 1, 1, 1)),
        lambda lib: lib.nn.functional.conv2d(lib.ones(1, 4, 4, 4), lib.ones(3, 2, 1, 1), groups=2),
        lambda lib: lib.nn.functional.conv2d(lib.ones(1, 2, 4, 4), lib.ones(3, 2, 1, 1), lib.ones(2)),
        lambda lib: lib.nn.functional.conv2d(lib.ones(1, 2, 4, 4), lib.ones(3, 2, 1, 1), stride=2, padding="same"),
        lambda lib: lib.nn.functional.conv2d(lib.ones(1, 2, 4, 4), lib.ones(3, 2, 1, 1).double()),
        lambda lib: lib.nn.Conv2d(3, 6, 5)(lib.ones(1, 1, 28, 28)),
        lambda lib: lib.nn.Conv2d(4, 6, 3, groups=3),
    ],
)
def test_conv_errors_match_torch(call):
    mine, theirs = raised_by_both(call)
    assert type(mine) is type(theirs)
    assert str(theirs).split("\n")[0] in str(mine) or str(mine).startswith(str(theirs)[:40])


def test_conv_layer_names_itself_and_the_shapes_on_a_wrong_channel_count():
    layer = ember.nn.Conv2d(3, 6, 5)
    with pytest.raises(RuntimeError, match=r"Conv2d\(3, 6, kernel_size=\(5, 5\).*expects 3 input channels"):
        layer(ember.ones(1, 1, 28, 28))


# ---------------------------------------------------------------------------- unfold / fold
@pytest.mark.parametrize(
    "kw", [{"kernel_size": 2}, {"kernel_size": (2, 3), "padding": 1, "stride": 2}, {"kernel_size": 3, "dilation": 2}]
)
def test_unfold_and_fold_match_torch(kw):
    check_op(lambda lib, x: lib.nn.functional.unfold(x, **kw), arr(2, 3, 7, 8))
    cols = ember.nn.functional.unfold(ember.ones(2, 3, 7, 8), **kw)
    check_op(lambda lib, c: lib.nn.functional.fold(c, (7, 8), **kw), arr(*cols.shape))


def test_fold_adds_overlaps_in_torchs_order_bit_for_bit():
    c = arr(2, 12, 20)
    e = ember.nn.functional.fold(ember.tensor(c), (5, 6), 2)
    t = torch.nn.functional.fold(torch.tensor(c), (5, 6), 2)
    assert to_np(e).tobytes() == to_np(t).tobytes()


# ---------------------------------------------------------------------------- pooling
POOL_INPUT = (2, 3, 9, 8)


@pytest.mark.parametrize(
    "kw",
    [
        {"kernel_size": 2},
        {"kernel_size": 3, "stride": 2, "padding": 1},
        {"kernel_size": (2, 3), "stride": (1, 2)},
        {"kernel_size": 2, "ceil_mode": True},
        {"kernel_size": 3, "stride": 2, "dilation": 2},
        {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
    ],
)
def test_max_pool2d_values_indices_and_gradients_match_torch(kw):
    check_op(lambda lib, x: lib.nn.functional.max_pool2d(x, **kw), arr(*POOL_INPUT))
    x = arr(*POOL_INPUT)
    e = ember.nn.functional.max_pool2d(ember.tensor(x), return_indices=True, **kw)[1]
    t = torch.nn.functional.max_pool2d(torch.tensor(x), return_indices=True, **kw)[1]
    np.testing.assert_array_equal(to_np(e), to_np(t))
    assert e.dtype == ember.int64


def test_max_pool_takes_the_first_of_tied_maxima_like_torch():
    x = np.zeros((1, 1, 4, 4), np.float32)
    x[0, 0, 1, 1] = x[0, 0, 0, 1] = 1.0
    e = ember.nn.functional.max_pool2d(ember.tensor(x), 3, 1, 1, return_indices=True)[1]
    t = torch.nn.functional.max_pool2d(torch.tensor(x), 3, 1, 1, return_indices=True)[1]
    np.testing.assert_array_equal(to_np(e), to_np(t))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("kw", [{"kernel_size": 2}, {"kernel_size": 3, "stride": 3, "padding": 1}])
def test_max_pool_passes_infinite_nan_and_negative_zero_gradients_bit_for_bit(dtype, kw):
    x = rng.standard_normal((2, 3, 6, 6)).astype(dtype)
    g = rng.standard_normal((2, 3, 3, 3) if kw["kernel_size"] == 2 else (2, 3, 2, 2)).astype(dtype)
    g.flat[:4] = [np.inf, -np.inf, np.nan, -0.0]
    grads = []
    for lib in (ember, torch):
        xt = lib.tensor(x, requires_grad=True)
        lib.nn.functional.max_pool2d(xt, **kw).backward(lib.tensor(g))
        grads.append(to_np(xt.grad))
    np.testing.assert_array_equal(grads[0].view(f"u{grads[0].itemsize}"), grads[1].view(f"u{grads[1].itemsize}"))


@pytest.mark.parametrize(
    "kw",
    [
        {"kernel_size": 2},
        {"kernel_size": 3, "stride": 2, "padding": 1},
        {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False},
        {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
        {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
        {"kernel_size": (3, 2), "divisor_override": 4},
    ],
)
def test_avg_pool2d_matches_torch(kw):
    check_op(lambda lib, x: lib.nn.functional.avg_pool2d(x, **kw), arr(*POOL_INPUT))


def test_avg_pool_with_overlapping_windows_matches_torchs_gradient_bit_for_bit():
    x, g = arr(2, 3, 9, 8), arr(2, 3, 5, 4)
    grads = []
    for lib in (ember, torch):
        t = lib.tensor(x, requires_grad=True)
        lib.nn.functional.avg_pool2d(t, 3, 2, 1).backward(lib.tensor(g))
        grads.append(to_np(t.grad))
    assert grads[0].tobytes() == grads[1].tobytes()


@pytest.mark.parametrize("size", [1, (1, 1), 3, (4, 3), (None, 2), (9, 8), (5, 7)])
def test_adaptive_avg_pool2d_matches_torch(size):
    check_op(lambda lib, x: lib.nn.functional.adaptive_avg_pool2d(x, size), arr(*POOL_INPUT))


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: lib.nn.functional.max_pool1d(x, 3, 2, 1),
        lambda lib, x: lib.nn.functional.avg_pool1d(x, 3, 2, 1, count_include_pad=False),
        lambda lib, x: lib.nn.functional.adaptive_avg_pool1d(x, 4),
        lambda lib, x: lib.nn.functional.max_pool1d(x[0], 2),
    ],
)
def test_one_dimensional_pooling_matches_torch(call):
    check_op(call, arr(2, 3, 11))


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: ember.nn.functional.max_pool2d(x, 3, 2, 1),
        lambda x: ember.nn.functional.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
        lambda x: ember.nn.functional.adaptive_avg_pool2d(x, (2, 3)),
        lambda x: ember.nn.functional.unfold(x, 2, padding=1),
    ],
)
def test_pooling_gradcheck_and_the_gradient_of_the_backward(fn):
    """These ops are (piecewise) linear, so the second derivative that matters is the backward's own
    gradient with respect to the incoming gradient (what create_graph=True differentiates)."""
    x = rng.permutation(2 * 2 * 5 * 6).reshape(2, 2, 5, 6) / 7.0  # distinct values: max is differentiable
    linear_op_gradcheck(fn, x)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.nn.functional.max_pool2d(lib.ones(1, 1, 2, 2), 3),
        lambda lib: lib.nn.functional.max_pool2d(lib.ones(1, 1, 4, 4), 2, padding=2),
        lambda lib: lib.nn.functional.max_pool2d(lib.ones(2, 3), 2),
        lambda lib: lib.nn.functional.avg_pool2d(lib.ones(1, 1, 4, 4), 2, divisor_override=0),
        lambda lib: lib.nn.functional.max_pool1d(lib.ones(2), 2),
    ],
)
def test_pooling_errors_match_torch(call):
    assert_same_error(call)


# ---------------------------------------------------------------------------- modules
MODULES = [
    lambda nn: nn.Conv2d(1, 6, 5),
    lambda nn: nn.Conv2d(2, 4, 3, padding="same", bias=False, groups=2),
    lambda nn: nn.Conv2d(3, 8, (3, 1), stride=(2, 1), padding=(1, 0), dilation=2),
    lambda nn: nn.Conv1d(2, 4, 3, stride=2, dilation=2, padding=1),
    lambda nn: nn.ConvTranspose2d(3, 8, 3, stride=2, output_padding=1, groups=1),
    lambda nn: nn.MaxPool2d(2),
    lambda nn: nn.MaxPool2d(3, 2, 1, ceil_mode=True),
    lambda nn: nn.MaxPool1d(3, 2),
    lambda nn: nn.AvgPool2d(2),
    lambda nn: nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
    lambda nn: nn.AvgPool1d(2),
    lambda nn: nn.AdaptiveAvgPool2d((1, 1)),
    lambda nn: nn.AdaptiveAvgPool1d(3),
    lambda nn: nn.Dropout2d(0.3),
    lambda nn: nn.Unfold(2, padding=1),
    lambda nn: nn.Fold(4, 2),
]


@pytest.mark.parametrize("make", MODULES)
def test_module_repr_and_state_dict_match_torch(make):
    e, t = make(ember.nn), make(torch.nn)
    assert repr(e) == repr(t)
    assert {k: tuple(v.shape) for k, v in e.state_dict().items()} == {
        k: tuple(v.shape) for k, v in t.state_dict().items()
    }


def test_conv_default_initialisation_stays_in_torchs_bounds():
    layer = ember.nn.Conv2d(6, 16, 5)
    bound = 1 / np.sqrt(6 * 25)  # kaiming_uniform_(a=sqrt(5)) and the bias share it
    w, b = to_np(layer.weight), to_np(layer.bias)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.9 * bound  # not a narrower distribution


def test_modules_with_loaded_weights_match_torch():
    conv_t = torch.nn.Conv2d(3, 4, 3, padding=1, groups=1)
    conv_e = ember.nn.Conv2d(3, 4, 3, padding=1)
    conv_e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in conv_t.state_dict().items()})
    x = arr(2, 3, 6, 6)
    np.testing.assert_allclose(to_np(conv_e(ember.tensor(x))), to_np(conv_t(torch.tensor(x))), atol=1e-5)


def test_dropout2d_zeroes_whole_channels_and_scales_the_rest():
    ember.manual_seed(0)
    x = ember.ones(8, 16, 3, 3)
    y = to_np(ember.nn.functional.dropout2d(x, 0.5))
    per_channel = y.reshape(8, 16, 9)
    assert set(np.unique(per_channel)) <= {0.0, 2.0}
    assert (per_channel.min(-1) == per_channel.max(-1)).all()  # one decision per channel
    assert 0 < (per_channel[:, :, 0] == 0).mean() < 1
    assert to_np(ember.nn.functional.dropout2d(x, 0.5, training=False)).tolist() == to_np(x).tolist()


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", [1, (2, 1), "same"])
def test_conv_padding_modes_match_torch(mode, padding, conv_layout):
    t = torch.nn.Conv2d(2, 3, (3, 4), padding=padding, padding_mode=mode)
    e = ember.nn.Conv2d(2, 3, (3, 4), padding=padding, padding_mode=mode)
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    assert repr(e) == repr(t)
    x = arr(2, 2, 7, 6)
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye, yt = e(xe), t(xt)
    np.testing.assert_allclose(to_np(ye), to_np(yt), atol=1e-5)
    ye.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(to_np(xe.grad), to_np(xt.grad), atol=1e-5)
    for lib in (ember, torch):
        with pytest.raises(ValueError, match="padding_mode must be one of"):
            lib.nn.Conv2d(1, 2, 3, padding_mode="mirror")


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: lib.nn.functional.max_pool2d_with_indices(x, 3, 2, 1),
        lambda lib, x: lib.nn.functional.max_pool1d_with_indices(x[:, :, 0], 3, 2),
    ],
)
def test_max_pool_with_indices_functions_return_values_and_indices_like_torch(call):
    x = arr(2, 3, 7, 6)
    (ev, ei), (tv, ti) = call(ember, ember.tensor(x)), call(torch, torch.tensor(x))
    np.testing.assert_array_equal(to_np(ev), to_np(tv))
    np.testing.assert_array_equal(to_np(ei), to_np(ti))


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: lib.nn.functional.avg_pool2d(x, 3, 2, 1),
        lambda lib, x: lib.nn.functional.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
        lambda lib, x: lib.nn.functional.adaptive_avg_pool2d(x, (5, 4)),
        lambda lib, x: lib.nn.functional.adaptive_avg_pool2d(x, (6, 7)),
        lambda lib, x: lib.nn.functional.max_pool2d(x, 3, 2, 1),
        lambda lib, x: lib.nn.functional.unfold(x, 3, padding=1, stride=2),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pooling_and_unfold_match_torch_bit_for_bit(call, dtype):
    """Values and gradients: these add in torch's order and divide as torch does."""
    x = rng.standard_normal((2, 3, 17, 15)).astype(dtype)
    res = []
    for lib in (ember, torch):
        t = lib.tensor(x, requires_grad=True)
        y = call(lib, t)
        y.backward(lib.tensor(np.random.default_rng(2).standard_normal(tuple(y.shape)).astype(dtype)))
        res.append((to_np(y), to_np(t.grad)))
    for a, b in zip(*res):
        assert a.tobytes() == b.tobytes()


# ---------------------------------------------------------------------------- transposed convolution
CONV_TRANSPOSE2D_CASES = [
    ((2, 4, 5, 6), (4, 3, 3, 3), {}),
    ((2, 4, 5, 6), (4, 3, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}),
    ((2, 4, 5, 6), (4, 3, 3, 3), {"stride": (2, 1), "padding": (0, 2), "dilation": (1, 2), "output_padding": (1, 1)}),
    ((2, 4, 5, 6), (4, 2, 2, 3), {"groups": 2, "stride": 2}),
    ((4, 5, 6), (4, 3, 3, 3), {"stride": 2}),  # unbatched
]


@pytest.mark.parametrize("xs,ws,kw", CONV_TRANSPOSE2D_CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_conv_transpose2d_matches_torch(xs, ws, kw, bias):
    out_channels = ws[1] * kw.get("groups", 1)
    arrays = [arr(*xs), arr(*ws)] + ([arr(out_channels)] if bias else [])
    check_op(lambda lib, x, w, b=None: lib.nn.functional.conv_transpose2d(x, w, b, **kw), *arrays, atol=1e-4)


def test_conv_transpose1d_matches_torch_and_passes_gradient_checks():
    check_op(
        lambda lib, x, w, b: lib.nn.functional.conv_transpose1d(x, w, b, stride=3, padding=1, output_padding=2),
        arr(2, 4, 6),
        arr(4, 3, 3),
        arr(3),
        atol=1e-4,
    )
    x, w = rng.standard_normal((2, 4, 3, 4)), rng.standard_normal((4, 1, 2, 3))

    def fn(x, w):
        return ember.nn.functional.conv_transpose2d(x, w, stride=2, padding=1, groups=2, output_padding=1)

    gradcheck(fn, x, w)
    gradgradcheck(fn, x, w)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.nn.functional.conv_transpose2d(
            lib.ones(1, 4, 5, 5), lib.ones(4, 3, 3, 3), stride=2, output_padding=2
        ),
        lambda lib: lib.nn.functional.conv_transpose2d(lib.ones(1, 4, 5, 5), lib.ones(3, 3, 3, 3)),
        lambda lib: lib.nn.ConvTranspose2d(4, 3, 3, stride=2)(lib.ones(2, 4, 5, 5), output_size=(13, 13)),
        lambda lib: lib.nn.functional.conv_transpose2d(lib.ones(1, 2, 4, 4), lib.ones(2, 3, 1, 1), lib.ones(2)),
    ],
)
def test_conv_transpose_errors_match_torch(call):
    assert_same_error(call)


def test_conv_transpose_module_output_size_repr_and_parameters_match_torch():
    for make in (
        lambda nn: nn.ConvTranspose2d(16, 6, 5, stride=2, padding=1, output_padding=1),
        lambda nn: nn.ConvTranspose1d(4, 2, 3, groups=2, bias=False, dilation=2),
    ):
        e, t = make(ember.nn), make(torch.nn)
        assert repr(e) == repr(t)
        assert {k: tuple(v.shape) for k, v in e.state_dict().items()} == {
            k: tuple(v.shape) for k, v in t.state_dict().items()
        }
    t = torch.nn.ConvTranspose2d(4, 3, 3, stride=2)
    e = ember.nn.ConvTranspose2d(4, 3, 3, stride=2)
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    x = arr(2, 4, 5, 5)
    for size in [(11, 11), (12, 12), [2, 3, 11, 12]]:
        np.testing.assert_allclose(
            to_np(e(ember.tensor(x), output_size=size)), to_np(t(torch.tensor(x), output_size=size)), atol=1e-5
        )


# ---------------------------------------------------------------------------- padding modes
PAD_CASES = [
    ((2, 3, 5), (1, 2)),
    ((2, 3, 5, 6), (1, 2, 2, 1)),
    ((3, 5, 6), (1, 2, 0, 1)),
    ((1, 2, 3, 4, 5), (1, 1, 2, 1, 1, 0)),
    ((2, 3, 5, 6), (-1, 2, 2, -1)),
]


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape,pad", PAD_CASES)
def test_pad_modes_match_torch(mode, shape, pad):
    x = rng.standard_normal(shape)
    res = []
    for lib in (ember, torch):
        t = lib.tensor(x, requires_grad=True)
        y = lib.nn.functional.pad(t, pad, mode=mode)
        y.backward(lib.tensor(np.random.default_rng(1).standard_normal(tuple(y.shape))))
        res.append((to_np(y), to_np(t.grad), type(y.grad_fn).__name__))
    (ey, eg, en), (ty, tg, tn) = res
    assert en == tn
    assert ey.tobytes() == ty.tobytes()  # copies: exact
    if mode == "circular":  # torch sums the wrapped copies in another order
        np.testing.assert_allclose(eg, tg, rtol=1e-12)
    else:
        assert eg.tobytes() == tg.tobytes()


def test_pad_modes_second_derivatives():
    x = rng.standard_normal((2, 3, 4, 5))
    for mode in ("reflect", "replicate", "circular"):
        linear_op_gradcheck(lambda t, mode=mode: ember.nn.functional.pad(t, (2, 1, 1, 3), mode=mode), x)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.nn.functional.pad(lib.ones(1, 2, 3, 3), (3, 0, 0, 0), mode="reflect"),
        lambda lib: lib.nn.functional.pad(lib.ones(1, 2, 3, 3), (4, 0, 0, 0), mode="circular"),
        lambda lib: lib.nn.functional.pad(lib.ones(1, 2, 3, 3), (1, 0), mode="bogus"),
        lambda lib: lib.nn.functional.pad(lib.ones(4), (1, 1), mode="reflect"),
        lambda lib: lib.nn.functional.pad(lib.ones(2, 3, 4), (1, 1, 1, 1, 1, 1), mode="replicate"),
    ],
)
def test_pad_mode_errors_match_torch(call):
    assert_same_error(call)


PAD_MODULES = [
    lambda nn: nn.ReflectionPad1d(2),
    lambda nn: nn.ReflectionPad2d((1, 2, 0, 1)),
    lambda nn: nn.ReflectionPad3d(1),
    lambda nn: nn.ReplicationPad1d(3),
    lambda nn: nn.ReplicationPad2d(1),
    lambda nn: nn.ReplicationPad3d((1, 0, 1, 0, 0, 1)),
    lambda nn: nn.CircularPad1d(1),
    lambda nn: nn.CircularPad2d((1, 2, 2, 1)),
    lambda nn: nn.CircularPad3d(1),
    lambda nn: nn.ZeroPad1d(2),
    lambda nn: nn.ZeroPad2d((1, 2, 3, 4)),
    lambda nn: nn.ZeroPad3d(1),
    lambda nn: nn.ConstantPad1d(2, 1.5),
    lambda nn: nn.ConstantPad2d((1, 0, 2, 1), -2.0),
    lambda nn: nn.ConstantPad3d(1, 3.5),
]


@pytest.mark.parametrize("make", PAD_MODULES)
def test_padding_modules_match_torch(make):
    e, t = make(ember.nn), make(torch.nn)
    assert repr(e) == repr(t)
    dims = len(t.padding) // 2
    x = arr(*(2, 3, 4, 5, 6)[: dims + 2])
    np.testing.assert_array_equal(to_np(e(ember.tensor(x))), to_np(t(torch.tensor(x))))


def test_conv1d_padding_mode_matches_torch(conv_layout):
    t = torch.nn.Conv1d(2, 3, 3, padding=2, padding_mode="reflect")
    e = ember.nn.Conv1d(2, 3, 3, padding=2, padding_mode="reflect")
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    x = arr(2, 2, 9)
    np.testing.assert_allclose(to_np(e(ember.tensor(x))), to_np(t(torch.tensor(x))), atol=1e-5)


# ---------------------------------------------------------------------------- adaptive max, unpool, pixel shuffle
POOL_SAMPLE = np.random.default_rng(7).standard_normal((1, 1, 7, 9))


@pytest.mark.parametrize("size", [3, (4, 5), (None, 2), (7, 9), (5, 4)])
def test_adaptive_max_pool2d_values_indices_and_gradients_match_torch_bit_for_bit(size):
    x = rng.standard_normal((2, 3, 7, 9))
    res = []
    for lib in (ember, torch):
        t = lib.tensor(x, requires_grad=True)
        y, idx = lib.nn.functional.adaptive_max_pool2d(t, size, return_indices=True)
        y.backward(lib.tensor(np.random.default_rng(1).standard_normal(tuple(y.shape))))
        res.append((to_np(y), to_np(idx), to_np(t.grad), type(y.grad_fn).__name__))
    for a, b in zip(*res):
        assert a == b if isinstance(a, str) else a.tobytes() == b.tobytes()


def test_adaptive_max_pool1d_and_modules_match_torch():
    check_op(lambda lib, x: lib.nn.functional.adaptive_max_pool1d(x, 4), arr(2, 3, 10))
    for make in (lambda nn: nn.AdaptiveMaxPool2d((5, 7)), lambda nn: nn.AdaptiveMaxPool1d(3, return_indices=True)):
        assert repr(make(ember.nn)) == repr(make(torch.nn))


def test_max_unpool_inverts_max_pool_like_torch():
    x = rng.standard_normal((2, 3, 7, 9))
    res = []
    for lib in (ember, torch):
        t = lib.tensor(x, requires_grad=True)
        y, idx = lib.nn.functional.max_pool2d(t, 2, return_indices=True)
        u = lib.nn.MaxUnpool2d(2)(y, idx, output_size=(7, 9))
        (u * u).sum().backward()
        y1, i1 = lib.nn.functional.max_pool1d(lib.tensor(x[:, :, 0]), 3, 2, 1, return_indices=True)
        u1 = lib.nn.functional.max_unpool1d(y1, i1, 3, 2, 1)
        res.append((to_np(u), to_np(t.grad), to_np(u1), type(u.grad_fn).__name__, repr(lib.nn.MaxUnpool1d(3, 2, 1))))
    for a, b in zip(*res):
        assert a == b if isinstance(a, str) else np.array_equal(a, b)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.nn.functional.max_unpool2d(
            *lib.nn.functional.max_pool2d(lib.tensor(POOL_SAMPLE), 2, return_indices=True), 2
        ),
        lambda lib: lib.nn.functional.max_unpool2d(
            *lib.nn.functional.max_pool2d(lib.ones(1, 1, 7, 9), 2, return_indices=True), 2, output_size=(9, 9)
        ),
        lambda lib: lib.nn.functional.pixel_shuffle(lib.ones(1, 6, 2, 2), 2),
    ],
)
def test_unpool_and_shuffle_errors_match_torch(call):
    assert_same_error(call)


def test_pixel_shuffle_and_unshuffle_match_torch():
    check_op(lambda lib, x: lib.nn.functional.pixel_shuffle(x, 2), arr(2, 8, 3, 4))
    check_op(lambda lib, x: lib.nn.functional.pixel_unshuffle(x, 3), arr(2, 2, 6, 9))
    for make in (lambda nn: nn.PixelShuffle(3), lambda nn: nn.PixelUnshuffle(2)):
        e, t = make(ember.nn), make(torch.nn)
        assert repr(e) == repr(t)


# ---------------------------------------------------------------------------- edge cases found in review
def test_max_pool_never_chooses_padding_even_when_the_real_values_equal_its_fill():
    for shape, args in (((1, 1, 4, 4), (3, 2, 1)), ((1, 1, 4, 4), (2, 2, 1))):
        res = []
        for lib in (ember, torch):
            x = lib.full(shape, float("-inf"), requires_grad=True)
            y, idx = lib.nn.functional.max_pool2d(x, *args, return_indices=True)
            y.sum().backward()
            res.append((to_np(idx), to_np(x.grad)))
        for a, b in zip(*res):
            np.testing.assert_array_equal(a, b)
    lowest = np.iinfo(np.int64).min
    e = ember.nn.functional.max_pool2d(
        ember.full((1, 1, 2, 2), lowest, dtype=ember.int64), 2, 1, 1, return_indices=True
    )
    t = torch.nn.functional.max_pool2d(
        torch.full((1, 1, 2, 2), lowest, dtype=torch.int64), 2, 1, 1, return_indices=True
    )
    np.testing.assert_array_equal(to_np(e[1]), to_np(t[1]))


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: lib.nn.functional.conv2d(x, lib.ones(4, 2, 3, 3), groups=2),
        lambda lib, x: lib.nn.functional.conv2d(x, lib.ones(3, 4, 3, 3), lib.ones(3)),
        lambda lib, x: lib.nn.functional.conv_transpose2d(x, lib.ones(4, 3, 3, 3)),
        lambda lib, x: lib.nn.functional.max_pool2d(x, 2),
        lambda lib, x: lib.nn.functional.avg_pool2d(x, 2),
    ],
)
def test_an_empty_batch_goes_through_like_torch(call):
    res = []
    for lib in (ember, torch):
        x = lib.zeros(0, 4, 5, 5, requires_grad=True)
        y = call(lib, x)
        y.sum().backward()
        res.append((tuple(y.shape), tuple(x.grad.shape)))
    assert res[0] == res[1]


@pytest.mark.parametrize(
    "shape,kw",
    [
        ((1, 1, 2, 2), {"scale_factor": 1.4}),
        ((1, 1, 2, 2), {"scale_factor": 1.4, "mode": "bilinear"}),
        ((1, 1, 4, 3), {"scale_factor": 2.2}),
        ((1, 1, 3, 3), {"scale_factor": (1.2, 2.0), "mode": "bilinear"}),
        ((1, 1, 3, 3), {"scale_factor": (1.2, 2.0)}),
    ],
)
def test_interpolate_keeps_torchs_special_cases_for_unchanged_and_doubled_sizes(shape, kw):
    check_op(
        lambda lib, x: lib.nn.functional.interpolate(x, **kw),
        np.arange(np.prod(shape), dtype=np.float64).reshape(shape),
    )


def test_conv_transpose_refuses_a_bias_of_another_dtype():
    with pytest.raises(RuntimeError, match=r"Input type \(torch.FloatTensor\) and bias type \(torch.DoubleTensor\)"):
        ember.nn.functional.conv_transpose2d(ember.ones(2, 4, 5, 5), ember.ones(4, 3, 3, 3), ember.ones(3).double())


@pytest.mark.parametrize("dtype", ["int32", "uint8", "int64"])
@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: lib.nn.functional.avg_pool2d(x, 2),
        lambda lib, x: lib.nn.functional.avg_pool1d(x[0], 2),
        lambda lib, x: lib.nn.functional.adaptive_max_pool2d(x, 2),
        lambda lib, x: lib.nn.functional.interpolate(x, scale_factor=2),
        lambda lib, x: lib.nn.functional.interpolate(x[0], scale_factor=2),
        lambda lib, x: lib.nn.functional.unfold(x, 2),
        lambda lib, x: lib.nn.functional.fold(x[0, :, :, :3].reshape(1, 4, 3), (3, 4), 2),
        lambda lib, x: lib.nn.functional.group_norm(x, 1),
    ],
)
def test_integer_inputs_do_what_torch_does(dtype, call):
    x = np.arange(16).reshape(1, 1, 4, 4) % 7
    outcomes = [
        outcome_of(lambda lib=lib: call(lib, lib.tensor(x, dtype=getattr(lib, dtype)))) for lib in (ember, torch)
    ]
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.nn.functional.interpolate(lib.ones(1, 2, 1, 4), scale_factor=0.6),
        lambda lib: lib.nn.functional.interpolate(lib.ones(1, 2, 3, 4), scale_factor=(2, 2, 2)),
        lambda lib: lib.nn.functional.interpolate(lib.ones(1, 2, 3, 4), size=(0, 3)),
        lambda lib: lib.nn.functional.interpolate(lib.ones(1, 2, 4), size=0),
        lambda lib: lib.nn.functional.pad(lib.ones(1, 3, 3, dtype=lib.bool), (1, 1), mode="reflect"),
        lambda lib: lib.nn.functional.pad(lib.ones(1, 3, 3, dtype=lib.bool), (1, 1), mode="replicate"),
        lambda lib: lib.nn.functional.max_unpool2d(lib.ones(1, 1, 2, 2), lib.zeros(1, 1, 2, 2, dtype=lib.int32), 2),
    ],
)
def test_more_refusals_match_torch(call):
    assert_same_error(call)


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: ember.nn.functional.adaptive_max_pool2d(x, (2, 4)),
        lambda x: ember.nn.functional.fold(x.reshape(2, 60)[:, :48].reshape(2, 4, 12), (4, 5), 2),
        lambda x: ember.nn.functional.pixel_shuffle(x.reshape(2, 4, 3, 5), 2),
        lambda x: ember.nn.functional.max_unpool2d(*ember.nn.functional.max_pool2d(x, 2, return_indices=True), 2),
        lambda x: ember.nn.functional.conv1d(x.reshape(2, 4, 15), x.reshape(2, 4, 15)[:1, :, :3]),
    ],
)
def test_gradient_checks_of_the_other_spatial_ops(fn):
    """Finite differences for the ops whose tests above compare with torch only (float64, distinct values)."""
    x = rng.permutation(2 * 2 * 5 * 6).reshape(2, 2, 5, 6) / 7.0
    gradcheck(fn, x)
