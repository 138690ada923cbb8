# The set-up of a nanoGPT-style training script: a dtype table naming bfloat16, the
# device and autocast choice, TF32 and attention-kernel switches, token ids stored as
# uint16, a few steps of a one-block causal transformer, and the usual environment report.
import math
from contextlib import nullcontext

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn import functional as F

device = "cuda" if torch.cuda.is_available() else "cpu"
device_type = "cuda" if "cuda" in device else "cpu"
dtype = (
    "bfloat16"
    if torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    else "float16"
    if torch.cuda.is_available()
    else "float32"
)
ptdtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[dtype]
print("dtype:", dtype, ptdtype, "bf16 supported:", torch.cuda.is_bf16_supported())
print("bfloat16:", torch.bfloat16, torch.bfloat16.is_floating_point, torch.bfloat16.itemsize)
print(torch.finfo(torch.bfloat16))
print("autocast default on cpu:", torch.get_autocast_dtype("cpu"))
ctx = nullcontext() if device_type == "cpu" else torch.amp.autocast(device_type, dtype=ptdtype)
torch.backends.cuda.matmul.allow_tf32 = True
torch.backends.cudnn.allow_tf32 = True
print(
    "cuda build:", torch.version.cuda, "distributed:", dist.is_available() and dist.is_initialized()
)
print("memory:", torch.cuda.memory_allocated(), torch.cuda.max_memory_allocated())
print(
    "sdp kernels:",
    torch.backends.cuda.flash_sdp_enabled(),
    torch.backends.cuda.math_sdp_enabled(),
    torch.backends.cuda.mem_efficient_sdp_enabled(),
)

# token ids kept as uint16 on disk, cast to int64 for the model (as nanoGPT's get_batch)
rng = np.random.default_rng(0)
data = rng.integers(0, 50, size=400).astype(np.uint16)
tokens = torch.from_numpy(data)
print(tokens.dtype, tokens[:8], tokens.type(), tokens.sum())
try:
    tokens + torch.ones(1, dtype=torch.int32)
except RuntimeError as e:
    print("RuntimeError:", e)
try:
    torch.zeros(2, dtype=torch.int8) + tokens[:2]
except RuntimeError as e:
    print("RuntimeError:", e)
print(tokens[:4].to(torch.float32) / 65535, tokens[:4] == 0, tokens[:6].sort().values)
print(torch.iinfo(torch.uint16), torch.zeros(2, dtype=torch.uint32), torch.uint64)

block_size, batch_size, n_embd, n_head, vocab = 8, 4, 16, 2, 50
torch.manual_seed(1337)


def get_batch():
    ix = torch.randint(len(data) - block_size, (batch_size,))
    x = torch.stack([torch.from_numpy(data[i : i + block_size].astype(np.int64)) for i in ix])
    y = torch.stack(
        [torch.from_numpy(data[i + 1 : i + 1 + block_size].astype(np.int64)) for i in ix]
    )
    return x, y


class CausalSelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=False)
        self.c_proj = nn.Linear(n_embd, n_embd, bias=False)
        self.flash = hasattr(torch.nn.functional, "scaled_dot_product_attention")

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(n_embd, dim=2)
        k = k.view(B, T, n_head, C // n_head).transpose(1, 2)
        q = q.view(B, T, n_head, C // n_head).transpose(1, 2)
        v = v.view(B, T, n_head, C // n_head).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=0.0, is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(vocab, n_embd)
        self.wpe = nn.Embedding(block_size, n_embd)
        self.ln_1 = nn.LayerNorm(n_embd)
        self.attn = CausalSelfAttention()
        self.ln_f = nn.LayerNorm(n_embd)
        self.lm_head = nn.Linear(n_embd, vocab, bias=False)
        self.wte.weight = self.lm_head.weight  # weight tying
        for pn, p in self.named_parameters():
            if pn.endswith("c_proj.weight"):
                torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2))

    def forward(self, idx, targets=None):
        pos = torch.arange(0, idx.size(1), dtype=torch.long, device=idx.device)
        x = self.wte(idx) + self.wpe(pos)
        x = x + self.attn(self.ln_1(x))
        logits = self.lm_head(self.ln_f(x))
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
        return logits, loss


model = GPT().to(device)
print("parameters:", sum(p.numel() for p in model.parameters()))
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, betas=(0.9, 0.95), weight_decay=0.1)
scaler = torch.amp.GradScaler("cpu", enabled=(dtype == "float16"))
with torch.backends.cuda.sdp_kernel(enable_flash=True, enable_math=True):
    for it in range(5):
        X, Y = get_batch()
        with ctx:
            logits, loss = model(X, Y)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
        print(f"iter {it}: loss {loss.item():.4f}, grad norm {norm.item():.4f}")
