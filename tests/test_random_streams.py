"""ember's random streams are torch's: after the same seed, every random function gives torch's exact values
(and dtype), consumes the same words, and leaves the generator in the same state (compared byte for byte)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import ember
from ember import _sampling
from ember._fma import fma32, fma64, fma_odd

SEEDS = [0, 1, 7, 2**32 + 5, 2**63 + 11, 123456789]
SIZES = [0, 1, 2, 3, 15, 16, 17, 31, 32, 33, 100, 1000, 16 * 4096 + 3]


def seed_both(seed: int) -> None:
    torch.manual_seed(seed)
    ember.manual_seed(seed)


def same(t, e) -> None:
    """Bit-identical values, same dtype and shape, and both generators in the same state afterwards."""
    ta = t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    ea = e.detach().numpy() if isinstance(e, ember.Tensor) else np.asarray(e)
    assert ta.dtype == ea.dtype and ta.shape == ea.shape
    np.testing.assert_array_equal(ea, ta)
    assert ea.tobytes() == ta.tobytes()  # also the sign of zero and NaN payloads
    np.testing.assert_array_equal(ember.get_rng_state().numpy(), torch.get_rng_state().numpy())


# ---------------------------------------------------------------- generator state
@pytest.mark.parametrize("seed", SEEDS)
def test_seeding_gives_torchs_state_bytes(seed):
    seed_both(seed)
    np.testing.assert_array_equal(ember.get_rng_state().numpy(), torch.get_rng_state().numpy())
    assert ember.initial_seed() == torch.initial_seed() == seed
    g, tg = ember.Generator(), torch.Generator()
    assert g.initial_seed() == tg.initial_seed()
    np.testing.assert_array_equal(g.get_state().numpy(), tg.get_state().numpy())


@pytest.mark.parametrize("seed", [-1, -(2**63), 2**64 - 1, 3.7, "12"])
def test_seed_values_as_torch_reads_them(seed):
    seed_both(seed)
    assert ember.initial_seed() == torch.initial_seed()
    same(torch.rand(3), ember.rand(3))


@pytest.mark.parametrize("seed", [2**64, -(2**63) - 1])
def test_seeds_out_of_range_are_refused_as_torch_refuses_them(seed):
    with pytest.raises(ValueError, match="Overflow when unpacking long long") as e_err:
        ember.manual_seed(seed)
    with pytest.raises(ValueError) as t_err:
        torch.manual_seed(seed)
    assert str(e_err.value) == str(t_err.value)


def test_states_move_between_the_libraries_and_keep_the_cached_normal():
    seed_both(3)
    torch.randn(3, dtype=torch.float64)  # an odd count: the pair's second value is cached
    ember.randn(3, dtype=ember.float64)
    t_state, e_state = torch.get_rng_state(), ember.get_rng_state()
    np.testing.assert_array_equal(e_state.numpy(), t_state.numpy())
    # torch's state restores ember's stream and ember's restores torch's
    ember.set_rng_state(ember.from_numpy(t_state.numpy().copy()))
    torch.set_rng_state(torch.from_numpy(e_state.numpy().copy()))
    same(torch.randn(5), ember.randn(5))
    same(torch.rand(40), ember.rand(40))


def test_state_checks_match_torchs():
    state = torch.get_rng_state()
    cases = [state[:100], torch.zeros(5048, dtype=torch.uint8)]
    bad_left = state.clone()
    bad_left[8:12] = 0
    bad_seeded = state.clone()
    bad_seeded[12:16] = 0
    cases += [bad_left, bad_seeded]
    for bad in cases:
        with pytest.raises(RuntimeError) as t_err:
            torch.set_rng_state(bad)
        with pytest.raises(RuntimeError) as e_err:
            ember.set_rng_state(ember.from_numpy(bad.numpy().copy()))
        assert str(e_err.value) == str(t_err.value)
    with pytest.raises(TypeError, match="RNG state must be a torch.ByteTensor"):
        ember.set_rng_state(ember.zeros(5056))


def test_a_state_restores_the_same_stream_and_generators_are_independent():
    g = ember.Generator().manual_seed(9)
    state = g.get_state()
    first = ember.randn(40, generator=g)
    other = ember.Generator().manual_seed(9)
    ember.rand(100)  # the global generator does not disturb g or other
    np.testing.assert_array_equal(ember.randn(40, generator=other).numpy(), first.numpy())
    g.set_state(state)
    np.testing.assert_array_equal(ember.randn(40, generator=g).numpy(), first.numpy())
    clone = g.clone_state()
    np.testing.assert_array_equal(clone.get_state().numpy(), g.get_state().numpy())


def test_fork_rng_puts_the_global_generator_back():
    seed_both(4)
    with ember.random.fork_rng():
        ember.randn(10)
    with torch.random.fork_rng():
        torch.randn(10)
    same(torch.rand(5), ember.rand(5))
    with ember.random.fork_rng(enabled=False):
        ember.rand(2)
    torch.rand(2)
    same(torch.rand(3), ember.rand(3))


def test_fresh_generator_and_pickled_generator():
    import pickle

    g = ember.Generator().manual_seed(12)
    ember.rand(3, generator=g)
    copy = pickle.loads(pickle.dumps(g))
    np.testing.assert_array_equal(ember.rand(20, generator=copy).numpy(), ember.rand(20, generator=g).numpy())


# ---------------------------------------------------------------- factories
DTYPES = [(torch.float32, ember.float32), (torch.float64, ember.float64)]


@pytest.mark.parametrize("seed", SEEDS[:4])
@pytest.mark.parametrize("n", SIZES)
def test_rand_randn(seed, n):
    for tdt, edt in DTYPES:
        seed_both(seed)
        same(torch.rand(n, dtype=tdt), ember.rand(n, dtype=edt))
        same(torch.randn(n, dtype=tdt), ember.randn(n, dtype=edt))
        same(torch.randn(n, dtype=tdt), ember.randn(n, dtype=edt))


def test_rand_half_and_multidimensional_shapes():
    seed_both(2)
    same(torch.rand(1000, dtype=torch.float16), ember.rand(1000, dtype=ember.float16))
    same(torch.rand(65555, dtype=torch.float16), ember.rand(65555, dtype=ember.float16))
    for n in (5, 16, 17, 40, 1000, 4099):
        same(torch.randn(n, dtype=torch.float16), ember.randn(n, dtype=ember.float16))
        same(
            torch.empty(n, dtype=torch.float16).normal_(0.5, 2.0), ember.empty(n, dtype=ember.float16).normal_(0.5, 2.0)
        )
    same(torch.rand(3, 4, 5), ember.rand(3, 4, 5))
    same(torch.randn((2, 33)), ember.randn((2, 33)))
    same(torch.rand_like(torch.empty(4, 6)), ember.rand_like(ember.empty(4, 6)))
    same(
        torch.randn_like(torch.empty(7, 6, dtype=torch.float64)),
        ember.randn_like(ember.empty(7, 6, dtype=ember.float64)),
    )


def test_interleavings_share_one_stream_and_one_cached_normal():
    seed_both(5)
    steps = [
        (lambda lib: lib.randn(1, dtype=lib.float64)),
        (lambda lib: lib.randn(3)),
        (lambda lib: lib.rand(7)),
        (lambda lib: lib.randn(17)),
        (lambda lib: lib.randint(0, 10, (5,))),
        (lambda lib: lib.randn(2, dtype=lib.float64)),
        (lambda lib: lib.randperm(9)),
        (lambda lib: lib.randn(5)),
        (lambda lib: lib.empty(6).normal_(2.0, 0.5)),
        (lambda lib: lib.empty(20, dtype=lib.float64).uniform_(-3, 4)),
    ]
    for step in steps * 3:
        same(step(torch), step(ember))


@pytest.mark.parametrize(
    "low,high", [(0, 2), (-5, 7), (0, 2**28 - 1), (0, 2**28), (-(2**31), 2**31), (0, 2**32 + 1), (-(2**62), 2**62)]
)
def test_randint_every_range(low, high):
    for n in (1, 17, 1000):
        seed_both(n)
        same(torch.randint(low, high, (n,)), ember.randint(low, high, (n,)))
    seed_both(1)
    same(
        torch.randint(high, (4, 3)) if low == 0 else torch.randint(low, high, (4, 3)),
        ember.randint(high, (4, 3)) if low == 0 else ember.randint(low, high, (4, 3)),
    )


def test_randint_dtypes_and_like():
    seed_both(8)
    same(torch.randint(0, 100, (20,), dtype=torch.int32), ember.randint(0, 100, (20,), dtype=ember.int32))
    same(torch.randint(0, 100, (20,), dtype=torch.float32), ember.randint(0, 100, (20,), dtype=ember.float32))
    same(torch.randint_like(torch.empty(3, 3), 5, 9), ember.randint_like(ember.empty(3, 3), 5, 9))


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, 10, 100, 1000, 60000])
def test_randperm(n):
    for seed in SEEDS[:3]:
        seed_both(seed)
        same(torch.randperm(n), ember.randperm(n))
    same(torch.randperm(n, dtype=torch.int32), ember.randperm(n, dtype=ember.int32))


def test_the_shuffle_replay_equals_the_sequential_shuffle():
    rng = np.random.default_rng(0)
    for n in list(range(2, 40)) + [257, 4096]:
        for _ in range(20 if n < 40 else 2):
            offsets = (rng.integers(0, 2**32, n - 1) % np.arange(n, 1, -1)).astype(np.int64)
            expected = np.arange(n)
            for i, k in enumerate(offsets):
                expected[i], expected[i + k] = expected[i + k], expected[i]
            np.testing.assert_array_equal(_sampling._shuffle(offsets), expected)


def test_normal_every_overload():
    mean = torch.linspace(-1, 1, 40)
    std = torch.linspace(0.1, 2, 40)
    em, es = ember.from_numpy(mean.numpy().copy()), ember.from_numpy(std.numpy().copy())
    seed_both(3)
    same(torch.normal(mean, 2.0), ember.normal(em, 2.0))
    same(torch.normal(0.5, std), ember.normal(0.5, es))
    same(torch.normal(mean, std), ember.normal(em, es))
    same(torch.normal(2.0, 3.0, (40,)), ember.normal(2.0, 3.0, (40,)))
    same(torch.normal(2.0, 3.0, (5,)), ember.normal(2.0, 3.0, (5,)))
    same(torch.normal(mean[:7], std[:7]), ember.normal(em[:7], es[:7]))
    same(
        torch.normal(mean.double(), 1.5),
        ember.normal(ember.from_numpy(mean.double().numpy().copy()), 1.5),
    )


def test_bernoulli_multinomial_poisson():
    probs = torch.rand(6, 50, generator=torch.Generator().manual_seed(1))
    ep = ember.from_numpy(probs.numpy().copy())
    for seed in SEEDS[:3]:
        seed_both(seed)
        same(torch.bernoulli(probs), ember.bernoulli(ep))
        same(torch.bernoulli(probs.double()), ember.bernoulli(ep.double()))
        same(torch.bernoulli(probs, 0.3), ember.bernoulli(ep, 0.3))
        for num, repl in [(1, False), (1, True), (2, False), (5, False), (50, False), (7, True), (200, True)]:
            same(torch.multinomial(probs, num, repl), ember.multinomial(ep, num, repl))
            same(torch.multinomial(probs[0], num, repl), ember.multinomial(ep[0], num, repl))
        rates = torch.tensor([0, 0.5, 3, 9.99, 10, 12.5, 50, 1000, 1e5]).repeat(20)
        same(torch.poisson(rates), ember.poisson(ember.from_numpy(rates.numpy().copy())))
        same(torch.poisson(rates.double()), ember.poisson(ember.from_numpy(rates.double().numpy().copy())))


def test_multinomial_zero_probabilities_come_last_as_in_torch():
    p = torch.tensor([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]])
    seed_both(0)
    same(torch.multinomial(p, 3), ember.multinomial(ember.tensor(p.tolist()), 3))


@pytest.mark.parametrize(
    "probs,num,repl",
    [
        ([1.0, -1.0], 1, False),
        ([0.0, 0.0], 1, False),
        ([float("nan"), 0.0], 1, False),
        ([1.0, 0.0], 0, False),
        ([1.0, 2.0], 3, False),
        ([[[1.0]]], 1, False),
    ],
)
def test_multinomial_errors_are_torchs(probs, num, repl):
    with pytest.raises(RuntimeError) as t_err:
        torch.multinomial(torch.tensor(probs), num, repl)
    with pytest.raises(RuntimeError) as e_err:
        ember.multinomial(ember.tensor(probs), num, repl)
    assert str(e_err.value) == str(t_err.value)
    with pytest.raises(RuntimeError, match="multinomial only supports floating-point dtypes for input, got: Long"):
        ember.multinomial(ember.tensor([1, 2]), 1)


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "int32", "int64", "bool"])
def test_multinomial_names_an_integer_input_dtype_as_torch_does(dtype):
    with pytest.raises(RuntimeError) as t:
        torch.multinomial(torch.ones(3, dtype=getattr(torch, dtype)), 1)
    with pytest.raises(RuntimeError) as e:
        ember.multinomial(ember.ones(3, dtype=getattr(ember, dtype)), 1)
    assert str(e.value) == str(t.value)


# ---------------------------------------------------------------- in-place fills
@pytest.mark.parametrize("tdt,edt", DTYPES)
def test_in_place_fills(tdt, edt):
    for n in (1, 16, 37, 1000):
        seed_both(n)
        fills = [
            ("uniform_", ()),
            ("uniform_", (-2.5, 7.3)),
            ("uniform_", (2.5, 10.1)),
            ("normal_", ()),
            ("normal_", (0.3, 2.7)),
            ("random_", ()),
            ("random_", (10,)),
            ("random_", (3, 1000)),
            ("bernoulli_", ()),
            ("bernoulli_", (0.37,)),
            ("exponential_", ()),
            ("exponential_", (2.5,)),
            ("geometric_", (0.3,)),
            ("cauchy_", ()),
            ("cauchy_", (0.5, 2.0)),
            ("log_normal_", ()),
            ("log_normal_", (0.5, 1.5)),
        ]
        for name, args in fills:
            same(getattr(torch.empty(n, dtype=tdt), name)(*args), getattr(ember.empty(n, dtype=edt), name)(*args))


def test_random_fills_of_integer_and_bool_tensors():
    seed_both(6)
    for tdt, edt in [
        (torch.int64, ember.int64),
        (torch.int32, ember.int32),
        (torch.int16, ember.int16),
        (torch.int8, ember.int8),
        (torch.uint8, ember.uint8),
        (torch.bool, ember.bool),
        (torch.float16, ember.float16),
    ]:
        same(torch.empty(50, dtype=tdt).random_(), ember.empty(50, dtype=edt).random_())
        if tdt is not torch.bool:
            same(torch.empty(50, dtype=tdt).random_(2, 9), ember.empty(50, dtype=edt).random_(2, 9))


def test_fills_of_non_contiguous_tensors_go_in_memory_order():
    seed_both(2)
    t = torch.empty(20, 30).t()
    e = ember.empty(20, 30).t()
    same(t.normal_(), e.normal_())  # not contiguous: the pair-at-a-time path
    same(t.uniform_(-1, 1), e.uniform_(-1, 1))
    t, e = torch.empty(8, 10)[:, ::2], ember.empty(8, 10)[:, ::2]
    same(t.normal_(1.0, 2.0), e.normal_(1.0, 2.0))
    same(t.exponential_(), e.exponential_())


def test_bernoulli_with_a_tensor_of_probabilities():
    p = torch.rand(40, generator=torch.Generator().manual_seed(3))
    seed_both(4)
    same(torch.empty(40).bernoulli_(p), ember.empty(40).bernoulli_(ember.from_numpy(p.numpy().copy())))


def test_generator_arguments_draw_from_that_generator_only():
    seed_both(1)
    tg, eg = torch.Generator().manual_seed(77), ember.Generator().manual_seed(77)
    for f in (
        lambda lib, g: lib.rand(20, generator=g),
        lambda lib, g: lib.randn(20, generator=g),
        lambda lib, g: lib.randint(0, 5, (20,), generator=g),
        lambda lib, g: lib.randperm(20, generator=g),
        lambda lib, g: lib.normal(0.0, 1.0, (20,), generator=g),
        lambda lib, g: lib.empty(20).uniform_(generator=g),
        lambda lib, g: lib.empty(20).normal_(generator=g),
        lambda lib, g: lib.empty(20).random_(generator=g),
        lambda lib, g: lib.empty(20).exponential_(generator=g),
        lambda lib, g: lib.bernoulli(lib.full((20,), 0.5), generator=g),
        lambda lib, g: lib.multinomial(lib.ones(20), 3, generator=g),
    ):
        same(f(torch, tg), f(ember, eg))
        np.testing.assert_array_equal(eg.get_state().numpy(), tg.get_state().numpy())


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.rand(3, dtype=lib.int64),
        lambda lib: lib.randn(3, dtype=lib.int32),
        lambda lib: lib.empty(3, dtype=lib.int64).normal_(),
        lambda lib: lib.empty(3).uniform_(2, 1),
        lambda lib: lib.empty(3).random_(5, 5),
        lambda lib: lib.empty(3).bernoulli_(1.5),
        lambda lib: lib.empty(3).geometric_(0),
        lambda lib: lib.randint(3, 3, (2,)),
    ],
)
def test_errors_are_torchs(call):
    with pytest.raises(RuntimeError) as t_err:
        call(torch)
    with pytest.raises(RuntimeError) as e_err:
        call(ember)
    assert str(e_err.value).splitlines()[0] == str(t_err.value).splitlines()[0]


# ---------------------------------------------------------------- the exact arithmetic underneath
def _nearest_float32(exact) -> np.float32:
    """The float32 nearest to a Fraction (ties to even), found without double rounding."""
    guess = np.float32(float(exact))
    candidates = [np.nextafter(guess, np.float32(-np.inf)), guess, np.nextafter(guess, np.float32(np.inf))]
    from fractions import Fraction

    def distance(f):
        return abs(Fraction(float(f)) - exact)

    best = min(candidates, key=lambda f: (distance(f), int(np.float32(f).view(np.int32)) & 1))
    return np.float32(best)


def test_fused_multiply_add_emulations_round_once():
    from fractions import Fraction

    rng = np.random.default_rng(1)
    a, b, c = (rng.standard_normal(4000) * 10.0 ** rng.integers(-8, 8, 4000) for _ in range(3))
    got = fma64(a, b, c)
    for x, y, z, r in zip(a[:400], b[:400], c[:400], got[:400]):
        exact = Fraction(float(x)) * Fraction(float(y)) + Fraction(float(z))
        assert r == float(exact)  # Python rounds a Fraction to the nearest double
    to_float32 = fma_odd(a, b, c).astype(np.float32)  # rounded to odd, then once more: the exact value's float32
    for x, y, z, r in zip(a[:400], b[:400], c[:400], to_float32[:400]):
        exact = Fraction(float(x)) * Fraction(float(y)) + Fraction(float(z))
        assert r == _nearest_float32(exact)
    a32, b32, c32 = (v.astype(np.float32) for v in (a, b, c))
    got32 = fma32(a32, b32, c32)
    for x, y, z, r in zip(a32[:400], b32[:400], c32[:400], got32[:400]):
        exact = Fraction(float(x)) * Fraction(float(y)) + Fraction(float(z))
        assert r == _nearest_float32(exact)
    # a * b is exactly halfway between two floats and c a hair above zero: rounding a * b + c to double first
    # lands on the halfway point, which then rounds to even (down); the fused result rounds up
    x = y = np.float32(1 + 2**-12)
    z = np.float32(2.0**-80)
    assert fma32(x, y, z) == np.float32(1 + 2**-11 + 2**-23)
    assert np.float32(np.float64(x) * np.float64(y) + np.float64(z)) == np.float32(1 + 2**-11)  # the trap
    for op in (fma32, lambda a, b, c: fma_odd(a, b, c).astype(np.float32)):
        assert op(x, y, -z) == np.float32(1 + 2**-11)


def test_vector_log_and_sincos_match_torchs_single_precision_kernels():
    # torch's float32 randn of 16+ values is 1 - u -> log, 2 pi u -> sincos, so the kernels show through it
    for seed in range(3):
        seed_both(seed)
        t = torch.randn(16 * 20000)
        e = ember.randn(16 * 20000)
        same(t, e)


# ---------------------------------------------------------------- nn: init, default init, dropout
INITS = [
    ("uniform_", {}),
    ("uniform_", {"a": -0.3, "b": 0.8}),
    ("normal_", {}),
    ("normal_", {"mean": 0.5, "std": 0.1}),
    ("xavier_uniform_", {}),
    ("xavier_uniform_", {"gain": 1.7}),
    ("xavier_normal_", {}),
    ("kaiming_uniform_", {}),
    ("kaiming_uniform_", {"a": 5**0.5}),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}),
    ("trunc_normal_", {}),
    ("trunc_normal_", {"mean": 0.0, "std": 1.0, "a": 1.5, "b": 1.7}),
    ("trunc_normal_", {"std": 0.02}),
    ("sparse_", {"sparsity": 0.3}),
]


@pytest.mark.parametrize("name,kw", INITS)
@pytest.mark.parametrize("shape", [(30, 40), (7, 3), (16, 3, 5, 5)])
def test_nn_init(name, kw, shape):
    if name == "sparse_" and len(shape) != 2:
        return
    seed_both(3)
    t, e = torch.empty(shape), ember.empty(shape)
    getattr(torch.nn.init, name)(t, **kw)
    getattr(ember.nn.init, name)(e, **kw)
    same(t, e)
    tg, eg = torch.Generator().manual_seed(5), ember.Generator().manual_seed(5)
    if name != "sparse_":  # torch's sparse_ takes no generator for its permutations
        getattr(torch.nn.init, name)(t, generator=tg, **kw)
        getattr(ember.nn.init, name)(e, generator=eg, **kw)
        same(t, e)


def test_orthogonal_draws_torchs_normals():
    # the QR factorisation itself is LAPACK's, whose last bits differ between builds: compare to rounding
    for shape in [(30, 40), (40, 30), (8, 3, 3)]:
        seed_both(2)
        t, e = torch.empty(shape), ember.empty(shape)
        torch.nn.init.orthogonal_(t)
        ember.nn.init.orthogonal_(e)
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=0, atol=2e-6)
        np.testing.assert_array_equal(ember.get_rng_state().numpy(), torch.get_rng_state().numpy())


def _module_pairs():
    return [
        (lambda nn: nn.Linear(20, 7)),
        (lambda nn: nn.Linear(784, 128, bias=False)),
        (lambda nn: nn.Conv2d(3, 8, 5)),
        (lambda nn: nn.Conv2d(1, 6, 3, groups=1, padding=1)),
        (lambda nn: nn.Conv1d(4, 6, 3)),
        (lambda nn: nn.ConvTranspose2d(4, 6, 3)),
        (lambda nn: nn.Embedding(10, 4)),
        (lambda nn: nn.Bilinear(3, 4, 5)),
        (lambda nn: nn.PReLU()),
        (lambda nn: nn.BatchNorm2d(6)),
        (lambda nn: nn.LayerNorm(6)),
        (lambda nn: nn.Sequential(nn.Linear(784, 200), nn.ReLU(), nn.Linear(200, 200), nn.ReLU(), nn.Linear(200, 10))),
    ]


@pytest.mark.parametrize("make", _module_pairs())
def test_default_module_initialisation(make):
    seed_both(0)
    try:
        tm = make(torch.nn)
    except AttributeError:
        pytest.skip("not a torch module")
    em = make(ember.nn)
    t_state, e_state = tm.state_dict(), em.state_dict()
    assert list(t_state) == list(e_state)
    for k in t_state:
        np.testing.assert_array_equal(e_state[k].numpy(), t_state[k].numpy(), err_msg=k)
    np.testing.assert_array_equal(ember.get_rng_state().numpy(), torch.get_rng_state().numpy())


def test_dropout_masks():
    x = torch.ones(4, 50)
    ex = ember.ones(4, 50)
    x4, ex4 = torch.ones(4, 6, 3, 3), ember.ones(4, 6, 3, 3)
    F, EF = torch.nn.functional, ember.nn.functional
    for p in (0.1, 0.3, 0.5, 0.9):
        seed_both(int(p * 10))
        same(F.dropout(x, p), EF.dropout(ex, p))
        same(F.alpha_dropout(x * 0.5, p, True), EF.alpha_dropout(ex * 0.5, p, True))
        same(F.dropout2d(x4, p), EF.dropout2d(ex4, p))
        same(torch.nn.Dropout(p)(x), ember.nn.Dropout(p)(ex))
        same(F.dropout(x.t(), p), EF.dropout(ex.t(), p))  # the mask follows the input's memory layout


# ---------------------------------------------------------------- data: loaders, samplers, splits
def test_dataloader_shuffle_orders_over_epochs():
    from torch.utils.data import DataLoader as TLoader
    from torch.utils.data import TensorDataset as TSet

    from ember.utils.data import DataLoader, TensorDataset

    tds, eds = TSet(torch.arange(100)), TensorDataset(ember.arange(100))
    seed_both(0)
    for kw in (dict(batch_size=10, shuffle=True), dict(batch_size=7, shuffle=True, drop_last=True)):
        t_loader, e_loader = TLoader(tds, **kw), DataLoader(eds, **kw)
        for _ in range(3):
            assert [b[0].tolist() for b in e_loader] == [b[0].tolist() for b in t_loader]
            np.testing.assert_array_equal(ember.get_rng_state().numpy(), torch.get_rng_state().numpy())
    t_loader = TLoader(tds, batch_size=9, shuffle=True, generator=torch.Generator().manual_seed(5))
    e_loader = DataLoader(eds, batch_size=9, shuffle=True, generator=ember.Generator().manual_seed(5))
    for _ in range(3):
        assert [b[0].tolist() for b in e_loader] == [b[0].tolist() for b in t_loader]
    np.testing.assert_array_equal(ember.get_rng_state().numpy(), torch.get_rng_state().numpy())


def test_samplers_and_random_split():
    from torch.utils import data as T

    from ember.utils import data as E

    seed_both(1)
    assert list(E.RandomSampler(range(50))) == list(T.RandomSampler(range(50)))
    assert list(E.RandomSampler(range(50), True, 70)) == list(T.RandomSampler(range(50), True, 70))
    assert list(E.RandomSampler(range(50), False, 120)) == list(T.RandomSampler(range(50), False, 120))
    assert list(E.SubsetRandomSampler([5, 9, 11, 2])) == list(T.SubsetRandomSampler([5, 9, 11, 2]))
    weights = [0.1, 0.5, 2, 3, 0]
    assert list(E.WeightedRandomSampler(weights, 10)) == list(T.WeightedRandomSampler(weights, 10))
    assert list(E.WeightedRandomSampler(weights, 3, False)) == list(T.WeightedRandomSampler(weights, 3, False))
    split_e = E.random_split(range(10), [3, 7])
    split_t = T.random_split(range(10), [3, 7])
    assert [list(s.indices) for s in split_e] == [list(s.indices) for s in split_t]
    split_e = E.random_split(range(30), [0.3, 0.3, 0.4], generator=ember.Generator().manual_seed(42))
    split_t = T.random_split(range(30), [0.3, 0.3, 0.4], generator=torch.Generator().manual_seed(42))
    assert [list(s.indices) for s in split_e] == [list(s.indices) for s in split_t]
    np.testing.assert_array_equal(ember.get_rng_state().numpy(), torch.get_rng_state().numpy())


class _Probe:
    """A map-style dataset whose items report the worker's seeds and first draws."""

    def __init__(self, lib) -> None:
        self.lib = lib

    def __len__(self) -> int:
        return 4

    def __getitem__(self, i):
        import random

        info = self.lib.utils.data.get_worker_info()
        return self.lib.tensor(
            [float(info.seed % 2**31), self.lib.rand(1).item(), float(np.random.randint(0, 2**31)), random.random()],
            dtype=self.lib.float64,
        )


