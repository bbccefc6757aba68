"""A recurrent classifier written for PyTorch: an LSTM reads each MNIST image row by row (28 steps of 28 pixels).

Runs unchanged on PyTorch (`python rnn_mnist.py DATA_ROOT`) and on ember (`ember run rnn_mnist.py DATA_ROOT`),
where DATA_ROOT holds MNIST/raw/*-ubyte files (torchvision's layout). Seeded, so each library prints the same
lines every time."""

import sys

import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

sequence_length = 28
input_size = 28
hidden_size = 64
num_layers = 2
num_classes = 10
batch_size = 100
learning_rate = 0.01


class RNN(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers, num_classes):
        super().__init__()
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True)
        self.fc = nn.Linear(hidden_size, num_classes)

    def forward(self, x):
        h0 = torch.zeros(self.num_layers, x.size(0), self.hidden_size)
        c0 = torch.zeros(self.num_layers, x.size(0), self.hidden_size)
        out, _ = self.lstm(x, (h0, c0))  # out: (batch, seq_length, hidden_size)
        return self.fc(out[:, -1, :])  # the last time step's hidden state


def main(root: str, epochs: int = 2) -> None:
    torch.manual_seed(0)
    train_dataset = datasets.MNIST(root, train=True, transform=transforms.ToTensor(), download=False)
    test_dataset = datasets.MNIST(root, train=False, transform=transforms.ToTensor(), download=False)
    train_loader = DataLoader(dataset=train_dataset, batch_size=batch_size, shuffle=True)
    test_loader = DataLoader(dataset=test_dataset, batch_size=batch_size, shuffle=False)

    model = RNN(input_size, hidden_size, num_layers, num_classes)
    print(model)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)

    total_step = len(train_loader)
    for epoch in range(epochs):
        for i, (images, labels) in enumerate(train_loader):
            images = images.reshape(-1, sequence_length, input_size)
            outputs = model(images)
            loss = criterion(outputs, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if (i + 1) % 7 == 0:
                print(f"Epoch [{epoch + 1}/{epochs}], Step [{i + 1}/{total_step}], Loss: {loss.item():.4f}")

    model.eval()
    with torch.no_grad():
        correct = 0
        total = 0
        for images, labels in test_loader:
            images = images.reshape(-1, sequence_length, input_size)
            outputs = model(images)
            _, predicted = torch.max(outputs.data, 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
        print(f"Test Accuracy of the model on the {total} test images: {100 * correct / total} %")
    torch.save(model.state_dict(), "rnn_mnist.pt")


if __name__ == "__main__":
    main(sys.argv[1], *(int(a) for a in sys.argv[2:]))
