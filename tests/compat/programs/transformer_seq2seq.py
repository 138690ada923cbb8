# nn.Transformer as in "Language Translation with nn.Transformer" (the Seq2SeqTransformer,
# PositionalEncoding, TokenEmbedding, create_mask with key-padding masks, greedy_decode),
# on a made-up "reverse the sentence" task, plus nn.MultiheadAttention weights and a beam
# search with topk.
import math

import torch
import torch.nn as nn
from torch import Tensor
from torch.nn import Transformer

torch.manual_seed(0)
PAD_IDX, BOS_IDX, EOS_IDX = 0, 1, 2
SRC_VOCAB_SIZE = TGT_VOCAB_SIZE = 12
DEVICE = torch.device("cpu")


class PositionalEncoding(nn.Module):
    def __init__(self, emb_size: int, dropout: float, maxlen: int = 50):
        super(PositionalEncoding, self).__init__()
        den = torch.exp(-torch.arange(0, emb_size, 2) * math.log(10000) / emb_size)
        pos = torch.arange(0, maxlen).reshape(maxlen, 1)
        pos_embedding = torch.zeros((maxlen, emb_size))
        pos_embedding[:, 0::2] = torch.sin(pos * den)
        pos_embedding[:, 1::2] = torch.cos(pos * den)
        pos_embedding = pos_embedding.unsqueeze(-2)
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("pos_embedding", pos_embedding)

    def forward(self, token_embedding: Tensor):
        return self.dropout(token_embedding + self.pos_embedding[: token_embedding.size(0), :])


class TokenEmbedding(nn.Module):
    def __init__(self, vocab_size: int, emb_size):
        super(TokenEmbedding, self).__init__()
        self.embedding = nn.Embedding(vocab_size, emb_size, padding_idx=PAD_IDX)
        self.emb_size = emb_size

    def forward(self, tokens: Tensor):
        return self.embedding(tokens.long()) * math.sqrt(self.emb_size)


class Seq2SeqTransformer(nn.Module):
    def __init__(
        self,
        num_encoder_layers,
        num_decoder_layers,
        emb_size,
        nhead,
        src_vocab_size,
        tgt_vocab_size,
        dim_feedforward=512,
        dropout=0.1,
    ):
        super(Seq2SeqTransformer, self).__init__()
        self.transformer = Transformer(
            d_model=emb_size,
            nhead=nhead,
            num_encoder_layers=num_encoder_layers,
            num_decoder_layers=num_decoder_layers,
            dim_feedforward=dim_feedforward,
            dropout=dropout,
        )
        self.generator = nn.Linear(emb_size, tgt_vocab_size)
        self.src_tok_emb = TokenEmbedding(src_vocab_size, emb_size)
        self.tgt_tok_emb = TokenEmbedding(tgt_vocab_size, emb_size)
        self.positional_encoding = PositionalEncoding(emb_size, dropout=dropout)

    def forward(
        self,
        src,
        trg,
        src_mask,
        tgt_mask,
        src_padding_mask,
        tgt_padding_mask,
        memory_key_padding_mask,
    ):
        src_emb = self.positional_encoding(self.src_tok_emb(src))
        tgt_emb = self.positional_encoding(self.tgt_tok_emb(trg))
        outs = self.transformer(
            src_emb,
            tgt_emb,
            src_mask,
            tgt_mask,
            None,
            src_padding_mask,
            tgt_padding_mask,
            memory_key_padding_mask,
        )
        return self.generator(outs)

    def encode(self, src, src_mask):
        return self.transformer.encoder(self.positional_encoding(self.src_tok_emb(src)), src_mask)

    def decode(self, tgt, memory, tgt_mask):
        return self.transformer.decoder(
            self.positional_encoding(self.tgt_tok_emb(tgt)), memory, tgt_mask
        )


def generate_square_subsequent_mask(sz):
    mask = (torch.triu(torch.ones((sz, sz), device=DEVICE)) == 1).transpose(0, 1)
    mask = mask.float().masked_fill(mask == 0, float("-inf")).masked_fill(mask == 1, float(0.0))  # noqa: UP018
    return mask


def create_mask(src, tgt):
    src_seq_len = src.shape[0]
    tgt_seq_len = tgt.shape[0]
    tgt_mask = generate_square_subsequent_mask(tgt_seq_len)
    src_mask = torch.zeros((src_seq_len, src_seq_len), device=DEVICE).type(torch.bool)
    src_padding_mask = (src == PAD_IDX).transpose(0, 1)
    tgt_padding_mask = (tgt == PAD_IDX).transpose(0, 1)
    return src_mask, tgt_mask, src_padding_mask, tgt_padding_mask


print(generate_square_subsequent_mask(4))
print(Transformer.generate_square_subsequent_mask(4))
print(
    torch.equal(
        generate_square_subsequent_mask(5), nn.Transformer.generate_square_subsequent_mask(5)
    )
)


