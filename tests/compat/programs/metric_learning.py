# Metric learning with triplet losses, then knowledge distillation with KL divergence, the
# way tutorials write both; the other pair and multi-class losses on one batch.
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
labels = torch.randint(0, 3, (24,))
X = torch.randn(24, 6) + labels.unsqueeze(1).float()


def triplets(labels):
    """For each sample: the next sample of its class and the next of another class."""
    ys = labels.tolist()
    a, p, n = [], [], []
    for i, y in enumerate(ys):
        same = [j for j in range(len(ys)) if ys[j] == y and j != i]
        other = [j for j in range(len(ys)) if ys[j] != y]
        if same and other:
            a.append(i)
            p.append(same[i % len(same)])
            n.append(other[i % len(other)])
    return torch.tensor(a), torch.tensor(p), torch.tensor(n)


embed = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 4))
print(embed)
triplet = nn.TripletMarginLoss(margin=1.0, p=2)
cosine_triplet = nn.TripletMarginWithDistanceLoss(
    distance_function=lambda x, y: 1.0 - F.cosine_similarity(x, y), margin=0.5, swap=True
)
print(triplet, cosine_triplet)
print(nn.TripletMarginWithDistanceLoss())
a, p, n = triplets(labels)
opt = torch.optim.Adam(embed.parameters(), lr=0.01)
for step in range(4):
    opt.zero_grad()
    z = F.normalize(embed(X), dim=1)
    loss = triplet(z[a], z[p], z[n]) + cosine_triplet(z[a], z[p], z[n])
    loss.backward()
    opt.step()
    print(f"metric step {step}: loss {loss.item():.4f}")

with torch.no_grad():
    z = embed(X)
    print(torch.pdist(z[:4]))
    print(nn.PairwiseDistance(p=1.0)(z[:3], z[3:6]))
    print(nn.CosineSimilarity(dim=1)(z[:3], z[3:6]))
    print(torch.cdist(z[:2], z[2:5]))

teacher = nn.Linear(6, 3)
student = nn.Linear(6, 3)
kl = nn.KLDivLoss(reduction="batchmean")
print(kl)
T = 2.0
opt = torch.optim.SGD(student.parameters(), lr=0.1)
for step in range(4):
    opt.zero_grad()
    with torch.no_grad():
        soft = F.softmax(teacher(X) / T, dim=1)
    logits = student(X)
    distill = kl(F.log_softmax(logits / T, dim=1), soft) * T * T
    loss = 0.5 * distill + 0.5 * F.cross_entropy(logits, labels)
    loss.backward()
    opt.step()
    print(f"distill step {step}: kl {distill.item():.4f} total {loss.item():.4f}")

with torch.no_grad():
    out = student(X[:6])
    y = labels[:6]
    sign = torch.where(y == 0, -1.0, 1.0)
    print(nn.MultiMarginLoss()(out, y))
    print(nn.MultiMarginLoss(p=2, margin=0.5, weight=torch.tensor([1.0, 2.0, 0.5]))(out, y))
    print(nn.MultiLabelSoftMarginLoss()(out, F.one_hot(y, 3).float()))
    print(nn.MultiLabelMarginLoss()(out, torch.stack([y, torch.full_like(y, -1), y], 1)))
    print(nn.HingeEmbeddingLoss(margin=0.5, reduction="none")(out[:, 0], sign))
    print(nn.SoftMarginLoss()(out[:, 1], sign))
    print(nn.MarginRankingLoss(margin=0.1)(out[:, 0], out[:, 1], sign))
    print(nn.CosineEmbeddingLoss(margin=0.2)(out, X[:6, :3], sign))
    print(nn.PoissonNLLLoss()(out, y.float().unsqueeze(1)))
    print(nn.GaussianNLLLoss()(out, F.one_hot(y, 3).float(), out.exp()[:, :1]))
    print(F.kl_div(F.log_softmax(out, 1), F.log_softmax(-out, 1), reduction="sum", log_target=True))
