"""affine_grid and grid_sample against torch: values, gradients for the input, the grid and theta, float64
finite-difference checks, warnings and errors, and a spatial-transformer step."""

import warnings

import numpy as np
import pytest
import torch
from helpers import assert_same_error, check_op, gradcheck, to_np

import ember

rng = np.random.default_rng(5)


def _grid(shape, reach=1.3):
    """Sampling positions spread a little beyond [-1, 1], so every padding mode has work to do."""
    return (rng.random(shape) * 2 * reach - reach).astype(np.float32)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size", [(2, 3, 5, 7), (1, 1, 1, 4), (3, 2, 6, 1)])
def test_affine_grid_values_and_theta_gradient_match_torch(size, align_corners):
    theta = (rng.standard_normal((size[0], 2, 3)) * 0.5 + [[1, 0, 0], [0, 1, 0]]).astype(np.float32)
    with warnings.catch_warnings(record=True) as caught:  # unit-size grids with align_corners=True warn
        warnings.simplefilter("always")
        check_op(lambda lib, t: lib.nn.functional.affine_grid(t, size, align_corners=align_corners), theta, atol=1e-6)
    assert len(caught) == (2 if align_corners and 1 in size[2:] else 0)  # once in ember, once in torch


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample_values_and_gradients_match_torch(mode, padding_mode, align_corners, dtype):
    x = rng.standard_normal((2, 3, 5, 6)).astype(dtype)
    grid = _grid((2, 4, 7, 2)).astype(dtype)

    def fn(lib, x, g):
        return lib.nn.functional.grid_sample(x, g, mode=mode, padding_mode=padding_mode, align_corners=align_corners)

    check_op(fn, x, grid, atol=1e-5)


@pytest.mark.parametrize("shape,grid_shape", [((1, 1, 1, 1), (1, 2, 2, 2)), ((2, 1, 3, 1), (2, 1, 5, 2))])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_grid_sample_on_single_pixel_dims_matches_torch(shape, grid_shape, padding_mode):
    def fn(lib, x, g):
        return lib.nn.functional.grid_sample(x, g, padding_mode=padding_mode, align_corners=True)

    check_op(fn, rng.standard_normal(shape).astype(np.float32), _grid(grid_shape), atol=1e-5)


def test_grid_sample_outside_and_non_finite_positions_give_zeros_and_zero_gradients():
    # torch's bilinear kernel gives NaN or 0 at a non-finite position depending on its vector or scalar path;
    # ember gives 0, like torch's nearest mode; the input gradients are torch's (zero there)
    x = rng.standard_normal((1, 2, 4, 4)).astype(np.float32)
    grid = np.array(
        [[[[5.0, 0.0], [np.inf, 0.0], [np.nan, 0.2], [-np.inf, -np.inf], [3e38, 0.1], [0.2, 0.3]]]], np.float32
    )
    for mode in ("bilinear", "nearest"):
        results = []
        for lib in (ember, torch):
            xt = lib.tensor(x, requires_grad=True)
            out = lib.nn.functional.grid_sample(xt, lib.tensor(grid), mode, align_corners=False)
            (gx,) = lib.autograd.grad(out.sum(), xt)
            results.append((to_np(out), to_np(gx)))
        (ours, our_grad), (theirs, their_grad) = results
        np.testing.assert_array_equal(ours[..., :5], 0.0)
        np.testing.assert_array_equal(ours[..., 5], theirs[..., 5])
        np.testing.assert_array_equal(our_grad, their_grad)


def test_grid_sample_finds_pixels_of_large_half_precision_images():
    # pixel indices are integers whatever the input's precision: float16 cannot count past 2048
    x = np.tile(np.arange(64, dtype=np.float16), (1, 1, 64, 1))
    for point in [(0.56, 0.5), (0.99, 0.99), (-0.99, 0.3)]:
        grid = np.array([[[point]]], np.float16)
        for mode in ("nearest", "bilinear"):
            ours = ember.nn.functional.grid_sample(ember.tensor(x), ember.tensor(grid), mode, align_corners=False)
            theirs = torch.nn.functional.grid_sample(torch.tensor(x), torch.tensor(grid), mode, align_corners=False)
            np.testing.assert_allclose(to_np(ours).astype(np.float32), to_np(theirs).astype(np.float32), rtol=2e-3)


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_gradcheck(padding_mode, align_corners):
    x = rng.standard_normal((1, 2, 4, 5))
    grid = _grid((1, 3, 3, 2), reach=1.2).astype(np.float64)

    def fn(x, g):
        return ember.nn.functional.grid_sample(x, g, padding_mode=padding_mode, align_corners=align_corners)

    gradcheck(fn, x, grid)


def test_affine_grid_gradcheck():
    theta = rng.standard_normal((2, 2, 3))
    gradcheck(lambda t: ember.nn.functional.affine_grid(t, (2, 1, 3, 4), align_corners=False), theta)


