"""Knowledge distillation and the loss/metric recipes of Kaggle-style notebooks: a
teacher CNN and a smaller student on sklearn's 8x8 digits, KL-divergence with a
temperature, label-smoothing cross-entropy, focal loss written by hand, mixup and cutmix
with a seeded Beta draw, confusion matrix via bincount, top-k accuracy, per-class
precision/recall/F1 by hand, and torch.set_printoptions for the reports."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits

torch.manual_seed(7)
np.random.seed(7)
digits = load_digits()
X = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
y = torch.tensor(digits.target, dtype=torch.long)
idx = torch.randperm(len(X))
train_idx, test_idx = idx[:300], idx[300:500]
Xtr, ytr, Xte, yte = X[train_idx], y[train_idx], X[test_idx], y[test_idx]
print(f"train {tuple(Xtr.shape)} test {tuple(Xte.shape)} classes {y.unique().numel()}")
print("class counts", torch.bincount(ytr, minlength=10))


class Teacher(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1, bias=False),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1, bias=False),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.3), nn.Linear(32 * 16, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


class Student(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1),
            nn.ReLU(),
            nn.AvgPool2d(2),
            nn.Flatten(),
            nn.Linear(64, 10),
        )

    def forward(self, x):
        return self.net(x)


def count(m):
    return sum(p.numel() for p in m.parameters() if p.requires_grad)


class FocalLoss(nn.Module):
    def __init__(self, gamma=2.0, alpha=None, reduction="mean"):
        super().__init__()
        self.gamma, self.alpha, self.reduction = gamma, alpha, reduction

    def forward(self, logits, target):
        logp = F.log_softmax(logits, dim=1)
        logpt = logp.gather(1, target.unsqueeze(1)).squeeze(1)
        pt = logpt.exp()
        loss = -((1 - pt) ** self.gamma) * logpt
        if self.alpha is not None:
            loss = loss * self.alpha[target]
        return loss.mean() if self.reduction == "mean" else loss.sum()


def mixup(x, y, alpha=0.4):
    lam = float(np.random.beta(alpha, alpha))
    perm = torch.randperm(x.size(0))
    return lam * x + (1 - lam) * x[perm], y, y[perm], lam


def cutmix(x, y, alpha=1.0):
    lam = np.random.beta(alpha, alpha)
    perm = torch.randperm(x.size(0))
    H, W = x.shape[2:]
    cut = int(H * np.sqrt(1 - lam))
    cy, cx = np.random.randint(H), np.random.randint(W)
    y1, y2 = np.clip(cy - cut // 2, 0, H), np.clip(cy + cut // 2, 0, H)
    x1, x2 = np.clip(cx - cut // 2, 0, W), np.clip(cx + cut // 2, 0, W)
    x = x.clone()
    x[:, :, y1:y2, x1:x2] = x[perm, :, y1:y2, x1:x2]
    lam = 1 - ((x2 - x1) * (y2 - y1) / (H * W))
    return x, y, y[perm], lam


def evaluate(model, X, y):
    model.eval()
    with torch.no_grad():
        out = model(X)
        loss = F.cross_entropy(out, y).item()
        acc = (out.argmax(dim=1) == y).float().mean().item()
        top3 = out.topk(3, dim=1).indices.eq(y.view(-1, 1)).any(dim=1).float().mean().item()
    return loss, acc, top3, out


teacher = Teacher()
print(f"teacher params {count(teacher):,}  student params {count(Student()):,}")
opt = torch.optim.Adam(teacher.parameters(), lr=3e-3)
ls_ce = nn.CrossEntropyLoss(label_smoothing=0.1)
focal = FocalLoss(gamma=2.0, alpha=torch.full((10,), 0.5))
for epoch in range(3):
    teacher.train()
    perm = torch.randperm(len(Xtr))
    tot = 0.0
    for i in range(0, len(Xtr), 100):
        b = perm[i : i + 100]
        xb, yb = Xtr[b], ytr[b]
        if epoch == 1:
            xb, ya, yb2, lam = mixup(xb, yb)
            out = teacher(xb)
            loss = lam * ls_ce(out, ya) + (1 - lam) * ls_ce(out, yb2)
        elif epoch == 2:
            xb, ya, yb2, lam = cutmix(xb, yb)
            out = teacher(xb)
            loss = (
                lam * F.cross_entropy(out, ya)
                + (1 - lam) * F.cross_entropy(out, yb2)
                + focal(out, ya)
            )
        else:
            loss = ls_ce(teacher(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        tot += loss.item()
    l, a, t3, _ = evaluate(teacher, Xte, yte)
    print(
        f"[teacher] epoch {epoch} train {tot / 3:.4f} | test loss {l:.4f} acc {a:.4f} top3 {t3:.4f}"
    )


def distillation_loss(student_logits, teacher_logits, labels, T=4.0, alpha=0.7):
    soft = F.kl_div(
        F.log_softmax(student_logits / T, dim=1),
        F.softmax(teacher_logits / T, dim=1),
        reduction="batchmean",
    ) * (T * T)
    hard = F.cross_entropy(student_logits, labels)
    return alpha * soft + (1 - alpha) * hard, soft, hard


student = Student()
sopt = torch.optim.SGD(student.parameters(), lr=0.1, momentum=0.9)
teacher.eval()
for epoch in range(3):
    student.train()
    for i in range(0, len(Xtr), 100):
        xb, yb = Xtr[i : i + 100], ytr[i : i + 100]
        with torch.no_grad():
            t_logits = teacher(xb)
        loss, soft, hard = distillation_loss(student(xb), t_logits, yb)
        sopt.zero_grad()
        loss.backward()
        sopt.step()
    l, a, t3, _ = evaluate(student, Xte, yte)
    print(
        f"[student] epoch {epoch} kd {soft.item():.4f} ce {hard.item():.4f} | acc {a:.4f} top3 {t3:.4f}"
    )
kl = nn.KLDivLoss(reduction="batchmean", log_target=True)
print(
    "KLDivLoss log_target:",
    kl(F.log_softmax(student(Xte[:5]), 1), F.log_softmax(teacher(Xte[:5]), 1)),
)

_, _, _, logits = evaluate(teacher, Xte, yte)
preds = logits.argmax(1)
cm = torch.bincount(yte * 10 + preds, minlength=100).reshape(10, 10)
torch.set_printoptions(linewidth=120)
print("confusion matrix:\n", cm)
tp = cm.diag().float()
precision = tp / cm.sum(0).clamp(min=1)
recall = tp / cm.sum(1).clamp(min=1)
f1 = 2 * precision * recall / (precision + recall + 1e-12)
torch.set_printoptions(precision=3, sci_mode=False)
print("precision", precision)
print("recall   ", recall)
print("f1       ", f1, f"macro-F1 {f1.mean():.4f}")
print("support", cm.sum(1).tolist())
probs = F.softmax(logits, dim=1)
print(probs[:3])
conf, pred = probs.max(1)
print(
    "mean confidence correct/incorrect:",
    conf[pred == yte].mean(),
    conf[pred != yte].mean() if (pred != yte).any() else None,
)
torch.set_printoptions(profile="full")
print(torch.arange(30).reshape(3, 10) * 1000)
torch.set_printoptions(profile="short")
print(torch.randn(4, 4) * 1e-5)
torch.set_printoptions(profile="default", precision=2, threshold=20, edgeitems=2)
print(torch.linspace(0, 1, 50))
print(torch.randn(30, 30))
torch.set_printoptions(profile="default")
