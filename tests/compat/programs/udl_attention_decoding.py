"""Self-attention and decoding as in the "Understanding Deep Learning" notebooks (udlbook,
Notebooks/Chap12/12_2_Multihead_Self_Attention and Chap12/12_4_Decoding_Strategies, by
Simon Prince): two-head scaled self-attention written with tensors on the notebook's
seeded NumPy weights, checked against ``nn.MultiheadAttention`` loaded with the same
weights and against ``F.scaled_dot_product_attention``; then greedy, sampled, top-k,
nucleus and beam-search decoding. GPT-2 and its tokenizer (downloaded in the notebook) are
replaced by a small causal transformer trained here on a toy corpus and a word tokenizer;
the decoding functions keep the notebook's shape (``torch.cat`` of token ids, softmax to
NumPy, ``np.random.choice``)."""

# ruff: noqa: UP031 - the notebooks' %-formatting is part of what is compared

import random
from types import SimpleNamespace

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

np.random.seed(3)
N, D, H = 6, 8, 2
X = np.random.normal(size=(D, N))
H_D = D // H
np.random.seed(0)
heads = [
    {name: np.random.normal(size=(H_D, D)) for name in ("q", "k", "v")}
    | {"b" + name: np.random.normal(size=(H_D, 1)) for name in ("q", "k", "v")}
    for _ in range(H)
]
omega_c = np.random.normal(size=(D, D))


def softmax_cols(data_in):
    return torch.softmax(data_in, dim=0)


def multihead_scaled_self_attention(X, heads, omega_c):
    """The exercise's answer, on tensors: per head Q, K, V, softmax(K^T Q / sqrt(d)) by
    columns, V times it; the heads stacked and mixed by omega_c."""
    X = torch.from_numpy(X)
    outs = []
    for h in heads:
        q = torch.from_numpy(h["bq"]) + torch.from_numpy(h["q"]) @ X
        k = torch.from_numpy(h["bk"]) + torch.from_numpy(h["k"]) @ X
        v = torch.from_numpy(h["bv"]) + torch.from_numpy(h["v"]) @ X
        outs.append(v @ softmax_cols(k.T @ q / np.sqrt(q.shape[0])))
    return torch.from_numpy(omega_c) @ torch.cat(outs, dim=0)


X_prime = multihead_scaled_self_attention(X, heads, omega_c)
np.set_printoptions(precision=3)
print("Your answer:")
print(X_prime.numpy())
torch.set_printoptions(precision=3)
print(X_prime[:2], X_prime.dtype, X_prime.shape)
torch.set_printoptions(profile="default")

mha = nn.MultiheadAttention(D, H, dtype=torch.float64)
with torch.no_grad():
    mha.in_proj_weight.copy_(
        torch.from_numpy(np.concatenate([h[n] for n in ("q", "k", "v") for h in heads]))
    )
    mha.in_proj_bias.copy_(
        torch.from_numpy(np.concatenate([h["b" + n] for n in ("q", "k", "v") for h in heads]))[:, 0]
    )
    mha.out_proj.weight.copy_(torch.from_numpy(omega_c))
    mha.out_proj.bias.zero_()
seq = torch.from_numpy(X.T)
out, weights = mha(seq, seq, seq)
print(mha)
print(torch.allclose(out.T, X_prime), weights.shape, weights.sum(-1))
mask = torch.triu(torch.ones(N, N, dtype=torch.bool), diagonal=1)
print(mha(seq, seq, seq, attn_mask=mask)[1][:3].round(decimals=4))
q = seq[None]
print(F.scaled_dot_product_attention(q, q, q, is_causal=True)[0, :2].round(decimals=4))


def set_seed(seed):  # transformers.set_seed
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


corpus = (
    "the best thing about bath is that it is a place where you can go to see the old roman "
    "baths . the best thing about the city is the food and the people . you can go to the "
    "river and see the old bridge . it is a place where the people are kind and the food is "
    "good . the old city has a river , a bridge and many roman baths ."
)


class Tokenizer:
    def __init__(self, text):
        self.words = sorted(set(text.split()))
        self.index = {w: i for i, w in enumerate(self.words)}
        self.vocab_size = len(self.words)

    def __call__(self, text, return_tensors="pt"):
        ids = torch.tensor([[self.index[w] for w in text.lower().split()]])
        return {"input_ids": ids, "attention_mask": torch.ones_like(ids)}

    def decode(self, ids, skip_special_tokens=True):
        ids = ids.tolist()
        return " ".join(self.words[i] for i in ([ids] if isinstance(ids, int) else ids))


class TinyGPT(nn.Module):
    def __init__(self, vocab, d=32, n_head=4, n_layer=2, max_len=64):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(max_len, d)
        layer = nn.TransformerEncoderLayer(d, n_head, 64, dropout=0.0, batch_first=True)
        self.h = nn.TransformerEncoder(layer, n_layer)
        self.ln_f = nn.LayerNorm(d)
        self.lm_head = nn.Linear(d, vocab, bias=False)

    def forward(self, input_ids, attention_mask=None):
        n = input_ids.shape[1]
        h = self.wte(input_ids) + self.wpe(torch.arange(n)[None])
        mask = nn.Transformer.generate_square_subsequent_mask(n)
        h = self.h(h, mask=mask, is_causal=True)
        return SimpleNamespace(logits=self.lm_head(self.ln_f(h)))


