"""The image-classifier lesson, written for PyTorch: a small CNN on CIFAR-10 with per-class accuracy.

Runs unchanged on PyTorch and on ember (`ember run cifar10_classifier.py DATA_ROOT [EPOCHS]`), where
DATA_ROOT holds the extracted cifar-10-batches-py folder."""

import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
import torchvision.transforms as transforms


class SmallNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def main(root: str, epochs: int) -> None:
    torch.manual_seed(0)
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])
    trainset = torchvision.datasets.CIFAR10(root=root, train=True, download=False, transform=transform)
    testset = torchvision.datasets.CIFAR10(root=root, train=False, download=False, transform=transform)
    trainloader = torch.utils.data.DataLoader(trainset, batch_size=4, shuffle=True)
    testloader = torch.utils.data.DataLoader(testset, batch_size=4, shuffle=False)
    classes = trainset.classes

    net = SmallNet()
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
    for epoch in range(epochs):
        running_loss = 0.0
        for i, (inputs, labels) in enumerate(trainloader):
            optimizer.zero_grad()
            loss = criterion(net(inputs), labels)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
            if i % 20 == 19:
                print(f"[{epoch + 1}, {i + 1:5d}] loss: {running_loss / 20:.3f}")
                running_loss = 0.0
    print("Finished Training")

    correct = {name: 0 for name in classes}
    total = {name: 0 for name in classes}
    with torch.no_grad():
        for images, labels in testloader:
            _, predictions = torch.max(net(images), 1)
            for label, prediction in zip(labels, predictions):
                total[classes[label]] += 1
                correct[classes[label]] += int(label == prediction)
    for name in classes:
        share = 100 * correct[name] / total[name] if total[name] else 0.0
        print(f"Accuracy for class: {name:5s} is {share:.1f} %")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "./data", int(sys.argv[2]) if len(sys.argv) > 2 else 2)
