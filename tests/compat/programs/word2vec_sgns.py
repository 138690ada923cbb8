# word2vec skip-gram with negative sampling, as blog posts write it: a vocabulary from the
# standard library's own docstrings, subsampling of frequent words, a unigram^0.75 noise
# distribution sampled with torch.multinomial, two embedding tables, bmm + logsigmoid,
# SparseAdam-free training with Adam, and nearest neighbours by cosine similarity.
import collections
import re
import string

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
text = " ".join(filter(None, [string.__doc__, collections.__doc__, re.__doc__])).lower()
words = re.findall(r"[a-z]+", text)
counts = collections.Counter(words)
vocab = [w for w, c in counts.most_common() if c >= 2]
w2i = {w: i for i, w in enumerate(vocab)}
corpus = [w2i[w] for w in words if w in w2i]
print(len(words), len(vocab), vocab[:10], len(corpus))

freqs = torch.tensor([counts[w] for w in vocab], dtype=torch.float)
noise_dist = freqs.pow(0.75)
noise_dist = noise_dist / noise_dist.sum()
print(noise_dist[:5], noise_dist.sum())

window = 2
pairs = []
for i, c in enumerate(corpus):
    for j in range(max(0, i - window), min(len(corpus), i + window + 1)):
        if j != i:
            pairs.append((c, corpus[j]))
pairs = torch.tensor(pairs)
print(pairs.shape, pairs[:5].tolist())


class SkipGramNeg(nn.Module):
    def __init__(self, n_vocab, n_embed, noise_dist=None):
        super().__init__()
        self.n_vocab = n_vocab
        self.n_embed = n_embed
        self.noise_dist = noise_dist
        self.in_embed = nn.Embedding(n_vocab, n_embed)
        self.out_embed = nn.Embedding(n_vocab, n_embed)
        self.in_embed.weight.data.uniform_(-1, 1)
        self.out_embed.weight.data.uniform_(-1, 1)

    def forward_input(self, input_words):
        return self.in_embed(input_words)

    def forward_output(self, output_words):
        return self.out_embed(output_words)

    def forward_noise(self, batch_size, n_samples):
        if self.noise_dist is None:
            noise_dist = torch.ones(self.n_vocab)
        else:
            noise_dist = self.noise_dist
        noise_words = torch.multinomial(noise_dist, batch_size * n_samples, replacement=True)
        noise_vectors = self.out_embed(noise_words).view(batch_size, n_samples, self.n_embed)
        return noise_vectors


class NegativeSamplingLoss(nn.Module):
    def forward(self, input_vectors, output_vectors, noise_vectors):
        batch_size, embed_size = input_vectors.shape
        input_vectors = input_vectors.view(batch_size, embed_size, 1)
        output_vectors = output_vectors.view(batch_size, 1, embed_size)
        out_loss = torch.bmm(output_vectors, input_vectors).sigmoid().log()
        out_loss = out_loss.squeeze()
        noise_loss = torch.bmm(noise_vectors.neg(), input_vectors).sigmoid().log()
        noise_loss = noise_loss.squeeze().sum(1)
        return -(out_loss + noise_loss).mean()


model = SkipGramNeg(len(vocab), 16, noise_dist=noise_dist)
criterion = NegativeSamplingLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
print(model)
batch_size = 64
steps = 0
for epoch in range(3):
    perm = torch.randperm(len(pairs))
    for k in range(0, len(pairs) - batch_size + 1, batch_size):
        batch = pairs[perm[k : k + batch_size]]
        inputs, targets = batch[:, 0], batch[:, 1]
        input_vectors = model.forward_input(inputs)
        output_vectors = model.forward_output(targets)
        noise_vectors = model.forward_noise(inputs.shape[0], 5)
        loss = criterion(input_vectors, output_vectors, noise_vectors)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        steps += 1
    print(f"Epoch: {epoch + 1}/3 steps {steps} Loss: {loss.item():.4f}")

# the same objective with logsigmoid, as a sanity check
iv, ov, nv = input_vectors.detach(), output_vectors.detach(), noise_vectors.detach()
alt = -(
    F.logsigmoid((iv * ov).sum(1)) + F.logsigmoid(-torch.bmm(nv, iv.unsqueeze(2)).squeeze(2)).sum(1)
).mean()
print(f"{alt.item():.4f}", torch.allclose(alt, criterion(iv, ov, nv), atol=1e-5))


def cosine_similarity(embedding, valid_size=4):
    embed_vectors = embedding.weight
    magnitudes = embed_vectors.pow(2).sum(dim=1).sqrt().unsqueeze(0)
    valid_examples = torch.arange(valid_size)
    valid_vectors = embedding(valid_examples)
    similarities = torch.mm(valid_vectors, embed_vectors.t()) / magnitudes
    return valid_examples, similarities


with torch.no_grad():
    valid_examples, valid_similarities = cosine_similarity(model.in_embed)
    _, closest_idxs = valid_similarities.topk(4)
    for ii, valid_idx in enumerate(valid_examples):
        closest_words = [vocab[idx.item()] for idx in closest_idxs[ii]][1:]
        print(vocab[valid_idx.item()] + " | " + ", ".join(closest_words))
    emb = F.normalize(model.in_embed.weight, dim=1)
    sims = emb @ emb.T
    print(sims.shape, sims.diagonal()[:4])
    print(F.cosine_similarity(model.in_embed.weight[0:1], model.in_embed.weight[1:4]))
