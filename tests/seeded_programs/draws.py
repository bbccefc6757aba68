"""A seeded walk through torch's random functions; its whole output must be torch's."""

import torch

torch.manual_seed(0)
print(torch.rand(3))
print(torch.randn(2, 3))
print(torch.randn(20))
print(torch.randint(0, 10, (8,)))
print(torch.randint(-(2**40), 2**40, (3,)))
print(torch.randperm(12))
print(torch.normal(0.5, 2.0, (4,)))
print(torch.normal(torch.arange(5.0), 0.1))
print(torch.bernoulli(torch.full((10,), 0.3)))
print(torch.multinomial(torch.tensor([0.1, 0.2, 0.7]), 6, replacement=True))
print(torch.multinomial(torch.tensor([0.1, 0.2, 0.3, 0.4]), 3))
print(torch.poisson(torch.tensor([0.5, 4.0, 30.0])))
print(torch.empty(5).uniform_(-1, 1))
print(torch.empty(5).exponential_(2.0))
print(torch.empty(4, dtype=torch.float64).normal_(1.0, 0.5))

state = torch.get_rng_state()
a = torch.rand(2)
torch.set_rng_state(state)
print(torch.equal(a, torch.rand(2)), state.shape, state.dtype)

g = torch.Generator().manual_seed(42)
print(g.initial_seed(), torch.rand(3, generator=g), torch.randn(17, generator=g)[-3:])
print(torch.initial_seed())
