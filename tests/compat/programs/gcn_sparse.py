# A two-layer graph convolutional network (Kipf & Welling) on a tiny random graph, written
# as pytorch/examples' GCN writes it: a normalised adjacency as a sparse COO tensor times
# dense features, trained with Adam; then a sparse embedding table trained with SparseAdam.
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
N, F_IN, HIDDEN, CLASSES = 12, 5, 8, 3

# Random undirected edges, self-loops added, symmetric normalisation D^-1/2 (A + I) D^-1/2.
src = torch.randint(0, N, (20,))
dst = torch.randint(0, N, (20,))
edges = torch.stack([torch.cat([src, dst]), torch.cat([dst, src])])
adj = torch.sparse_coo_tensor(edges, torch.ones(edges.shape[1]), (N, N), check_invariants=True)
print(adj.is_coalesced(), adj._nnz(), adj.layout, adj.shape)
adj = adj.coalesce()
dense = adj.to_dense().clamp(max=1) + torch.eye(N)
deg = dense.sum(1)
d_inv_sqrt = torch.diag(deg.pow(-0.5))
adj_norm = (d_inv_sqrt @ dense @ d_inv_sqrt).to_sparse()
print(adj_norm.is_sparse, adj_norm.sparse_dim(), adj_norm.dense_dim(), adj_norm._nnz())
print(torch.sparse.sum(adj_norm))
small = torch.sparse.sum(adj_norm, dim=1)
print(small.shape, small.is_coalesced())
print(adj_norm.indices()[:, :6])
print(adj_norm.values()[:4])

x = torch.randn(N, F_IN)
labels = torch.randint(0, CLASSES, (N,))
train_mask = torch.arange(N) < 8


class GraphConv(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.kernel = nn.Parameter(torch.empty(in_features, out_features))
        nn.init.xavier_normal_(self.kernel)
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None

    def forward(self, x, adj):
        support = torch.mm(x, self.kernel)
        out = torch.sparse.mm(adj, support)
        return out + self.bias if self.bias is not None else out


class GCN(nn.Module):
    def __init__(self):
        super().__init__()
        self.gc1 = GraphConv(F_IN, HIDDEN)
        self.gc2 = GraphConv(HIDDEN, CLASSES)
        self.dropout = nn.Dropout(0.2)

    def forward(self, x, adj):
        h = F.relu(self.gc1(x, adj))
        h = self.dropout(h)
        return F.log_softmax(self.gc2(h, adj), dim=1)


model = GCN()
optimizer = torch.optim.Adam(model.parameters(), lr=0.05, weight_decay=5e-4)
for epoch in range(30):
    model.train()
    optimizer.zero_grad()
    out = model(x, adj_norm)
    loss = F.nll_loss(out[train_mask], labels[train_mask])
    loss.backward()
    optimizer.step()
    if epoch % 5 == 0:
        print(f"epoch {epoch:2d}  loss {loss.item():.4f}")
model.eval()
with torch.no_grad():
    pred = model(x, adj_norm).argmax(1)
acc = (pred[~train_mask] == labels[~train_mask]).float().mean()
print(f"test accuracy {acc.item():.4f}")
print(pred)

# The adjacency's weights as parameters: values -> sparse_coo_tensor -> adj @ x.
w = torch.ones(adj_norm._nnz(), requires_grad=True)
a = torch.sparse_coo_tensor(
    adj_norm.indices(), adj_norm.values() * w, adj_norm.shape, check_invariants=False
)
y = a @ x
y.pow(2).sum().backward()
print(y.grad_fn.name(), a.grad_fn.name())
print(w.grad[:5])
print((a * 2).t())

# A sparse embedding table trained with SparseAdam (and a dense head with Adam).
emb = nn.Embedding(10, 4, sparse=True)
head = nn.Linear(4, 2)
opt_sparse = torch.optim.SparseAdam(emb.parameters(), lr=0.1)
opt_dense = torch.optim.Adam(head.parameters(), lr=0.1)
tokens = torch.randint(0, 10, (6, 3))
targets = torch.randint(0, 2, (6,))
for step in range(5):
    opt_sparse.zero_grad()
    opt_dense.zero_grad()
    logits = head(emb(tokens).mean(1))
    loss = F.cross_entropy(logits, targets)
    loss.backward()
    if step == 0:
        print(emb.weight.grad)
    opt_sparse.step()
    opt_dense.step()
    print(f"step {step}  loss {loss.item():.4f}")
print(emb.weight)
