# PyTorch's recipe "Reasoning about Shapes in PyTorch": the meta device computes output
# shapes without data; a model built on meta gets memory later with to_empty.
import torch
import torch.nn as nn
import torch.nn.functional as F

t = torch.rand(2, 3, 10, 10, device="meta")
conv = torch.nn.Conv2d(3, 5, 2, device="meta")
out = conv(t)
print(out)
print(out.shape, out.dtype, out.device, out.is_meta, out.stride())
print(t.device == torch.device("meta"), torch.device("meta"), repr(torch.device("meta")))


class Net(nn.Module):
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
        x = torch.flatten(x, 1)  # flatten all dimensions except batch
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


def fw_hook(module, input, output):
    print(f"Shape of output to {module} is {output.shape}.")


# Any tensor created within this torch.device context manager will be on the meta device.
with torch.device("meta"):
    net = Net()
    inp = torch.randn((1024, 3, 32, 32))

handles = []
for name, layer in net.named_modules():
    handles.append(layer.register_forward_hook(fw_hook))

out = net(inp)
print(out)
for h in handles:
    h.remove()

# the random stream was not touched by anything built on meta
torch.manual_seed(0)
a = torch.randn(3)
torch.manual_seed(0)
with torch.device("meta"):
    big = nn.Linear(4096, 4096)
    noise = torch.randn(8)
print(torch.equal(a, torch.randn(3)), big.weight, noise.requires_grad)

# Every tensor the model made is meta, with PyTorch's dtypes and sizes
with torch.device("meta"):
    bn = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU())
for k, v in bn.state_dict().items():
    print(k, v)
y = bn(torch.empty(2, 3, 8, 8, device="meta"))
print(y.shape, y.grad_fn is not None, y.requires_grad)
y.sum().backward()
print(bn[0].weight.grad)

# Shapes through a small transformer block and an LSTM, all on meta
emb = nn.Embedding(100, 32, device="meta")
block = nn.TransformerEncoderLayer(32, 4, 64, batch_first=True, device="meta")
lstm = nn.LSTM(32, 16, batch_first=True, bidirectional=True, device="meta")
ids = torch.zeros(4, 12, dtype=torch.long, device="meta")
h = block(emb(ids))
o, (hn, cn) = lstm(h)
print(h.shape, o.shape, hn.shape, cn.shape, o.device)
logits = o.mean(1) @ torch.empty(32, 5, device="meta")
print(logits, logits.argmax(-1), logits.softmax(-1).dtype)
loss = F.cross_entropy(logits, torch.zeros(4, dtype=torch.long, device="meta"))
print(loss, loss.shape)

# Materialising: to_empty gives real (uninitialised) storage, then the usual init
torch.manual_seed(1)
model = nn.Linear(3, 2, device="meta")
print(model.weight.is_meta, model.weight.device)
model.to_empty(device="cpu")
print(model.weight.device, model.weight.shape, model.weight.is_meta)
model.reset_parameters()
print(model.weight, model.bias)
print(model(torch.ones(1, 3)))
m2 = nn.Linear(2, 2).to("meta")
print(m2.weight, m2.weight.requires_grad)

# What has no data cannot be read: PyTorch's errors
x = torch.empty(3, 4, device="meta")
for f in (
    lambda: x.sum().item(),
    lambda: x.numpy(),
    lambda: x.tolist(),
    lambda: x.cpu(),
    lambda: x.to("cpu"),
    lambda: float(x[0, 0]),
    lambda: bool(x.sum() > 0),
    lambda: x + torch.ones(3, 4),
    lambda: torch.ones(3, 4) + x,
    lambda: m2.to("cpu"),
):
    try:
        f()
    except Exception as e:
        print(type(e).__name__ + ":", e)
print(x + torch.tensor(2.0), x.to(torch.float64), x.new_zeros(2), torch.zeros_like(x).is_meta)
print(torch.arange(5, device="meta"), torch.full((2,), 7, device="meta"))
print(x.data_ptr(), x.view(-1).shape, x.t().stride(), x.t().contiguous().stride())

# Loading a checkpoint into a model built on meta (how large models are loaded): copying
# into meta parameters is a no-op PyTorch warns about; assign=True takes the tensors
import warnings  # noqa: E402

torch.manual_seed(0)
src = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.Linear(4, 2))
sd = src.state_dict()
with torch.device("meta"):
    model = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.Linear(4, 2))
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    print(model.load_state_dict(sd))
for w in caught[:2]:
    print(w.category.__name__, w.message)
print(len(caught), model[0].weight)
print(model.load_state_dict(sd, assign=True))
print(model[0].weight.device, model[0].weight.requires_grad, type(model[0].weight).__name__)
print(model(torch.ones(1, 3)))
print(model[0].weight is sd["0.weight"], model[0].weight.data_ptr() == sd["0.weight"].data_ptr())
print(sum(p.numel() for p in model.parameters()), {p.device.type for p in model.parameters()})
