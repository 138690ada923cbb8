# "Saving and Loading Models" and "Saving and loading a general checkpoint": the
# state_dict printouts of the tutorial, a general checkpoint written to a BytesIO and read
# back into new objects, several models in one file, and warmstarting a different model
# with strict=False (its missing and unexpected keys printed).
import io

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim


class TheModelClass(nn.Module):
    def __init__(self):
        super(TheModelClass, self).__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 16 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


torch.manual_seed(0)
model = TheModelClass()
optimizer = optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
print("Model's state_dict:")
for param_tensor in model.state_dict():
    print(param_tensor, "\t", model.state_dict()[param_tensor].size())
print("Optimizer's state_dict:")
for var_name in optimizer.state_dict():
    print(var_name, "\t", optimizer.state_dict()[var_name])

inputs, labels = torch.randn(4, 3, 32, 32), torch.tensor([1, 0, 3, 9])
criterion = nn.CrossEntropyLoss()
for epoch in range(3):
    optimizer.zero_grad()
    loss = criterion(model(inputs), labels)
    loss.backward()
    optimizer.step()
print(
    optimizer.state_dict()["state"][0]["momentum_buffer"].shape,
    len(optimizer.state_dict()["state"]),
)

buffer = io.BytesIO()
torch.save(
    {
        "epoch": epoch,
        "model_state_dict": model.state_dict(),
        "optimizer_state_dict": optimizer.state_dict(),
        "loss": loss,
    },
    buffer,
)
buffer.seek(0)
model2 = TheModelClass()
optimizer2 = optim.SGD(model2.parameters(), lr=0.1)
checkpoint = torch.load(buffer, weights_only=True)
print(sorted(checkpoint.keys()), checkpoint["epoch"])
model2.load_state_dict(checkpoint["model_state_dict"])
optimizer2.load_state_dict(checkpoint["optimizer_state_dict"])
epoch = checkpoint["epoch"]
loss = checkpoint["loss"]
print(loss.requires_grad, loss.grad_fn, f"{loss.item():.6f}")
model2.eval()
print(optimizer2)
with torch.no_grad():
    print(torch.equal(model(inputs), model2(inputs)))
for g in (optimizer, optimizer2):
    g.zero_grad()
    criterion(model(inputs) if g is optimizer else model2(inputs), labels).backward()
    g.step()
print(torch.equal(model.fc3.weight, model2.fc3.weight))

modelA, modelB = TheModelClass(), nn.Sequential(nn.Linear(10, 4), nn.ReLU(), nn.Linear(4, 2))
optimizerA = optim.Adam(modelA.parameters())
optimizerB = optim.Adam(modelB.parameters(), lr=0.01)
f = io.BytesIO()
torch.save(
    {
        "modelA_state_dict": modelA.state_dict(),
        "modelB_state_dict": modelB.state_dict(),
        "optimizerA_state_dict": optimizerA.state_dict(),
        "optimizerB_state_dict": optimizerB.state_dict(),
    },
    f,
)
f.seek(0)
checkpoint = torch.load(f)
print(list(checkpoint["modelB_state_dict"].keys()))
print(checkpoint["optimizerB_state_dict"])


class NetB(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.head = nn.Linear(120, 2)


netB = NetB()
result = netB.load_state_dict(model.state_dict(), strict=False)
print(result)
print(result.missing_keys, result.unexpected_keys)
print(torch.equal(netB.conv1.weight, model.conv1.weight))
try:
    netB.load_state_dict(model.state_dict())
except RuntimeError as e:
    print(str(e).splitlines()[0])
sd = model.state_dict()
sd["fc3.weight"] = torch.zeros(3, 3)
try:
    model.load_state_dict(sd)
except RuntimeError as e:
    print(str(e))
