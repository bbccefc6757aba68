"""Seeded data: DataLoader shuffles over epochs, samplers and random_split; the output must be torch's."""

import torch
from torch.utils.data import DataLoader, RandomSampler, TensorDataset, WeightedRandomSampler, random_split

torch.manual_seed(3)
data = TensorDataset(torch.arange(20), torch.arange(20) * 10)
loader = DataLoader(data, batch_size=6, shuffle=True)
for epoch in range(3):
    print(epoch, [batch[0].tolist() for batch in loader])

train, test = random_split(data, [15, 5])
print(sorted(test.indices), test.indices)

fixed = DataLoader(data, batch_size=8, shuffle=True, generator=torch.Generator().manual_seed(7))
print([b[1].tolist() for b in fixed])
print(list(RandomSampler(range(10), replacement=True, num_samples=12)))
print(list(WeightedRandomSampler([0.1, 0.9, 0.5, 0.0], 8)))
print(torch.rand(2))