set_seed(0)
tokenizer = Tokenizer(corpus)
model = TinyGPT(tokenizer.vocab_size)
ids = tokenizer(corpus)["input_ids"]
opt = torch.optim.Adam(model.parameters(), lr=3e-3)
for step in range(40):
    starts = torch.randint(0, ids.shape[1] - 17, (8,))
    batch = torch.stack([ids[0, s : s + 17] for s in starts])
    logits = model(batch[:, :-1]).logits
    loss = F.cross_entropy(logits.reshape(-1, tokenizer.vocab_size), batch[:, 1:].reshape(-1))
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 20 == 0:
        print(f"train step {step}: loss {loss.item():.3f}")
model.eval()

np.random.seed(1)
print("Number of tokens in dictionary = %d" % (tokenizer.vocab_size))
for _i in range(3):
    index = np.random.randint(tokenizer.vocab_size)
    print("Token: %d " % (index) + tokenizer.decode(torch.tensor(index), skip_special_tokens=True))


def next_token_probs(input_tokens):
    outputs = model(
        input_ids=input_tokens["input_ids"], attention_mask=input_tokens["attention_mask"]
    )
    return F.softmax(outputs.logits, dim=-1).detach().numpy()[0, -1]


def append(input_tokens, next_token, prob_over_tokens):
    output_tokens = input_tokens
    output_tokens["input_ids"] = torch.cat(
        (output_tokens["input_ids"], torch.tensor([next_token])), dim=1
    )
    output_tokens["attention_mask"] = torch.cat(
        (output_tokens["attention_mask"], torch.tensor([[1]])), dim=1
    )
    output_tokens["last_token_prob"] = prob_over_tokens[next_token]
    return output_tokens


def sample_next_token(input_tokens, model, tokenizer):
    p = next_token_probs(input_tokens)
    next_token = np.random.choice(len(p), 1, replace=False, p=p / p.sum())
    return append(input_tokens, next_token, p)


def get_best_next_token(input_tokens, model, tokenizer):
    p = next_token_probs(input_tokens)
    return append(input_tokens, [np.argmax(p)], p)


def get_top_k_token(input_tokens, model, tokenizer, k=20):
    p = next_token_probs(input_tokens)
    kth_prob_value = np.sort(p)[::-1][k]
    p[p < kth_prob_value] = 0
    p = p / np.sum(p)
    return append(input_tokens, np.random.choice(len(p), 1, replace=False, p=p), p)


def get_nucleus_sampling_token(input_tokens, model, tokenizer, thresh=0.25):
    p = next_token_probs(input_tokens)
    sorted_probs_decreasing = np.sort(p)[::-1]
    thresh_index = np.argmax(np.cumsum(sorted_probs_decreasing) > thresh)
    print("Choosing from %d tokens" % (thresh_index))
    p[p < sorted_probs_decreasing[thresh_index]] = 0
    p = p / np.sum(p)
    return append(input_tokens, np.random.choice(len(p), 1, replace=False, p=p), p)


input_txt = "The best thing about Bath is"
for decode, kwargs in [
    (sample_next_token, {}),
    (get_best_next_token, {}),
    (get_top_k_token, {"k": 3}),
    (get_nucleus_sampling_token, {"thresh": 0.5}),
]:
    set_seed(0)
    input_tokens = tokenizer(input_txt, return_tensors="pt")
    for _i in range(4):
        input_tokens = decode(input_tokens, model, tokenizer, **kwargs)
    print(decode.__name__, "|", tokenizer.decode(input_tokens["input_ids"][0]))
print(input_tokens["input_ids"], input_tokens["attention_mask"].dtype)


def get_kth_most_likely_token(input_tokens, model, tokenizer, k):
    p = next_token_probs(input_tokens)
    next_token = np.where(p == np.sort(p)[::-1][k])[0]
    output_tokens = append(input_tokens, next_token, p)
    output_tokens["log_prob"] = output_tokens["log_prob"] + np.log(p[next_token][0])
    return output_tokens


def print_beams(beams):
    for index, beam in enumerate(beams):
        print(
            "Beam %d, Prob %3.3f: " % (index, beam["log_prob"])
            + tokenizer.decode(beam["input_ids"][0], skip_special_tokens=True)
        )
    print("---")


def do_beam_search(input_tokens_in, model, tokenizer, n_beam=5, beam_length=10):
    input_tokens_in["log_prob"] = 0.0
    beams = [
        get_kth_most_likely_token(dict(input_tokens_in), model, tokenizer, c_k)
        for c_k in range(n_beam)
    ]
    print_beams(beams)
    for _ in range(beam_length - 1):
        beams_all = [
            dict(get_kth_most_likely_token(dict(beam), model, tokenizer, c_k))
            for beam in beams
            for c_k in range(n_beam)
        ]
        log_probs_all = np.array([b["log_prob"] for b in beams_all])
        sorted_index = np.argsort(log_probs_all * -1)
        beams = [dict(beams_all[sorted_index[c_k]]) for c_k in range(n_beam)]
        print_beams(beams)
    return beams[0]


set_seed(0)
best_beam = do_beam_search(tokenizer(input_txt), model, tokenizer, n_beam=3, beam_length=3)
print("Beam search result:")
print(tokenizer.decode(best_beam["input_ids"][0], skip_special_tokens=True))
