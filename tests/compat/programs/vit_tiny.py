"""A tiny Vision Transformer in the timm / "ViT from scratch" blog style on synthetic
16x16 images: patch embedding by a strided Conv2d, a class token and learned position
embeddings initialised with trunc_normal_, pre-norm blocks built from
nn.MultiheadAttention (batch_first) with DropPath (stochastic depth) and LayerScale,
GELU(approximate="tanh") MLPs, weight-decay groups, AdamW with linear warmup + cosine
decay through LambdaLR, label smoothing, gradient clipping, the usual device / determinism
boilerplate, torch.compile and inference_mode, and attention maps from need_weights."""

import math

import torch
import torch.nn as nn

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
torch.manual_seed(0)
torch.backends.cudnn.benchmark = False
torch.backends.cudnn.deterministic = True
print("device:", device)


def drop_path(x, drop_prob: float = 0.0, training: bool = False):
    if drop_prob == 0.0 or not training:
        return x
    keep_prob = 1 - drop_prob
    shape = (x.shape[0],) + (1,) * (x.ndim - 1)  # work with diff dim tensors, not just 2D ConvNets
    random_tensor = x.new_empty(shape).bernoulli_(keep_prob)
    if keep_prob > 0.0:
        random_tensor.div_(keep_prob)
    return x * random_tensor


class DropPath(nn.Module):
    def __init__(self, drop_prob=None):
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x):
        return drop_path(x, self.drop_prob, self.training)

    def extra_repr(self):
        return f"drop_prob={round(self.drop_prob, 3):0.3f}"


class LayerScale(nn.Module):
    def __init__(self, dim, init_values=1e-5):
        super().__init__()
        self.gamma = nn.Parameter(init_values * torch.ones(dim))

    def forward(self, x):
        return x * self.gamma


class PatchEmbed(nn.Module):
    def __init__(self, img_size=16, patch_size=4, in_chans=3, embed_dim=32):
        super().__init__()
        self.num_patches = (img_size // patch_size) ** 2
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)  # B, N, C


class Block(nn.Module):
    def __init__(self, dim, num_heads, mlp_ratio=2.0, drop_path=0.0, init_values=0.1):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = nn.MultiheadAttention(dim, num_heads, batch_first=True)
        self.ls1 = LayerScale(dim, init_values)
        self.drop_path = DropPath(drop_path) if drop_path > 0.0 else nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = nn.Sequential(
            nn.Linear(dim, int(dim * mlp_ratio)),
            nn.GELU(approximate="tanh"),
            nn.Linear(int(dim * mlp_ratio), dim),
        )
        self.ls2 = LayerScale(dim, init_values)

    def forward(self, x, return_attn=False):
        h = self.norm1(x)
        a, w = self.attn(h, h, h, need_weights=return_attn, average_attn_weights=True)
        x = x + self.drop_path(self.ls1(a))
        x = x + self.drop_path(self.ls2(self.mlp(self.norm2(x))))
        return (x, w) if return_attn else x


class ViT(nn.Module):
    def __init__(self, num_classes=4, dim=32, depth=3, heads=4, drop_path_rate=0.1):
        super().__init__()
        self.patch_embed = PatchEmbed(embed_dim=dim)
        n = self.patch_embed.num_patches
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, n + 1, dim))
        dpr = [
            x.item() for x in torch.linspace(0, drop_path_rate, depth)
        ]  # stochastic depth decay rule
        self.blocks = nn.ModuleList([Block(dim, heads, drop_path=dpr[i]) for i in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, num_classes)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        self.apply(self._init_weights)

    def _init_weights(self, m):
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.constant_(m.bias, 0)
        elif isinstance(m, nn.LayerNorm):
            nn.init.constant_(m.bias, 0)
            nn.init.constant_(m.weight, 1.0)

    @torch.jit.ignore
    def no_weight_decay(self):
        return {"pos_embed", "cls_token"}

    def forward(self, x, return_attn=False):
        x = self.patch_embed(x)
        cls_tokens = self.cls_token.expand(x.shape[0], -1, -1)
        x = torch.cat((cls_tokens, x), dim=1) + self.pos_embed
        attns = []
        for blk in self.blocks:
            if return_attn:
                x, w = blk(x, return_attn=True)
                attns.append(w)
            else:
                x = blk(x)
        x = self.norm(x)
        logits = self.head(x[:, 0])
        return (logits, attns) if return_attn else logits


# synthetic data: each class has a bright bar in a different orientation/position
g = torch.Generator().manual_seed(7)
N = 64
y = torch.randint(0, 4, (N,), generator=g)
X = 0.2 * torch.randn(N, 3, 16, 16, generator=g)
for i, k in enumerate(y.tolist()):
    if k == 0:
        X[i, :, 2:4, :] += 1
    elif k == 1:
        X[i, :, :, 10:12] += 1
    elif k == 2:
        X[i, 0].diagonal().add_(2)
    else:
        X[i, 1, 8:, 8:] += 1
X, y = X.to(device), y.to(device)

model = ViT().to(device)
print(model.blocks[1])
n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
print(f"number of params: {n_params}")
print(
    "drop path rates:",
    [
        round(b.drop_path.drop_prob, 3) if isinstance(b.drop_path, DropPath) else 0.0
        for b in model.blocks
    ],
)

skip = model.no_weight_decay()
decay, no_decay = [], []
for name, param in model.named_parameters():
    if not param.requires_grad:
        continue
    if param.ndim <= 1 or name.endswith(".bias") or name in skip:
        no_decay.append(param)
    else:
        decay.append(param)
print(f"decay {len(decay)} tensors, no decay {len(no_decay)} tensors")
optimizer = torch.optim.AdamW(
    [{"params": no_decay, "weight_decay": 0.0}, {"params": decay, "weight_decay": 0.05}], lr=3e-3
)
epochs, steps_per_epoch, warmup = 4, 4, 3
total = epochs * steps_per_epoch


def lr_lambda(step):
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * progress))


scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)
criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
for epoch in range(epochs):
    model.train()
    perm = torch.randperm(N)
    for s in range(steps_per_epoch):
        idx = perm[s * 16 : (s + 1) * 16]
        loss = criterion(model(X[idx]), y[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        scheduler.step()
    print(
        f"epoch {epoch} loss {loss.item():.4f} grad_norm {grad_norm.item():.4f} lr {scheduler.get_last_lr()[1]:.6f}"
    )

model.eval()
compiled = torch.compile(model)
with torch.inference_mode():
    logits, attns = model(X[:8], return_attn=True)
    acc = (compiled(X).argmax(-1) == y).float().mean()
print(f"train accuracy {acc.item():.3f}")
print("attention maps:", len(attns), tuple(attns[0].shape))
cls_attn = attns[-1][:, 0, 1:].reshape(-1, 4, 4)
print("CLS attention to patches (image 0):\n", cls_attn[0].round(decimals=3))
print("rows sum to 1:", torch.allclose(attns[0].sum(-1), torch.ones(8, 17)))
print("layer scale gammas:", [round(b.ls1.gamma.mean().item(), 4) for b in model.blocks])
print(
    "pos_embed std",
    f"{model.pos_embed.std().item():.4f}",
    "cls norm",
    f"{model.cls_token.norm().item():.4f}",
)
