# A tiny Llama-style decoder written the way modern from-scratch repos write it: RMSNorm,
# rotary position embeddings (cos/sin caches, rotate_half), grouped-query attention with
# repeat_interleave, SwiGLU MLP, a KV cache for generation, top-p (nucleus) sampling with
# sort/cumsum/gather, label-smoothed cross-entropy with ignore_index, and AdamW + warmup.
import inspect
import json
import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class ModelArgs:
    dim: int = 32
    n_layers: int = 2
    n_heads: int = 4
    n_kv_heads: int = 2
    vocab_size: int = -1
    multiple_of: int = 16
    norm_eps: float = 1e-5
    max_seq_len: int = 48


class RMSNorm(torch.nn.Module):
    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def _norm(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)

    def forward(self, x):
        output = self._norm(x.float()).type_as(x)
        return output * self.weight


def precompute_rope(head_dim, seq_len, theta=10000.0):
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2).float() / head_dim))
    t = torch.arange(seq_len, dtype=torch.float32)
    freqs = torch.outer(t, inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2 :]
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary_pos_emb(q, k, cos, sin):
    cos = cos[None, None, :, :]
    sin = sin[None, None, :, :]
    return (q * cos) + (rotate_half(q) * sin), (k * cos) + (rotate_half(k) * sin)


class Attention(nn.Module):
    def __init__(self, args: ModelArgs):
        super().__init__()
        self.n_kv_heads = args.n_heads if args.n_kv_heads is None else args.n_kv_heads
        self.n_heads = args.n_heads
        self.n_rep = self.n_heads // self.n_kv_heads
        self.head_dim = args.dim // args.n_heads
        self.wq = nn.Linear(args.dim, args.n_heads * self.head_dim, bias=False)
        self.wk = nn.Linear(args.dim, self.n_kv_heads * self.head_dim, bias=False)
        self.wv = nn.Linear(args.dim, self.n_kv_heads * self.head_dim, bias=False)
        self.wo = nn.Linear(args.n_heads * self.head_dim, args.dim, bias=False)
        self.cache_k = None
        self.cache_v = None

    def forward(self, x, start_pos, cos, sin, mask, use_cache=False):
        bsz, seqlen, _ = x.shape
        xq = self.wq(x).view(bsz, seqlen, self.n_heads, self.head_dim).transpose(1, 2)
        xk = self.wk(x).view(bsz, seqlen, self.n_kv_heads, self.head_dim).transpose(1, 2)
        xv = self.wv(x).view(bsz, seqlen, self.n_kv_heads, self.head_dim).transpose(1, 2)
        xq, xk = apply_rotary_pos_emb(xq, xk, cos, sin)
        if use_cache:
            if start_pos == 0:
                self.cache_k, self.cache_v = xk, xv
            else:
                self.cache_k = torch.cat([self.cache_k, xk], dim=2)
                self.cache_v = torch.cat([self.cache_v, xv], dim=2)
            keys, values = self.cache_k, self.cache_v
        else:
            keys, values = xk, xv
        keys = torch.repeat_interleave(keys, dim=1, repeats=self.n_rep)
        values = values.repeat_interleave(self.n_rep, dim=1)
        scores = torch.matmul(xq, keys.transpose(2, 3)) / math.sqrt(self.head_dim)
        if mask is not None:
            scores = scores + mask
        scores = F.softmax(scores.float(), dim=-1).type_as(xq)
        output = torch.matmul(scores, values)
        output = output.transpose(1, 2).contiguous().view(bsz, seqlen, -1)
        return self.wo(output)


