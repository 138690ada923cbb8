# "Autograd mechanics" and "A Gentle Introduction to torch.autograd" idioms: freezing with
# requires_grad_, tensor hooks and retain_grad, grad accumulation, detach/no_grad/
# inference_mode, in-place errors, gradients of non-scalars, torch.autograd.grad with
# create_graph, and the printouts people make along the way.
import torch
import torch.nn as nn

torch.manual_seed(0)
x = torch.randn(5, requires_grad=True)
y = x * 2
while y.data.norm() < 100:
    y = y * 2
print(y)
v = torch.tensor([0.1, 1.0, 0.0001, 1.0, 10.0], dtype=torch.float)
y.backward(v)
print(x.grad)
print(x.requires_grad)
print((x**2).requires_grad)
with torch.no_grad():
    print((x**2).requires_grad)
print(x.requires_grad)
y = x.detach()
print(y.requires_grad)
print(x.eq(y).all())

a = torch.randn(2, 2)
a = (a * 3) / (a - 1)
print(a.requires_grad)
a.requires_grad_(True)
print(a.requires_grad)
b = (a * a).sum()
print(b.grad_fn.name())

model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
for param in model[0].parameters():
    param.requires_grad_(False)
print([p.requires_grad for p in model.parameters()])
out = model(torch.randn(2, 4)).sum()
out.backward()
print(model[0].weight.grad, model[2].bias.grad)

x = torch.ones(3, requires_grad=True)
h = x.register_hook(lambda g: g * 10)
y = (x * x).sum()
y.backward()
print(x.grad)
h.remove()
x.grad = None
z = x * 3
z.retain_grad()
w = (z**2).mean()
w.backward()
print(z.grad, x.grad, z.is_leaf, x.is_leaf, w.is_leaf)
x.grad.zero_()
for _ in range(3):
    (x * 2).sum().backward()
print(x.grad)

x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = x.exp()
y.add_(1)
try:
    y.sum().backward()
except RuntimeError as e:
    print(type(e).__name__, str(e).split(":")[0])
try:
    x.add_(1)
except RuntimeError as e:
    print(type(e).__name__, str(e))
try:
    x.numpy()
except RuntimeError as e:
    print(type(e).__name__, str(e))
print(x.detach().numpy())

x = torch.tensor([1.0, 2.0], requires_grad=True)
y = x**3
(dy,) = torch.autograd.grad(y.sum(), x, create_graph=True)
(d2y,) = torch.autograd.grad(dy.sum(), x)
print(dy, d2y)
with torch.inference_mode():
    z = x * 2
print(z.requires_grad, torch.is_inference_mode_enabled(), z.is_inference())
try:
    torch.ones(2).backward()
except RuntimeError as e:
    print(str(e))
try:
    (x * 2).backward()
except RuntimeError as e:
    print(str(e))
q = x.clone()
print(q.grad_fn.name(), q.requires_grad, x.grad)
print(torch.is_grad_enabled())
torch.set_grad_enabled(False)
print((x * 2).requires_grad)
torch.set_grad_enabled(True)


@torch.no_grad()
def doubler(t):
    return t * 2


print(doubler(x).requires_grad)
print(x.grad is None, x.requires_grad, x.dtype)
