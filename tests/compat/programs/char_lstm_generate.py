# A character-level LSTM language model as courses write it: one-hot free (nn.Embedding),
# nn.LSTM(batch_first=True) with the hidden state carried and detached between batches
# (truncated BPTT), gradient clipping, Adam, then sampling with temperature through
# torch.multinomial and top-k, and perplexity printed with math.exp.
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

text = (
    "the quick brown fox jumps over the lazy dog. " * 6
    + "pack my box with five dozen liquor jugs. " * 6
)
chars = sorted(set(text))
stoi = {ch: i for i, ch in enumerate(chars)}
itos = {i: ch for ch, i in stoi.items()}
encode = lambda s: [stoi[c] for c in s]  # noqa: E731
decode = lambda l: "".join([itos[i] for i in l])  # noqa: E731
data = torch.tensor(encode(text), dtype=torch.long)
print(len(chars), data.shape, data[:10])
torch.manual_seed(1337)
n = int(0.9 * len(data))
train_data, val_data = data[:n], data[n:]
block_size, batch_size = 16, 8


def get_batch(split):
    d = train_data if split == "train" else val_data
    ix = torch.randint(len(d) - block_size, (batch_size,))
    x = torch.stack([d[i : i + block_size] for i in ix])
    y = torch.stack([d[i + 1 : i + block_size + 1] for i in ix])
    return x, y


xb, yb = get_batch("train")
print("inputs:", xb.shape)
print(xb[0])
print("targets:", yb[0])


class CharLSTM(nn.Module):
    def __init__(self, vocab_size, emb=16, hidden=32, layers=2, dropout=0.1):
        super().__init__()
        self.emb = nn.Embedding(vocab_size, emb)
        self.lstm = nn.LSTM(emb, hidden, num_layers=layers, batch_first=True, dropout=dropout)
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, idx, hidden=None):
        out, hidden = self.lstm(self.emb(idx), hidden)
        return self.head(out), hidden


model = CharLSTM(len(chars))
print(model)
print(sum(p.numel() for p in model.parameters()), "parameters")
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)


@torch.no_grad()
def estimate_loss():
    out = {}
    model.eval()
    for split in ["train", "val"]:
        losses = torch.zeros(4)
        for k in range(4):
            X, Y = get_batch(split)
            logits, _ = model(X)
            losses[k] = F.cross_entropy(logits.view(-1, logits.size(-1)), Y.view(-1)).item()
        out[split] = losses.mean()
    model.train()
    return out


hidden = None
for it in range(41):
    if it % 20 == 0:
        losses = estimate_loss()
        print(
            f"step {it}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}, "
            f"val ppl {math.exp(losses['val']):.2f}"
        )
    xb, yb = get_batch("train")
    if hidden is not None:
        hidden = tuple(h.detach() for h in hidden)
    logits, hidden = model(xb, hidden)
    loss = F.cross_entropy(logits.reshape(-1, len(chars)), yb.reshape(-1))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()


@torch.no_grad()
def generate(idx, max_new_tokens, temperature=1.0, top_k=None):
    model.eval()
    hidden = None
    logits, hidden = model(idx, hidden)
    for _ in range(max_new_tokens):
        logits = logits[:, -1, :] / temperature
        if top_k is not None:
            v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
            logits[logits < v[:, [-1]]] = -float("Inf")
        probs = F.softmax(logits, dim=-1)
        idx_next = torch.multinomial(probs, num_samples=1)
        idx = torch.cat((idx, idx_next), dim=1)
        logits, hidden = model(idx_next, hidden)
    return idx


context = torch.tensor([encode("the ")], dtype=torch.long)
print(repr(decode(generate(context, 40)[0].tolist())))
print(repr(decode(generate(context, 40, temperature=0.5, top_k=5)[0].tolist())))
print(repr(decode(generate(torch.zeros((1, 1), dtype=torch.long), 20, top_k=1)[0].tolist())))