class FeedForward(nn.Module):
    def __init__(self, dim: int, hidden_dim: int, multiple_of: int):
        super().__init__()
        hidden_dim = int(2 * hidden_dim / 3)
        hidden_dim = multiple_of * ((hidden_dim + multiple_of - 1) // multiple_of)
        self.w1 = nn.Linear(dim, hidden_dim, bias=False)
        self.w2 = nn.Linear(hidden_dim, dim, bias=False)
        self.w3 = nn.Linear(dim, hidden_dim, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class TransformerBlock(nn.Module):
    def __init__(self, layer_id: int, args: ModelArgs):
        super().__init__()
        self.attention = Attention(args)
        self.feed_forward = FeedForward(args.dim, 4 * args.dim, args.multiple_of)
        self.layer_id = layer_id
        self.attention_norm = RMSNorm(args.dim, eps=args.norm_eps)
        self.ffn_norm = RMSNorm(args.dim, eps=args.norm_eps)

    def forward(self, x, start_pos, cos, sin, mask, use_cache=False):
        h = x + self.attention(self.attention_norm(x), start_pos, cos, sin, mask, use_cache)
        return h + self.feed_forward(self.ffn_norm(h))


class Transformer(nn.Module):
    def __init__(self, params: ModelArgs):
        super().__init__()
        self.params = params
        self.tok_embeddings = nn.Embedding(params.vocab_size, params.dim)
        self.layers = torch.nn.ModuleList(
            TransformerBlock(i, params) for i in range(params.n_layers)
        )
        self.norm = RMSNorm(params.dim, eps=params.norm_eps)
        self.output = nn.Linear(params.dim, params.vocab_size, bias=False)
        cos, sin = precompute_rope(params.dim // params.n_heads, params.max_seq_len)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)

    def forward(self, tokens, start_pos=0, use_cache=False):
        _bsz, seqlen = tokens.shape
        h = self.tok_embeddings(tokens)
        cos = self.cos[start_pos : start_pos + seqlen]
        sin = self.sin[start_pos : start_pos + seqlen]
        mask = None
        if seqlen > 1:
            mask = torch.full((seqlen, seqlen), float("-inf"), device=tokens.device)
            mask = torch.triu(mask, diagonal=1)
            mask = torch.hstack(
                [torch.zeros((seqlen, start_pos), device=tokens.device), mask]
            ).type_as(h)
        for layer in self.layers:
            h = layer(h, start_pos, cos, sin, mask, use_cache)
        h = self.norm(h)
        return self.output(h).float()


def sample_top_p(probs, p, generator=None):
    probs_sort, probs_idx = torch.sort(probs, dim=-1, descending=True)
    probs_sum = torch.cumsum(probs_sort, dim=-1)
    mask = probs_sum - probs_sort > p
    probs_sort[mask] = 0.0
    probs_sort.div_(probs_sort.sum(dim=-1, keepdim=True))
    next_token = torch.multinomial(probs_sort, num_samples=1, generator=generator)
    next_token = torch.gather(probs_idx, -1, next_token)
    return next_token


torch.manual_seed(0)
text = inspect.getsource(json)[:3000]
chars = sorted(set(text))
PAD = 0
stoi = {c: i + 1 for i, c in enumerate(chars)}
itos = {i: c for c, i in stoi.items()}
args = ModelArgs(vocab_size=len(chars) + 1)
model = Transformer(args)
print(model.layers[0])
print(
    f"{sum(p.numel() for p in model.parameters()):,} parameters",
    [n for n, _ in model.named_buffers()],
)
print(list(model.state_dict().keys())[:4], "cos" in model.state_dict())
print(model.layers[0].feed_forward.w1.weight.shape)

data = torch.tensor([stoi[c] for c in text])
decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
optimizer = torch.optim.AdamW(
    [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
    lr=3e-3,
    betas=(0.9, 0.95),
    eps=1e-8,
)
warmup = 10
scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / warmup))
criterion = nn.CrossEntropyLoss(ignore_index=PAD, label_smoothing=0.1)
T = 32
for step in range(30):
    ix = torch.randint(0, len(data) - T - 1, (8,))
    x = torch.stack([data[i : i + T] for i in ix])
    y = torch.stack([data[i + 1 : i + T + 1] for i in ix])
    y[:, :4] = PAD  # no loss on the first tokens
    logits = model(x)
    loss = criterion(logits.view(-1, logits.size(-1)), y.view(-1))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    gn = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()
    scheduler.step()
    if step % 10 == 0:
        print(
            f"step {step:2d} loss {loss.item():.4f} grad norm {gn.item():.3f} lr {scheduler.get_last_lr()[0]:.2e}"
        )

per_token = F.cross_entropy(logits.transpose(1, 2), y, ignore_index=PAD, reduction="none")
print(
    per_token.shape, (per_token[:, :4] == 0).all().item(), f"{per_token[:, 4:].mean().item():.4f}"
)

model.eval()
with torch.no_grad():
    prompt = torch.tensor([[stoi[c] for c in "def "]])
    full = model(prompt)
    logits = model(prompt, start_pos=0, use_cache=True)
    print("cache matches full:", torch.allclose(full, logits, atol=1e-5))
    g = torch.Generator().manual_seed(42)
    tokens = prompt
    pos = prompt.shape[1]
    out_ids = []
    next_logits = logits[:, -1]
    for _ in range(20):
        probs = torch.softmax(next_logits / 0.8, dim=-1)
        nxt = sample_top_p(probs, 0.9, generator=g)
        out_ids.append(nxt.item())
        next_logits = model(nxt, start_pos=pos, use_cache=True)[:, -1]
        pos += 1
    print(repr("def " + "".join(itos.get(i, "?") for i in out_ids)))
    print(model.layers[0].attention.cache_k.shape)
    # the cached and the uncached paths give the same last-token distribution
    seq = torch.cat([prompt, torch.tensor([out_ids[:-1]])], dim=1)
    ref = model(seq)[:, -1]
    print("incremental == full:", torch.allclose(ref, next_logits, atol=1e-4))