def test_worker_seeds_and_their_streams():
    from torch.utils.data import DataLoader as TLoader

    from ember.utils.data import DataLoader

    seed_both(3)
    t_rows = [b.tolist() for b in TLoader(_Probe(torch), batch_size=None, num_workers=2)]
    e_rows = [b.tolist() for b in DataLoader(_Probe(ember), batch_size=None, num_workers=2)]
    assert e_rows == t_rows
    np.testing.assert_array_equal(ember.get_rng_state().numpy(), torch.get_rng_state().numpy())


# ---------------------------------------------------------------- the vision transforms
def test_random_transforms_draw_as_torchvision_does():
    from ember.vision import transforms as T

    img = ember.arange(3 * 8 * 8, dtype=ember.float32).reshape(3, 8, 8) / 192
    seed_both(0)
    T.RandomCrop(5)(img)
    torch.randint(0, 4, size=(1,)), torch.randint(0, 4, size=(1,))
    T.RandomHorizontalFlip()(img)
    torch.rand(1)
    T.RandomRotation(30)(img)
    torch.empty(1).uniform_(-30.0, 30.0)
    np.testing.assert_array_equal(ember.get_rng_state().numpy(), torch.get_rng_state().numpy())


# ---------------------------------------------------------------- shapes nobody wrote down
def test_many_sizes_and_seeds_in_a_row():
    seed_both(2024)
    for n, dtype in itertools.product([5, 16, 23, 48, 129], DTYPES):
        same(torch.randn(n, dtype=dtype[0]), ember.randn(n, dtype=dtype[1]))
        same(torch.empty(n, dtype=dtype[0]).normal_(-1, 3), ember.empty(n, dtype=dtype[1]).normal_(-1, 3))
        same(torch.rand(n, dtype=dtype[0]), ember.rand(n, dtype=dtype[1]))


