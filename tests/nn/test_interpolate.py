"""interpolate / Upsample against torch: nearest (1-D, 2-D) and bilinear (align_corners both ways)."""

import numpy as np
import pytest
import torch
from helpers import assert_same_error, check_op, linear_op_gradcheck, to_np

import ember

rng = np.random.default_rng(0)

CASES = [
    {"scale_factor": 2},
    {"size": (8, 9)},
    {"scale_factor": 1.7},
    {"size": (3, 4)},
    {"scale_factor": (2, 3), "mode": "bilinear"},
    {"size": (8, 11), "mode": "bilinear"},
    {"size": (8, 11), "mode": "bilinear", "align_corners": True},
    {"size": (3, 4), "mode": "bilinear"},
    {"scale_factor": 1.5, "mode": "bilinear"},
    {"size": (1, 1), "mode": "bilinear", "align_corners": True},
    {"scale_factor": 0.5, "mode": "bilinear", "recompute_scale_factor": True},
]


@pytest.mark.parametrize("kw", CASES)
def test_interpolate_matches_torch(kw):
    x = rng.standard_normal((2, 3, 5, 7)).astype(np.float32)
    check_op(lambda lib, t: lib.nn.functional.interpolate(t, **kw), x, atol=1e-5)
    names = [
        type(lib.nn.functional.interpolate(lib.ones(1, 1, 5, 7, requires_grad=True), **kw).grad_fn).__name__
        for lib in (ember, torch)
    ]
    assert names[0] == names[1]


def test_nearest_interpolation_is_a_copy_bit_for_bit_and_works_in_one_dimension():
    x = rng.standard_normal((2, 3, 6)).astype(np.float32)
    e = ember.nn.functional.interpolate(ember.tensor(x), scale_factor=2.5)
    t = torch.nn.functional.interpolate(torch.tensor(x), scale_factor=2.5)
    assert to_np(e).tobytes() == to_np(t).tobytes()
    check_op(lambda lib, a: lib.nn.functional.interpolate(a, size=4), x)


def test_interpolate_gradients_of_every_order():
    x = rng.standard_normal((1, 2, 3, 4))
    for kw in (
        {"scale_factor": 2},
        {"size": (5, 6), "mode": "bilinear"},
        {"size": (5, 6), "mode": "bilinear", "align_corners": True},
    ):
        linear_op_gradcheck(lambda t, kw=kw: ember.nn.functional.interpolate(t, **kw), x)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.nn.functional.interpolate(lib.ones(1, 1, 3, 3)),
        lambda lib: lib.nn.functional.interpolate(lib.ones(1, 1, 3, 3), size=3, scale_factor=2),
        lambda lib: lib.nn.functional.interpolate(lib.ones(1, 1, 3, 3), scale_factor=2, align_corners=True),
        lambda lib: lib.nn.functional.interpolate(lib.ones(1, 3, 3), scale_factor=2, mode="bilinear"),
    ],
)
def test_interpolate_errors_match_torch(call):
    assert_same_error(call)


@pytest.mark.parametrize(
    "make",
    [
        lambda nn: nn.Upsample(scale_factor=2),
        lambda nn: nn.Upsample(size=(4, 5), mode="bilinear", align_corners=True),
        lambda nn: nn.Upsample(scale_factor=(2, 3), mode="bilinear"),
        lambda nn: nn.UpsamplingNearest2d(scale_factor=2),
        lambda nn: nn.UpsamplingBilinear2d(size=(6, 7)),
    ],
)
def test_upsample_modules_match_torch(make):
    e, t = make(ember.nn), make(torch.nn)
    assert repr(e) == repr(t)
    x = rng.standard_normal((2, 3, 3, 4)).astype(np.float32)
    np.testing.assert_allclose(to_np(e(ember.tensor(x))), to_np(t(torch.tensor(x))), atol=1e-5)


def test_unsupported_modes_name_the_torch_api():
    with pytest.raises(NotImplementedError, match=r"interpolate\(mode='bicubic'\)"):
        ember.nn.functional.interpolate(ember.ones(1, 1, 3, 3), scale_factor=2, mode="bicubic")


def test_upsample_function_is_interpolate():
    x = rng.standard_normal((1, 2, 3, 4)).astype(np.float32)
    with pytest.warns(UserWarning, match="deprecated"):
        t = torch.nn.functional.upsample(torch.tensor(x), scale_factor=2, mode="bilinear")
    with pytest.warns(UserWarning, match="deprecated"):
        e = ember.nn.functional.upsample(ember.tensor(x), scale_factor=2, mode="bilinear")
    np.testing.assert_allclose(to_np(e), to_np(t), atol=1e-6)