def test_leaving_align_corners_unset_warns_like_torch():
    messages = []
    for lib in (ember, torch):
        theta = lib.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            grid = lib.nn.functional.affine_grid(theta, (1, 1, 2, 2))
            lib.nn.functional.grid_sample(lib.ones(1, 1, 2, 2), grid)
        messages.append([str(w.message) for w in caught if issubclass(w.category, UserWarning)])
    assert messages[0] == messages[1] and len(messages[0]) == 2


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.nn.functional.grid_sample(lib.ones(1, 1, 2, 2), lib.zeros(1, 2, 2, 2), mode="bicubc"),
        lambda lib: lib.nn.functional.grid_sample(lib.ones(1, 1, 2, 2), lib.zeros(1, 2, 2, 2), padding_mode="wrap"),
        lambda lib: lib.nn.functional.grid_sample(lib.ones(1, 1, 2, 2), lib.zeros(1, 2, 2, 1), align_corners=False),
        lambda lib: lib.nn.functional.grid_sample(lib.ones(2, 1, 2, 2), lib.zeros(1, 2, 2, 2), align_corners=False),
        lambda lib: lib.nn.functional.grid_sample(
            lib.ones(1, 1, 2, 2).double(), lib.zeros(1, 2, 2, 2), align_corners=False
        ),
        lambda lib: lib.nn.functional.grid_sample(
            lib.ones(1, 1, 2, 2).int(), lib.zeros(1, 2, 2, 2).int(), align_corners=False
        ),
        lambda lib: lib.nn.functional.grid_sample(lib.zeros(1, 3, 3), lib.zeros(1, 2, 2, 2), align_corners=False),
        lambda lib: lib.nn.functional.grid_sample(lib.zeros(1, 1, 3, 3), lib.zeros(1, 2, 2), align_corners=False),
        lambda lib: lib.nn.functional.grid_sample(lib.zeros(1, 1, 0, 3), lib.zeros(1, 2, 2, 2), align_corners=False),
        lambda lib: lib.nn.functional.affine_grid(lib.zeros(1, 2, 3), (1, 2, 3), align_corners=False),
        lambda lib: lib.nn.functional.affine_grid(lib.zeros(2, 3), (1, 2, 3, 4), align_corners=False),
        lambda lib: lib.nn.functional.affine_grid(lib.zeros(1, 2, 3), (2, 2, 3, 4), align_corners=False),
        lambda lib: lib.nn.functional.affine_grid(lib.zeros(1, 2, 3), (1, 2, 0, 4), align_corners=False),
        lambda lib: lib.nn.functional.affine_grid(lib.zeros(1, 2, 3).long(), (1, 2, 3, 4), align_corners=False),
    ],
)
def test_grid_errors_match_torch(call):
    assert_same_error(call)


def test_a_spatial_transformer_step_matches_torch():
    # the spatial-transformer lesson: a localisation head predicts theta, the image is resampled, then classified
    def build(lib):
        nn = lib.nn

        class STN(nn.Module):
            def __init__(self):
                super().__init__()
                self.loc = nn.Sequential(nn.Conv2d(1, 4, 3), nn.MaxPool2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(36, 6))
                self.head = nn.Linear(64, 3)

            def forward(self, x):
                theta = self.loc(x).view(-1, 2, 3)
                grid = nn.functional.affine_grid(theta, x.size(), align_corners=False)
                x = nn.functional.grid_sample(x, grid, align_corners=False)
                return self.head(x.flatten(1))

        return STN()

    torch.manual_seed(0)
    theirs = build(torch)
    with torch.no_grad():  # start near the identity map, as the tutorial does
        theirs.loc[-1].weight.mul_(0.1)
        theirs.loc[-1].bias.copy_(torch.tensor([1.0, 0, 0, 0, 1, 0]))
    ours = build(ember)
    ours.load_state_dict({k: ember.tensor(v.detach().numpy().copy()) for k, v in theirs.state_dict().items()})
    x = rng.standard_normal((4, 1, 8, 8)).astype(np.float32)
    y = np.array([0, 1, 2, 1])
    results = []
    for lib, model in ((ember, ours), (torch, theirs)):
        opt = lib.optim.SGD(model.parameters(), lr=0.1)
        losses = []
        for _ in range(3):
            opt.zero_grad()
            loss = lib.nn.functional.cross_entropy(model(lib.tensor(x)), lib.tensor(y))
            loss.backward()
            opt.step()
            losses.append(loss.item())
        results.append((losses, {k: to_np(v) for k, v in model.state_dict().items()}))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-5)
    for k, v in results[1][1].items():
        np.testing.assert_allclose(results[0][1][k], v, rtol=1e-4, atol=1e-5, err_msg=k)
