# PyTorch's "Hooks for autograd saved tensors" tutorial (intermediate/autograd_saved_tensors_
# hooks_tutorial) at small sizes, then a hand-written convolution layer typed and parsed
# with torch.nn.common_types / torch.nn.modules.utils, a user lazy module, a Hogwild-style
# training of one shared model by worker processes (torch.multiprocessing), and the
# benchmark and profiler recipes' structure (their timings are not printed).
import os
import tempfile
import uuid

import torch
import torch.autograd.profiler as profiler
import torch.multiprocessing as mp
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.benchmark as benchmark
from torch.nn.common_types import _size_2_t
from torch.nn.modules.lazy import LazyModuleMixin
from torch.nn.modules.utils import _pair, _single, _triple
from torch.nn.parameter import UninitializedParameter

torch.manual_seed(0)

# --- saved tensors: what the graph keeps for backward ---------------------------------------
a = torch.randn(5, requires_grad=True)
b = torch.ones(5, requires_grad=True)
c = torch.randn(5, requires_grad=True)
y = a * b
print(y.grad_fn._saved_other is b, y.grad_fn._saved_self is a)

x = torch.randn(5, requires_grad=True)
y = x.pow(2)
print(y.grad_fn._saved_self)
print(x.equal(y.grad_fn._saved_self), x is y.grad_fn._saved_self)
print(y.grad_fn._saved_exponent)

y = x.exp()
print(y.equal(y.grad_fn._saved_result), y is y.grad_fn._saved_result)
y.sum().backward()
try:
    print(y.grad_fn._saved_result)
except RuntimeError as e:
    print("RuntimeError:", str(e)[:80])


# --- pack and unpack hooks --------------------------------------------------------------------
def pack_hook(x):
    print("Packing", x)
    return x


def unpack_hook(x):
    print("Unpacking", x)
    return x


a = torch.ones(5, requires_grad=True)
b = torch.ones(5, requires_grad=True) * 2
with torch.autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook):
    y = a * b
y.sum().backward()
print(a.grad)

# The gradient is computed from what unpack returns.
a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
with torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t * 10):
    y = a.sin()
y.sum().backward()
print(a.grad)
print(torch.cos(a.detach() * 10))

# Counting what is packed in a small network, with saved tensors only "kept" by id.
counts = {"pack": 0, "unpack": 0}
storage = {}


def pack_count(x):
    counts["pack"] += 1
    key = uuid.uuid4().hex
    storage[key] = x
    return key


def unpack_count(key):
    counts["unpack"] += 1
    return storage.pop(key)


model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 1))
inp = torch.randn(3, 4)
with torch.autograd.graph.saved_tensors_hooks(pack_count, unpack_count):
    out = torch.sigmoid(model(inp)).sum()
print("packed:", counts["pack"], "left before backward:", len(storage))
out.backward()
print("unpacked:", counts["unpack"], "left after backward:", len(storage))
grads_hooked = [p.grad.clone() for p in model.parameters()]
model.zero_grad()
torch.sigmoid(model(inp)).sum().backward()
print(all(torch.equal(g, p.grad) for g, p in zip(grads_hooked, model.parameters())))


# Saving tensors to disk.
class SelfDeletingTempFile:
    def __init__(self, folder):
        self.name = os.path.join(folder, str(uuid.uuid4()))

    def __del__(self):
        os.remove(self.name)


tmp_dir = tempfile.mkdtemp()


def pack_to_disk(tensor):
    temp_file = SelfDeletingTempFile(tmp_dir)
    torch.save(tensor, temp_file.name)
    return temp_file


def unpack_from_disk(temp_file):
    return torch.load(temp_file.name)


x = torch.randn(5, requires_grad=True)
with torch.autograd.graph.saved_tensors_hooks(pack_to_disk, unpack_from_disk):
    y = x.pow(2)
print("files while the graph lives:", len(os.listdir(tmp_dir)))
y.sum().backward()
print(torch.equal(x.grad, 2 * x))
del y
print("files after:", len(os.listdir(tmp_dir)))

# save_on_cpu gives the same gradients.
model.zero_grad()
with torch.autograd.graph.save_on_cpu(pin_memory=False):
    loss = model(inp).pow(2).mean()
loss.backward()
print(loss, model[0].bias.grad[:3])

# Hooks registered on one saved tensor.
x = torch.randn(5, requires_grad=True)
y = x.pow(2)
y.grad_fn._raw_saved_self.register_hooks(pack_hook, unpack_hook)
y.sum().backward()


# A custom Function's saved tensors go through the hooks too.
class Cube(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * grad * x**2


x = torch.tensor([1.0, -2.0], requires_grad=True)
with torch.autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook):
    y = Cube.apply(x)
