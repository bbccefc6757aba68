"""A first convolutional network, written for PyTorch: LeNet-5 on MNIST-style images.

Runs unchanged on PyTorch (`python cnn_mnist.py DATA_ROOT`) and on ember (`ember run cnn_mnist.py DATA_ROOT`),
where DATA_ROOT holds MNIST/raw/*-ubyte files (torchvision's layout). Seeded, so each library prints the same
lines every time; the two libraries' random streams differ, so their numbers differ slightly."""

import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Subset
from torchsummary import summary
from torchvision import datasets, transforms


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, kernel_size=5, padding=2)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)
        self.dropout = nn.Dropout2d(0.1)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.dropout(self.pool(F.relu(self.conv2(x))))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return F.log_softmax(self.fc3(x), dim=1)


def main(root: str, train_size: int = 1200, test_size: int = 200, epochs: int = 2) -> None:
    torch.manual_seed(1)
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    train_set = datasets.MNIST(root, train=True, download=False, transform=transform)
    test_set = datasets.MNIST(root, train=False, download=False, transform=transform)
    train_loader = DataLoader(Subset(train_set, range(min(train_size, len(train_set)))), batch_size=64, shuffle=True)
    test_loader = DataLoader(Subset(test_set, range(min(test_size, len(test_set)))), batch_size=100)

    model = LeNet()
    summary(model, (1, 28, 28), device="cpu")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    for epoch in range(1, epochs + 1):
        model.train()
        for batch_idx, (data, target) in enumerate(train_loader):
            optimizer.zero_grad()
            loss = F.nll_loss(model(data), target)
            loss.backward()
            optimizer.step()
            if batch_idx % 10 == 0:
                print(f"Train Epoch: {epoch} [{batch_idx * len(data)}/{len(train_loader.dataset)}]\tLoss: {loss.item():.6f}")
        scheduler.step()
        model.eval()
        test_loss, correct = 0.0, 0
        with torch.no_grad():
            for data, target in test_loader:
                output = model(data)
                test_loss += F.nll_loss(output, target, reduction="sum").item()
                correct += output.argmax(dim=1).eq(target).sum().item()
        n = len(test_loader.dataset)
        print(f"Test set: Average loss: {test_loss / n:.4f}, Accuracy: {correct}/{n} ({100.0 * correct / n:.0f}%)")
    torch.save(model.state_dict(), "lenet_mnist.pt")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "data")
