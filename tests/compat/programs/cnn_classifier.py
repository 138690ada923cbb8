"""The PyTorch CIFAR tutorial's network (course ch. 10) on random images, with batch norm,
dropout, Adam with weight decay, StepLR, gradient clipping, label smoothing and random_split;
then the tensor idioms people print while writing such a program."""

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset, random_split

torch.manual_seed(42)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.bn = nn.BatchNorm2d(16)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)
        self.dropout = nn.Dropout(0.25)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.bn(self.conv2(x))))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = self.dropout(F.relu(self.fc2(x)))
        x = self.fc3(x)
        return x


net = Net()
print(net)
print(sum(p.numel() for p in net.parameters() if p.requires_grad))
X = torch.randn(200, 3, 32, 32)
y = torch.randint(0, 10, (200,))
ds = TensorDataset(X, y)
train_ds, val_ds = random_split(ds, [160, 40], generator=torch.Generator().manual_seed(0))
print(len(train_ds), len(val_ds))
trainloader = DataLoader(train_ds, batch_size=32, shuffle=True, drop_last=True)
valloader = DataLoader(val_ds, batch_size=20)
criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
optimizer = optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-4)
scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
print(optimizer)
for epoch in range(2):
    running_loss = 0.0
    net.train()
    for i, data in enumerate(trainloader, 0):
        inputs, labels = data
        optimizer.zero_grad()
        outputs = net(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), max_norm=1.0)
        optimizer.step()
        running_loss += loss.item()
        if i % 2 == 1:
            print(f"[{epoch + 1}, {i + 1:5d}] loss: {running_loss / 2:.3f}")
            running_loss = 0.0
    scheduler.step()
    print("lr", scheduler.get_last_lr())
    net.eval()
    correct = total = 0
    with torch.no_grad():
        for images, labels in valloader:
            outputs = net(images)
            _, predicted = torch.max(outputs.data, 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
    print(f"Accuracy of the network on the {total} val images: {100 * correct // total} %")
print(net.bn.running_mean[:4].round(decimals=2), net.bn.num_batches_tracked)
print(net.conv1.weight.grad.shape, net.conv1.weight.grad.abs().sum() > 0)
print(optimizer.state_dict()["param_groups"][0]["lr"])
print(torch.allclose(F.softmax(outputs[:2], dim=1).sum(1), torch.ones(2)))
print(outputs.shape, outputs.dtype, predicted[:5])
x = torch.arange(12.0).reshape(3, 4)
print(x, x.T, x.view(-1), x.mean(dim=0, keepdim=True), x.std(1))
print(torch.cat([x, x], dim=0).shape, torch.stack([x, x]).shape)
print(x.unsqueeze(0).permute(2, 0, 1).contiguous().size())
print(F.one_hot(torch.tensor([0, 2, 1]), num_classes=3))
print(torch.where(x > 5, x, torch.zeros_like(x)))
print(x.argmax(), x.argmax(dim=1), x.max(dim=1))