def make_batch(n):
    srcs, tgts = [], []
    for _ in range(n):
        L = int(torch.randint(3, 7, (1,)))
        s = torch.randint(3, SRC_VOCAB_SIZE, (L,))
        srcs.append(torch.cat([torch.tensor([BOS_IDX]), s, torch.tensor([EOS_IDX])]))
        tgts.append(torch.cat([torch.tensor([BOS_IDX]), s.flip(0), torch.tensor([EOS_IDX])]))
    src = nn.utils.rnn.pad_sequence(srcs, padding_value=PAD_IDX)
    tgt = nn.utils.rnn.pad_sequence(tgts, padding_value=PAD_IDX)
    return src, tgt


transformer = Seq2SeqTransformer(
    2, 2, 32, 4, SRC_VOCAB_SIZE, TGT_VOCAB_SIZE, dim_feedforward=64, dropout=0.0
)
for p in transformer.parameters():
    if p.dim() > 1:
        nn.init.xavier_uniform_(p)
print(transformer.transformer.encoder.layers[0])
print(sum(p.numel() for p in transformer.parameters()))
loss_fn = torch.nn.CrossEntropyLoss(ignore_index=PAD_IDX)
optimizer = torch.optim.Adam(transformer.parameters(), lr=0.001, betas=(0.9, 0.98), eps=1e-9)

src, tgt = make_batch(4)
print(src.T)
masks = create_mask(src, tgt[:-1, :])
print([m.dtype for m in masks], [tuple(m.shape) for m in masks])
print(masks[2])

for epoch in range(1, 41):
    transformer.train()
    src, tgt = make_batch(16)
    tgt_input = tgt[:-1, :]
    src_mask, tgt_mask, src_padding_mask, tgt_padding_mask = create_mask(src, tgt_input)
    logits = transformer(
        src, tgt_input, src_mask, tgt_mask, src_padding_mask, tgt_padding_mask, src_padding_mask
    )
    optimizer.zero_grad()
    tgt_out = tgt[1:, :]
    loss = loss_fn(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1))
    loss.backward()
    optimizer.step()
    if epoch % 10 == 0:
        print(f"Epoch: {epoch}, Train loss: {loss.item():.3f}")


def greedy_decode(model, src, src_mask, max_len, start_symbol):
    memory = model.encode(src, src_mask)
    ys = torch.ones(1, 1).fill_(start_symbol).type(torch.long)
    for i in range(max_len - 1):
        tgt_mask = generate_square_subsequent_mask(ys.size(0)).type(torch.bool)
        out = model.decode(ys, memory, tgt_mask)
        out = out.transpose(0, 1)
        prob = model.generator(out[:, -1])
        _, next_word = torch.max(prob, dim=1)
        next_word = next_word.item()
        ys = torch.cat([ys, torch.ones(1, 1).type_as(src.data).fill_(next_word)], dim=0)
        if next_word == EOS_IDX:
            break
    return ys


transformer.eval()
src = torch.tensor([BOS_IDX, 5, 7, 3, 9, EOS_IDX]).view(-1, 1)
num_tokens = src.shape[0]
src_mask = (torch.zeros(num_tokens, num_tokens)).type(torch.bool)
print(
    greedy_decode(
        transformer, src, src_mask, max_len=num_tokens + 5, start_symbol=BOS_IDX
    ).flatten()
)


@torch.no_grad()
def beam_search(model, src, beam_width=3, max_len=8):
    memory = model.encode(src, torch.zeros(src.size(0), src.size(0)).bool())
    beams = [(0.0, [BOS_IDX])]
    for _ in range(max_len):
        candidates = []
        for score, seq in beams:
            if seq[-1] == EOS_IDX:
                candidates.append((score, seq))
                continue
            ys = torch.tensor(seq).view(-1, 1)
            out = model.decode(ys, memory, nn.Transformer.generate_square_subsequent_mask(len(seq)))
            logp = model.generator(out[-1, 0]).log_softmax(-1)
            topv, topi = logp.topk(beam_width)
            for v, i in zip(topv.tolist(), topi.tolist()):
                candidates.append((score + v, seq + [i]))
        beams = sorted(candidates, key=lambda c: c[0], reverse=True)[:beam_width]
    return beams


for score, seq in beam_search(transformer, src):
    print(f"{score:.3f}", seq)

# nn.MultiheadAttention directly, batch_first, with attention weights
mha = nn.MultiheadAttention(embed_dim=8, num_heads=2, batch_first=True)
q = torch.randn(2, 3, 8)
kv = torch.randn(2, 5, 8)
kpm = torch.tensor([[False, False, False, True, True], [False] * 5])
out, w = mha(q, kv, kv, key_padding_mask=kpm)
print(out.shape, w.shape)
print(w)
out2, w2 = mha(q, kv, kv, key_padding_mask=kpm, need_weights=True, average_attn_weights=False)
print(w2.shape, torch.allclose(w2.mean(1), w))
out3, w3 = mha(q, kv, kv, need_weights=False)
print(w3, out3.shape)
attn_mask = torch.triu(torch.ones(3, 5, dtype=torch.bool), diagonal=1)
out4, w4 = mha(q, kv, kv, attn_mask=attn_mask)
print(w4[0])
print(mha)
print([n for n, _ in mha.named_parameters()])