def test_state_taken_right_after_a_refill_restores():
    """After the first draw from a seed the twister has just refilled its 624 words (its `left` is 624, the
    largest valid value); that state restores and continues as torch's does."""
    draws = []
    for lib in (ember, torch):
        g = lib.Generator().manual_seed(7)
        lib.randint(0, 10, (1,), generator=g)
        state = g.get_state()
        h = lib.Generator()
        h.set_state(state)
        draws.append((lib.randint(0, 1000, (5,), generator=h).tolist(), state.numpy().tobytes()))
    assert draws[0] == draws[1]


# ---------------------------------------------------------------- bounds, layouts and out= (found in review)
@pytest.mark.parametrize(
    "dtype,low,high",
    [
        ("float32", 0, 2**28),
        ("float32", -(2**40), 2**40),
        ("float32", 3, 2**24 + 7),
        ("float64", 0, 2**60),
        ("float64", -(2**55), 2**54 + 3),
        ("float16", 0, 4099),
        ("int64", -(2**62), 2**62),
    ],
)
def test_random_bounds_are_moved_to_values_the_dtype_holds(dtype, low, high):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch and ember both warn beyond 2**digits
        seed_both(0)
        same(
            torch.empty(40, dtype=getattr(torch, dtype)).random_(low, high),
            ember.empty(40, dtype=getattr(ember, dtype)).random_(low, high),
        )
        same(
            torch.randint(low, high, (40,), dtype=getattr(torch, dtype)),
            ember.randint(low, high, (40,), dtype=getattr(ember, dtype)),
        )


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.empty(3, dtype=lib.uint8).random_(-3, 5),
        lambda lib: lib.empty(3, dtype=lib.uint8).random_(0, 300),
        lambda lib: lib.empty(3, dtype=lib.int8).random_(-200, 5),
        lambda lib: lib.empty(3, dtype=lib.int16).random_(0, 40000),
        lambda lib: lib.empty(3, dtype=lib.int32).random_(0, 2**32),
        lambda lib: lib.empty(3, dtype=lib.bool).random_(0, 3),
        lambda lib: lib.empty(3, dtype=lib.float16).random_(0, 70000),
        lambda lib: lib.empty(3).random_(2**31 - 5, 2**31),
        lambda lib: lib.randint_like(lib.zeros(3, dtype=lib.uint8), 300),
        lambda lib: lib.empty(2).uniform_(-3.5e38, 3.4e38),
        lambda lib: lib.empty(2).uniform_(0, float("inf")),
        lambda lib: lib.empty(2).uniform_(float("nan"), 1),
        lambda lib: lib.empty(2).uniform_(-3.4e38, 3.4e38),
        lambda lib: lib.empty(2, dtype=lib.float64).uniform_(-1.7e308, 1.7e308),
        lambda lib: lib.randperm(257, dtype=lib.uint8),
        lambda lib: lib.randperm(129, dtype=lib.int8),
        lambda lib: lib.randperm(2050, dtype=lib.float16),
        lambda lib: lib.randperm(2**24 + 2, dtype=lib.float32),
        lambda lib: lib.randperm(-1),
        lambda lib: lib.empty(3, dtype=lib.int32).exponential_(),
        lambda lib: lib.empty(3).bernoulli_(lib.tensor([0.5, 2.0, 0.1])),
        lambda lib: lib.normal(lib.zeros(5), lib.ones(6)),
        lambda lib: lib.empty(3).normal_(0, -0.5),
        lambda lib: lib.normal(lib.zeros(2), lib.tensor([-1.0, 1.0])),
        lambda lib: lib.bernoulli(lib.zeros(2), 1.5),
        lambda lib: lib.empty(1).expand(4).uniform_(),
    ],
)
def test_argument_checks_are_torchs(call):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError) as t_err:
            call(torch)
        with pytest.raises(RuntimeError) as e_err:
            call(ember)
    assert str(e_err.value).splitlines()[0] == str(t_err.value).splitlines()[0]


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.rand(3, dtype=lib.int64),
        lambda lib: lib.randn(3, dtype=lib.int32),
        lambda lib: lib.empty(3, dtype=lib.bool).geometric_(0.5),
        lambda lib: lib.bernoulli(lib.tensor([1, 0])),
        lambda lib: lib.poisson(lib.tensor([1, 2])),
        lambda lib: lib.randperm(10, dtype=lib.bool),
    ],
)
def test_dtype_errors_are_torchs_not_implemented_errors(call):
    with pytest.raises(NotImplementedError) as t_err:
        call(torch)
    with pytest.raises(NotImplementedError) as e_err:
        call(ember)
    assert str(e_err.value) == str(t_err.value)


