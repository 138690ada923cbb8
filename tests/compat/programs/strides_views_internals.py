# Edward Yang's "PyTorch internals" walk-through, as people replay it: sizes, strides,
# storage offsets and views (the same memory seen differently), contiguity, expand's zero
# strides, as_strided/unfold, dtype reinterpretation with view(dtype), memory shared with
# NumPy, version counters, and the autograd errors views and in-place ops raise.
import numpy as np
import torch

x = torch.arange(12, dtype=torch.float32).reshape(3, 4)
print(x.size(), x.stride(), x.storage_offset(), x.is_contiguous(), x.element_size(), x.nbytes)
views = {
    "x[1]": x[1],
    "x[:, 1]": x[:, 1],
    "x.t()": x.t(),
    "x[1:, 2:]": x[1:, 2:],
    "x[::2, ::3]": x[::2, ::3],
    "x.view(2, 6)": x.view(2, 6),
    "x.unsqueeze(1)": x.unsqueeze(1),
    "x[:, None, :].expand(3, 5, 4)": x[:, None, :].expand(3, 5, 4),
    "x.flip(0)": x.flip(0),
    "x.T.reshape(12)": x.T.reshape(12),
    "x.diagonal()": x.diagonal(),
    "x.narrow(1, 1, 2)": x.narrow(1, 1, 2),
    "x.unfold(1, 2, 1)": x.unfold(1, 2, 1),
    "x.movedim(0, 1)": x.movedim(0, 1),
}
print(f"{'view':32s} {'size':14s} {'stride':12s} off contig shares")
for name, v in views.items():
    shares = v.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()
    print(
        f"{name:32s} {str(tuple(v.shape)):14s} {str(v.stride()):12s} {v.storage_offset():3d} "
        f"{str(v.is_contiguous()):6s} {shares}"
    )
# the byte distance between two views of one storage is deterministic
print("byte offsets:", x[1, 2].data_ptr() - x.data_ptr(), x[2:].data_ptr() - x.data_ptr())
print(x.untyped_storage().nbytes(), x[1:].untyped_storage().nbytes(), len(x.untyped_storage()))

# writing through a view changes the base
v = x[:, 1]
v.mul_(10)
print(x)
x.t()[0].fill_(-1)
print(x[0], x._version, v._version)

# as_strided: a sliding window by hand
s = torch.arange(8.0)
windows = s.as_strided((5, 4), (1, 1))
print(windows, windows.stride(), windows.sum(1))
print(torch.equal(windows, s.unfold(0, 4, 1)))
# reinterpret bits: view(dtype) and back
f = torch.tensor([1.0, -2.0, 0.5])
bits = f.view(torch.int32)
print(bits, bits.view(torch.float32), f.view(torch.uint8).shape, f.view(torch.int16))
print(torch.tensor([1, 256], dtype=torch.int16).view(torch.int8))

# contiguous() copies only when it must
t = x.t()
c = t.contiguous()
print(c.stride(), c.data_ptr() == t.data_ptr(), x.contiguous() is x)
cl = torch.empty(2, 3, 4, 5).to(memory_format=torch.channels_last)
print(cl.stride(), cl.is_contiguous(), cl.is_contiguous(memory_format=torch.channels_last))
print(cl.permute(0, 2, 3, 1).is_contiguous(), torch.empty(2, 3, 4, 5).permute(0, 2, 3, 1).stride())
r = x.t().reshape(-1)  # a copy: the transposed layout cannot be flattened by a view
try:
    x.t().view(-1)
except RuntimeError as e:
    print("RuntimeError:", e)
print(r[:5], r.is_contiguous())

# NumPy shares the memory both ways
a = np.ones((2, 3), dtype=np.float32)
ta = torch.from_numpy(a)
a[0, 0] = 5
ta[1, 2] = 7
print(ta, a, ta.numpy() is a, np.shares_memory(ta.numpy(), a))
print(torch.as_tensor(a).data_ptr() == ta.data_ptr(), torch.tensor(a).data_ptr() == ta.data_ptr())

# version counters and the autograd checks built on them
w = torch.ones(3, requires_grad=True)
y = w * 2
z = y.exp()
print(y._version, z._version)
y.add_(1)
print(y._version)
try:
    z.sum().backward()
except RuntimeError as e:
    print("RuntimeError:", str(e).split("Hint")[0].strip())
w2 = torch.ones(3, requires_grad=True)
u = w2.exp()
u.add_(1)
try:
    u.sum().backward()
except RuntimeError as e:
    print("RuntimeError:", str(e).split("Hint")[0].strip())
u2 = w2 * 3
u2.add_(1)
u2.sum().backward()
print("mul by a constant saves no output:", w2.grad)
try:
    w2[0].mul_(2)
except RuntimeError as e:
    print("RuntimeError:", e)
try:
    w2.add_(1)
except RuntimeError as e:
    print("RuntimeError:", e)
with torch.no_grad():
    w2[0] = 9.0
print(w2, w2._version, w2.is_leaf)
base = torch.zeros(4, requires_grad=True).clone()
view = base[1:3]
view.mul_(3)
print(base.grad_fn.name(), view.grad_fn.name(), view._base is base, base._base)
det = w2.detach()
det[1] = -1
print(w2, det.requires_grad, det._version == w2._version)
