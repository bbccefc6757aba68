"""Seeded layers: default initialisation, nn.init and dropout masks; the whole output must be torch's."""

import torch
from torch import nn

torch.manual_seed(1)
layer = nn.Linear(4, 3)
print(layer.weight)
print(layer.bias)
conv = nn.Conv2d(1, 2, 3)
print(conv.weight[0])
print(conv.bias)

net = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Dropout(0.5), nn.Linear(5, 2))
for name, p in net.named_parameters():
    print(name, p.shape, p.flatten()[:4])

w = torch.empty(3, 5)
nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
print(w)
nn.init.xavier_uniform_(w)
print(w)
nn.init.trunc_normal_(w, std=0.02)
print(w)

x = torch.ones(2, 8)
print(nn.Dropout(0.25)(x))
print(torch.nn.functional.dropout(x, p=0.5, training=True))
print(nn.Dropout2d(0.5)(torch.ones(1, 4, 2, 2))[0, :, 0, 0])
net.eval()
print(net[2](x[:, :5]))