def test_non_contiguous_targets_draw_in_their_memory_order():
    def both(f):
        seed_both(21)
        same(f(torch), f(ember))

    both(lambda lib: lib.rand_like(lib.zeros(4, 5).t()))
    both(lambda lib: lib.randn_like(lib.zeros(20, 5).t()))  # not contiguous: torch's pair-at-a-time path
    both(lambda lib: lib.randint_like(lib.zeros(4, 5, dtype=lib.int64).t(), 3, 90))
    both(lambda lib: lib.empty(4, 5).t().bernoulli_(lib.rand(5, 4)))
    both(lambda lib: lib.empty(4, 5).t().bernoulli_(lib.rand(4, 5).t()))
    both(lambda lib: lib.bernoulli(lib.rand(6, 5).t()))
    both(lambda lib: lib.multinomial(lib.rand(4, 6).t(), 2))
    both(lambda lib: lib.multinomial(lib.rand(4, 6).t() + 0.1, 1))
    for _ in range(3):
        both(lambda lib: lib.nn.init.trunc_normal_(lib.empty(30, 20).t()))


def test_out_arguments_are_filled():
    for f in (
        lambda lib, o: lib.rand(4, out=o),
        lambda lib, o: lib.randn(20, out=o),
        lambda lib, o: lib.normal(1.0, 2.0, (5,), out=o),
    ):
        seed_both(3)
        t_out, e_out = torch.zeros(3), ember.zeros(3)
        t_res, e_res = f(torch, t_out), f(ember, e_out)
        assert e_res is e_out and t_res is t_out
        same(t_out, e_out)
    seed_both(3)
    t_out, e_out = torch.zeros(2, dtype=torch.int64), ember.zeros(2, dtype=ember.int64)
    torch.randint(0, 9, (6,), out=t_out)
    ember.randint(0, 9, (6,), out=e_out)
    same(t_out, e_out)
    t_out, e_out = torch.zeros(7, dtype=torch.int64), ember.zeros(7, dtype=ember.int64)
    torch.randperm(7, out=t_out)
    ember.randperm(7, out=e_out)
    same(t_out, e_out)


