# Complex numbers and torch.fft the way spectral-methods code uses them: a signal's
# spectrum, a signal recovered by fitting its spectrum (Adam on a real parameter), a 1-D
# spectral convolution (the Fourier layer of FNO: complex weights on the lowest modes,
# trained with SGD), rotary position embeddings via view_as_complex, and a smoothness
# penalty computed in frequency space.
import math

import torch
import torch.nn as nn

torch.manual_seed(0)

# --- complex tensors ----------------------------------------------------------------------
z = torch.tensor([1 + 2j, -0.5j, 3.0])
print(z, z.dtype, z.is_complex())
print(z.real, z.imag, z.abs(), z.angle())
print(z * z.conj(), (z * z.conj()).real.sum().item())
w = torch.polar(torch.tensor([1.0, 2.0]), torch.tensor([0.0, math.pi / 2]))
print(w.abs(), torch.view_as_real(z))
pairs = torch.arange(8.0).reshape(2, 2, 2)
print(torch.view_as_complex(pairs))
print(torch.complex(torch.ones(3), torch.arange(3.0)) @ torch.tensor([1j, 1, -1j]))

# --- a signal's spectrum ------------------------------------------------------------------
n = 64
t = torch.arange(n) / n
signal = torch.sin(2 * math.pi * 3 * t) + 0.5 * torch.cos(2 * math.pi * 7 * t)
spec = torch.fft.rfft(signal)
print(spec.shape, spec.dtype, torch.fft.rfftfreq(n, d=1 / n)[:9])
peaks = spec.abs().topk(2).indices
print("peaks at bins", sorted(peaks.tolist()), (spec.abs()[peaks] / n).round(decimals=3))
back = torch.fft.irfft(spec, n=n)
print("round trip error < 1e-5:", (back - signal).abs().max().item() < 1e-5)
print(torch.fft.fftshift(torch.fft.fftfreq(8)))
full = torch.fft.fft(signal, norm="ortho")
print("Parseval:", round(full.abs().pow(2).sum().item(), 3), round(signal.pow(2).sum().item(), 3))

# --- recover a signal from its magnitude and phase on a few modes -----------------------
x = nn.Parameter(torch.zeros(n))
opt = torch.optim.Adam([x], lr=0.05)
target = spec.clone()
for step in range(101):
    opt.zero_grad()
    pred = torch.fft.rfft(x)
    loss = (pred - target).abs().pow(2).mean() / n
    loss.backward()
    opt.step()
    if step % 25 == 0:
        print(f"step {step:3d} spectral loss {loss.item():.5f}")
print("grad dtype", x.grad.dtype, "max error", round((x.detach() - signal).abs().max().item(), 3))


# --- a Fourier layer (FNO's SpectralConv1d) ---------------------------------------------
class SpectralConv1d(nn.Module):
    def __init__(self, in_channels, out_channels, modes):
        super().__init__()
        self.modes = modes
        scale = 1 / (in_channels * out_channels)
        self.weights = nn.Parameter(
            scale * torch.rand(in_channels, out_channels, modes, dtype=torch.cfloat)
        )

    def forward(self, x):
        x_ft = torch.fft.rfft(x)
        out_ft = torch.zeros(
            x.shape[0], self.weights.shape[1], x.shape[-1] // 2 + 1, dtype=torch.cfloat
        )
        mixed = (x_ft[:, :, None, : self.modes] * self.weights[None]).sum(1)
        out_ft[:, :, : self.modes] = mixed
        return torch.fft.irfft(out_ft, n=x.shape[-1])


layer = SpectralConv1d(2, 2, modes=4)
print(layer.weights.dtype, layer.weights.shape, layer.weights[0, 0])
inputs = torch.randn(8, 2, 32)
smooth = torch.fft.irfft(torch.fft.rfft(inputs)[..., :4], n=32)  # a low-pass target
targets = smooth.flip(1) * 0.5
sgd = torch.optim.SGD(layer.parameters(), lr=2.0, momentum=0.9)
for epoch in range(60):
    sgd.zero_grad()
    loss = nn.functional.mse_loss(layer(inputs), targets)
    loss.backward()
    sgd.step()
    if epoch % 15 == 0:
        print(f"epoch {epoch:2d} loss {loss.item():.6f}")
print(layer.weights.grad.dtype, layer.weights.grad.shape)
print("final loss below 1e-3:", loss.item() < 1e-3)

# --- rotary position embeddings via view_as_complex -------------------------------------
dim, seq = 8, 5
freqs = 1.0 / (10000 ** (torch.arange(0, dim, 2).float() / dim))
angles = torch.outer(torch.arange(seq).float(), freqs)
rot = torch.polar(torch.ones_like(angles), angles)
q = torch.randn(seq, dim, requires_grad=True)
q_c = torch.view_as_complex(q.reshape(seq, dim // 2, 2))
q_rot = torch.view_as_real(q_c * rot).flatten(1)
print(q_rot.shape, q_rot.norm(dim=1).sub(q.norm(dim=1)).abs().max().item() < 1e-5)
q_rot.pow(2).sum().backward()
print("rotation keeps the norm's gradient:", torch.allclose(q.grad, 2 * q.detach(), atol=1e-5))

# --- a smoothness penalty in frequency space ---------------------------------------------
u = nn.Parameter(torch.randn(16))
freq = torch.fft.fftfreq(16)
opt = torch.optim.SGD([u], lr=0.1)
for step in range(3):
    opt.zero_grad()
    penalty = (torch.fft.fft(u).abs().pow(2) * freq.pow(2)).sum()
    penalty.backward()
    opt.step()
    print(f"penalty {penalty.item():.4f}")