y.sum().backward()
print(x.grad)

with torch.autograd.graph.disable_saved_tensors_hooks("saved tensor hooks are off here"):
    try:
        with torch.autograd.graph.save_on_cpu():
            pass
    except RuntimeError as e:
        print("RuntimeError:", e)


# --- a convolution written with PyTorch's size helpers ----------------------------------------
class MyConv2d(nn.Module):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: _size_2_t,
        stride: _size_2_t = 1,
        padding: _size_2_t = 0,
        dilation: _size_2_t = 1,
    ):
        super().__init__()
        self.kernel_size = _pair(kernel_size)
        self.stride = _pair(stride)
        self.padding = _pair(padding)
        self.dilation = _pair(dilation)
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, *self.kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        nn.init.kaiming_uniform_(self.weight, a=5**0.5)

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


conv = MyConv2d(2, 3, kernel_size=3, stride=(2, 1), padding=1)
print(conv)
reference = nn.Conv2d(2, 3, 3, stride=(2, 1), padding=1)
with torch.no_grad():
    reference.weight.copy_(conv.weight)
    reference.bias.copy_(conv.bias)
img = torch.randn(1, 2, 6, 5)
print(conv(img).shape, torch.allclose(conv(img), reference(img)))
print(_single(4), _pair((1, 2)), _triple(0), reference.padding == _pair(1))


# --- a user lazy module -------------------------------------------------------------------------
class LazyScale(LazyModuleMixin, nn.Module):
    def __init__(self, out_features):
        super().__init__()
        self.out_features = out_features
        self.weight = UninitializedParameter()

    def initialize_parameters(self, x):
        if self.has_uninitialized_params():
            with torch.no_grad():
                self.weight.materialize((self.out_features, x.shape[-1]))
                nn.init.constant_(self.weight, 0.5)

    def forward(self, x):
        return x @ self.weight.t()


lazy = LazyScale(2)
print(lazy.has_uninitialized_params(), lazy.weight)
print(lazy(torch.ones(3, 4)))
print(lazy.has_uninitialized_params(), lazy.weight.shape, isinstance(lazy, LazyModuleMixin))


# --- Hogwild: workers train one shared model ----------------------------------------------------
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 8)
        self.fc2 = nn.Linear(8, 1)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


true_w = torch.tensor([[1.0, -2.0, 0.5]])
data = torch.randn(64, 3)
target = data @ true_w.t() + 0.1


def train(rank, model, results):
    torch.set_num_threads(1)
    torch.manual_seed(rank)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    shard = slice(rank * 32, (rank + 1) * 32)
    for _ in range(20):
        optimizer.zero_grad()
        loss = F.mse_loss(model(data[shard]), target[shard])
        loss.backward()
        optimizer.step()
    results.put((rank, loss.item()))  # a number: the worker ends before it is read


torch.manual_seed(1)
model = Net()
model.share_memory()
print("shared:", all(p.is_shared() for p in model.parameters()))
print("loss before:", F.mse_loss(model(data), target))
ctx = mp.get_context("fork")
results = ctx.Queue()
for rank in range(2):  # one after the other, so the run is reproducible
    p = ctx.Process(target=train, args=(rank, model, results))
    p.start()
    rank_done, last_loss = results.get()
    p.join()
    print("worker", rank_done, "exit code", p.exitcode, "last loss", round(last_loss, 4))
print("loss after:", F.mse_loss(model(data), target))

# A tensor put on a queue is shared: the worker's edit is seen here.
buffer = torch.zeros(3)


def fill(queue):
    t = queue.get()
    t += torch.arange(3.0)


queue = ctx.Queue()
p = ctx.Process(target=fill, args=(queue,))
p.start()
queue.put(buffer)
p.join()
print(buffer, buffer.is_shared())

# --- benchmark and profiler: the structure of what they return ---------------------------------
timer = benchmark.Timer(
    stmt="torch.mm(x, y)",
    setup="y = x.t()",
    globals={"x": torch.randn(8, 4)},
    label="mm",
    sub_label="8x4",
    description="float32",
    num_threads=1,
)
m = timer.timeit(20)
print(m.number_per_run, len(m.times), m.title, "|", m.task_spec.setup, "|", m.description)
print(repr(m).splitlines()[1:3])
auto = timer.blocked_autorange(min_run_time=0.01)
print(len(auto.times) >= 1, auto.times[0] == auto.raw_times[0] / auto.number_per_run)
table = str(benchmark.Compare([m, auto]))
print(table.splitlines()[0], table.splitlines()[1].split())

with profiler.profile() as prof:
    with profiler.record_function("forward_pass"):
        model(data).sum()
print("forward_pass" in {e.key for e in prof.key_averages()})
print(torch.mps.is_available(), torch.backends.mps.is_available())