def test_keyword_forms_and_methods_tutorials_use():
    seed_both(8)
    same(torch.rand(size=(2, 3)), ember.rand(size=(2, 3)))
    same(torch.randn(size=(17,)), ember.randn(size=(17,)))
    same(torch.empty(6).random_(to=5), ember.empty(6).random_(to=5))
    p = torch.rand(3, 4, generator=torch.Generator().manual_seed(1))
    ep = ember.from_numpy(p.numpy().copy())
    same(p.bernoulli(), ep.bernoulli())
    same(p.multinomial(2), ep.multinomial(2))
    same(torch.poisson(torch.tensor([float("inf"), 3.0])), ember.poisson(ember.tensor([float("inf"), 3.0])))


def test_unknown_factory_arguments_are_refused():
    for call in (lambda lib: lib.rand(3, foo=1), lambda lib: lib.randn(3, foo=1), lambda lib: lib.randperm(3, foo=2)):
        with pytest.raises(TypeError):
            call(torch)
        with pytest.raises(TypeError, match="unexpected keyword argument 'foo'"):
            call(ember)
    for call in (lambda lib: lib.rand(3, pin_memory=True), lambda lib: lib.randperm(3, pin_memory=True)):
        with pytest.raises(RuntimeError) as t_err:
            call(torch)
        with pytest.raises(RuntimeError) as e_err:
            call(ember)
        assert str(e_err.value) == str(t_err.value)
    seed_both(1)
    same(torch.rand(3, pin_memory=False), ember.rand(3, pin_memory=False))
