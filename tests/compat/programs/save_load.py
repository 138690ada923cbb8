# torch.save / torch.load of a model and its optimizer, as tutorials checkpoint.
import os
import sys
import tempfile

import torch
import torch.nn as nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
for _ in range(3):
    optimizer.zero_grad()
    loss = model(torch.randn(5, 4)).pow(2).mean()
    loss.backward()
    optimizer.step()
print(model)
folder = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp()
path = os.path.join(folder, "checkpoint.pth")
torch.save(
    {
        "epoch": 3,
        "model_state_dict": model.state_dict(),
        "optimizer_state_dict": optimizer.state_dict(),
        "loss": loss.item(),
    },
    path,
)
torch.save(model.state_dict(), os.path.join(folder, "model.pt"))
checkpoint = torch.load(path, weights_only=True)
print(sorted(checkpoint), checkpoint["epoch"], f"{checkpoint['loss']:.6f}")
restored = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
print(restored.load_state_dict(checkpoint["model_state_dict"]))
opt2 = torch.optim.Adam(restored.parameters(), lr=0.01)
opt2.load_state_dict(checkpoint["optimizer_state_dict"])
print(opt2.state_dict()["param_groups"][0]["lr"], opt2.state_dict()["state"][0]["step"])
for name, value in torch.load(os.path.join(folder, "model.pt"), weights_only=True).items():
    print(name, value)
x = torch.ones(1, 4)
print(torch.equal(model(x), restored(x)))
