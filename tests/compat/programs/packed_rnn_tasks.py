# Variable-length sequences the way course code handles them: nn.Embedding(padding_idx=0),
# pad_sequence, pack_padded_sequence / pad_packed_sequence through a bidirectional 2-layer
# GRU and LSTM, sorting by length with enforce_sorted=False, an LSTMCell loop that forecasts
# a sine wave (the "time sequence prediction" example), and teacher forcing.
import random

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import (
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
)

torch.manual_seed(0)

# --- a toy task: is the sum of the tokens of a variable-length sequence even? -------------
vocab = 12
seqs = [torch.randint(1, vocab, (int(n),)) for n in torch.randint(2, 9, (64,))]
labels = torch.tensor([int(s.sum().item() % 2 == 0) for s in seqs])
lengths = torch.tensor([len(s) for s in seqs])
print(lengths[:10], labels[:10], labels.float().mean())
padded = pad_sequence(seqs, batch_first=True, padding_value=0)
print(padded.shape, padded[:3])

packed = pack_padded_sequence(padded[:4], lengths[:4], batch_first=True, enforce_sorted=False)
print(packed.data.shape, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices)
print(pack_sequence([torch.tensor([1, 2, 3]), torch.tensor([4, 5])]))


class Classifier(nn.Module):
    def __init__(self, vocab, emb=8, hidden=16, rnn="gru"):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb, padding_idx=0)
        cls = nn.GRU if rnn == "gru" else nn.LSTM
        self.rnn = cls(emb, hidden, num_layers=2, bidirectional=True, batch_first=True, dropout=0.0)
        self.fc = nn.Linear(2 * hidden, 2)

    def forward(self, x, lengths):
        emb = self.embedding(x)
        packed = pack_padded_sequence(emb, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, h = self.rnn(packed)
        if isinstance(h, tuple):
            h = h[0]
        out, out_lengths = pad_packed_sequence(out, batch_first=True)
        # last layer, both directions
        hidden = torch.cat((h[-2, :, :], h[-1, :, :]), dim=1)
        return self.fc(hidden), out, out_lengths


for kind in ("gru", "lstm"):
    torch.manual_seed(1)
    model = Classifier(vocab, rnn=kind)
    print(model)
    print(model.embedding.weight[0], model.embedding.padding_idx)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for epoch in range(15):
        logits, out, out_lengths = model(padded, lengths)
        loss = F.cross_entropy(logits, labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if epoch % 5 == 0:
            acc = (logits.argmax(1) == labels).float().mean()
            print(f"{kind} epoch {epoch:2d} loss {loss.item():.4f} acc {acc.item():.3f}")
    print(out.shape, out_lengths[:8], out[0, lengths[0] :].abs().sum().item())
    print("padding row grad:", model.embedding.weight.grad[0].abs().sum().item())
    names = [n for n, _ in model.rnn.named_parameters()]
    print(names[:4], len(names))

# --- LSTMCell sine-wave forecaster (pytorch/examples time_sequence_prediction) ------------
T, L, N = 20, 30, 8
x = torch.empty(N, L, dtype=torch.float64)
x[:] = torch.arange(L) + torch.randint(-4 * T, 4 * T, (N,)).reshape(N, 1)
data = torch.sin(x / 1.0 / T).to(torch.float64)
input = data[3:, :-1]
target = data[3:, 1:]
test_input = data[:3, :-1]
test_target = data[:3, 1:]


class Sequence(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm1 = nn.LSTMCell(1, 24)
        self.lstm2 = nn.LSTMCell(24, 24)
        self.linear = nn.Linear(24, 1)

    def forward(self, input, future=0):
        outputs = []
        h_t = torch.zeros(input.size(0), 24, dtype=torch.double)
        c_t = torch.zeros(input.size(0), 24, dtype=torch.double)
        h_t2 = torch.zeros(input.size(0), 24, dtype=torch.double)
        c_t2 = torch.zeros(input.size(0), 24, dtype=torch.double)
        for input_t in input.split(1, dim=1):
            h_t, c_t = self.lstm1(input_t, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        for i in range(future):
            h_t, c_t = self.lstm1(output, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        outputs = torch.cat(outputs, dim=1)
        return outputs


torch.manual_seed(0)
seq = Sequence()
seq.double()
criterion = nn.MSELoss()
optimizer = torch.optim.LBFGS(seq.parameters(), lr=0.8, max_iter=3)
for i in range(2):

    def closure():
        optimizer.zero_grad()
        out = seq(input)
        loss = criterion(out, target)
        print(f"loss: {loss.item():.10f}")  # float64 BLAS order shows past ~1e-14
        loss.backward()
        return loss

    optimizer.step(closure)
    with torch.no_grad():
        future = 10
        pred = seq(test_input, future=future)
        loss = criterion(pred[:, :-future], test_target)
        print("STEP", i, "test loss:", f"{loss.item():.10f}")
        y = pred.detach().numpy()
print(y.shape, y[0, -5:].round(4))

# --- GRU seq2seq copy task with teacher forcing -----------------------------------------------
torch.manual_seed(3)
SOS, EOS, V, H = 0, 1, 10, 32
enc_emb, dec_emb = nn.Embedding(V, H), nn.Embedding(V, H)
encoder, decoder = nn.GRU(H, H, batch_first=True), nn.GRU(H, H, batch_first=True)
out_proj = nn.Linear(H, V)
params = [
    *enc_emb.parameters(),
    *dec_emb.parameters(),
    *encoder.parameters(),
    *decoder.parameters(),
    *out_proj.parameters(),
]
opt = torch.optim.Adam(params, lr=5e-3)
teacher_forcing_ratio = 0.5
random.seed(0)
for step in range(30):
    src = torch.randint(2, V, (16, 5))
    tgt = torch.cat([src.flip(1), torch.full((16, 1), EOS)], dim=1)
    _, h = encoder(enc_emb(src))
    dec_in = torch.full((16, 1), SOS, dtype=torch.long)
    loss = 0
    use_tf = random.random() < teacher_forcing_ratio
    for t in range(tgt.size(1)):
        o, h = decoder(dec_emb(dec_in), h)
        logits = out_proj(o.squeeze(1))
        loss = loss + F.cross_entropy(logits, tgt[:, t])
        if use_tf:
            dec_in = tgt[:, t].unsqueeze(1)
        else:
            topv, topi = logits.topk(1)
            dec_in = topi.detach()
    opt.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()
    if step % 10 == 0:
        print(f"step {step} tf={use_tf} loss {loss.item() / tgt.size(1):.4f}")
with torch.no_grad():
    src = torch.tensor([[2, 3, 4, 5, 6]])
    _, h = encoder(enc_emb(src))
    dec_in = torch.tensor([[SOS]])
    decoded = []
    for t in range(6):
        o, h = decoder(dec_emb(dec_in), h)
        dec_in = out_proj(o[:, -1]).argmax(-1, keepdim=True)
        decoded.append(dec_in.item())
    print(src.tolist(), "->", decoded)
