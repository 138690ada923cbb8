"""Character-level language models, ready to train: a GPT-style transformer (``CharGPT``)
and an LSTM (``CharLSTM``), the builder ``build_text_model`` and ``generate`` for sampling.

``CharGPT`` is the model of ``examples/char_transformer.py``: token and position embeddings,
``n_layer`` pre-norm blocks of causal multi-head self-attention and a GELU MLP, a final
LayerNorm, and an output layer tied to the token embedding; weights N(0, 0.02), the residual
projections N(0, 0.02 / sqrt(2 n_layer)) (GPT-2's scheme). Both models map token ids
(N, T) to logits (N, T, vocab) and, given targets, also return the mean cross-entropy.
"""

from __future__ import annotations

import math

import numpy as np

from gradfit import nn
from gradfit._arrays import unwrap, wrap
from gradfit._grad_mode import no_grad
from gradfit.nn import functional as F
from gradfit.tensor import Tensor

__all__ = ["CharGPT", "CharLSTM", "TokenLogits", "build_text_model", "generate"]


class CausalSelfAttention(nn.Module):
    def __init__(self, n_embd: int, n_head: int, dropout: float) -> None:
        super().__init__()
        if n_embd % n_head:
            raise ValueError(f"n_embd={n_embd} must be divisible by n_head={n_head}")
        self.n_head, self.dropout = n_head, dropout
        self.qkv = nn.Linear(n_embd, 3 * n_embd)
        self.proj = nn.Linear(n_embd, n_embd)
        self.resid_drop = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        b, t, c = x.shape
        q, k, v = self.qkv(x).split(c, dim=2)
        q = q.view(b, t, self.n_head, c // self.n_head).transpose(1, 2)
        k = k.view(b, t, self.n_head, c // self.n_head).transpose(1, 2)
        v = v.view(b, t, self.n_head, c // self.n_head).transpose(1, 2)
        p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)
        y = y.transpose(1, 2).contiguous().view(b, t, c)
        return self.resid_drop(self.proj(y))


class Block(nn.Module):
    """x + attn(ln1(x)), then + mlp(ln2(x)) (pre-norm)."""

    def __init__(self, n_embd: int, n_head: int, dropout: float) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(n_embd)
        self.attn = CausalSelfAttention(n_embd, n_head, dropout)
        self.ln2 = nn.LayerNorm(n_embd)
        self.mlp = nn.Sequential(
            nn.Linear(n_embd, 4 * n_embd),
            nn.GELU(),
            nn.Linear(4 * n_embd, n_embd),
            nn.Dropout(dropout),
        )

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


def _loss(logits: Tensor, targets: Tensor | None):
    if targets is None:
        return None
    return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))


class CharGPT(nn.Module):
    """A GPT-style character model (see the module docstring); context ``block_size``."""

    def __init__(
        self,
        vocab_size: int,
        block_size: int = 128,
        n_layer: int = 4,
        n_head: int = 4,
        n_embd: int = 128,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.block_size = block_size
        self.tok_emb = nn.Embedding(vocab_size, n_embd)
        self.pos_emb = nn.Embedding(block_size, n_embd)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.Sequential(*[Block(n_embd, n_head, dropout) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.head = nn.Linear(n_embd, vocab_size, bias=False)
        self.head.weight = self.tok_emb.weight  # weight tying
        self.apply(self._init_weights)
        for name, p in self.named_parameters():
            if name.endswith("proj.weight") or name.endswith("mlp.2.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx: Tensor, targets: Tensor | None = None):
        t = idx.shape[1]
        if t > self.block_size:
            raise ValueError(f"CharGPT: sequence of {t} tokens, the context is {self.block_size}")
        pos = wrap(np.arange(t, dtype=np.int64))
        x = self.drop(self.tok_emb(idx) + self.pos_emb(pos))
        logits = self.head(self.ln_f(self.blocks(x)))
        return logits, _loss(logits, targets)


class CharLSTM(nn.Module):
    """Embedding -> ``num_layers``-layer LSTM -> Linear to the vocabulary."""

    def __init__(
        self,
        vocab_size: int,
        n_embd: int = 64,
        hidden_size: int = 256,
        num_layers: int = 2,
        dropout: float = 0.0,
        block_size: int = 128,
    ) -> None:
        super().__init__()
        self.block_size = block_size  # the context generate() feeds back
        self.tok_emb = nn.Embedding(vocab_size, n_embd)
        self.lstm = nn.LSTM(n_embd, hidden_size, num_layers, batch_first=True, dropout=dropout)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, idx: Tensor, targets: Tensor | None = None):
        out, _ = self.lstm(self.tok_emb(idx))
        logits = self.head(out)
        return logits, _loss(logits, targets)


class TokenLogits(nn.Module):
    """A character model as a classifier of every position: token ids (N, T) -> logits
    (N, vocab, T), PyTorch's layout for ``cross_entropy`` over positions."""

    def __init__(self, lm: nn.Module) -> None:
        super().__init__()
        self.lm = lm

    def forward(self, idx: Tensor) -> Tensor:
        logits, _ = self.lm(idx)
        return logits.transpose(1, 2)


def build_text_model(kind: str, vocab_size: int, **config) -> nn.Module:
    """``kind`` 'transformer' (``CharGPT``; block_size, n_layer, n_head, n_embd, dropout) or
    'lstm' (``CharLSTM``; n_embd, hidden_size, num_layers, dropout, block_size)."""
    if kind == "transformer":
        return CharGPT(vocab_size, **config)
    if kind == "lstm":
        return CharLSTM(vocab_size, **config)
    raise ValueError(f"build_text_model: unknown kind {kind!r}; expected 'transformer' or 'lstm'")


def generate(
    model: nn.Module,
    idx: Tensor,
    max_new_tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    generator=None,
) -> Tensor:
    """Append ``max_new_tokens`` sampled tokens to ``idx`` (N, T): each from
    softmax(logits of the last position / temperature), restricted to the ``top_k`` most
    likely if given, by inverse-CDF sampling with one uniform draw per row from gradfit's
    generator. The model runs in eval mode without recording a graph."""
    from gradfit.random import rand

    if temperature <= 0:
        raise ValueError(f"generate: temperature must be positive, got {temperature}")
    was_training = model.training
    model.eval()
    ids = unwrap(idx).astype(np.int64)
    with no_grad():
        for _ in range(max_new_tokens):
            logits, _ = model(wrap(ids[:, -model.block_size :]))
            last = unwrap(logits)[:, -1, :].astype(np.float64) / temperature
            if top_k is not None and top_k < last.shape[-1]:
                kth = np.sort(last, axis=-1)[:, -top_k][:, None]
                last = np.where(last < kth, -np.inf, last)
            p = np.exp(last - last.max(axis=-1, keepdims=True))
            cdf = np.cumsum(p / p.sum(axis=-1, keepdims=True), axis=-1)
            u = unwrap(rand(ids.shape[0], 1, generator=generator, dtype=np.float64))
            nxt = np.minimum((cdf < u).sum(axis=-1, keepdims=True), cdf.shape[-1] - 1)
            ids = np.concatenate([ids, nxt.astype(np.int64)], axis=1)
    model.train(was_training)
    return wrap(ids)
