# fast.ai course22p2 "miniai" style (Jeremy Howard, notebooks 09_learner, 10_activations,
# 11_initializing, 12_accel_sgd): a Learner whose whole training loop is callbacks
# (TrainCB, DeviceCB, MetricsCB, ProgressCB printing tables, an LR finder that cancels the
# fit, a OneCycleLR batch scheduler), forward hooks gathering activation means, stds and
# histograms (ActivationStats), GeneralRelu, kaiming init then LSUV, and BatchNorm, on
# scikit-learn's 8x8 digits. fastcore and torcheval are replaced by plain Python.
import math
from copy import copy
from functools import partial
from operator import attrgetter

import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn, optim
from torch.optim import lr_scheduler
from torch.utils.data import DataLoader, Dataset, default_collate

torch.manual_seed(42)
torch.set_printoptions(precision=2, linewidth=140, sci_mode=False)

digits = load_digits()
x = torch.tensor(digits.images, dtype=torch.float32)[:, None] / 16.0
y = torch.tensor(digits.target)
xtrn, ytrn, xval, yval = x[:1400], y[:1400], x[1400:], y[1400:]
xmean, xstd = xtrn.mean(), xtrn.std()
print(xtrn.shape, ytrn[:10], f"{xmean.item():.4f} {xstd.item():.4f}")


class DS(Dataset):
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


def collate_norm(b):
    xb, yb = default_collate(b)
    return (xb - xmean) / xstd, yb


class DataLoaders:
    def __init__(self, *dls):
        self.train, self.valid = dls[:2]

    @classmethod
    def from_dss(cls, train_ds, valid_ds, bs, **kwargs):
        return cls(DataLoader(train_ds, bs, shuffle=True, **kwargs),
                   DataLoader(valid_ds, bs * 2, **kwargs))  # fmt: skip


dls = DataLoaders.from_dss(DS(xtrn, ytrn), DS(xval, yval), bs=100, collate_fn=collate_norm)
xb, yb = next(iter(dls.train))
print(xb.shape, yb[:10], f"{xb.mean().item():.3f}")


class CancelFitException(Exception):
    pass


class CancelBatchException(Exception):
    pass


class CancelEpochException(Exception):
    pass


class Callback:
    order = 0


def listify(o):
    # fastcore's L(o): None -> [], one object -> [o], an iterable -> a list of it
    if o is None:
        return []
    if isinstance(o, (list, tuple)):
        return list(o)
    return [o]


def run_cbs(cbs, method_nm, learn=None):
    for cb in sorted(cbs, key=attrgetter("order")):
        method = getattr(cb, method_nm, None)
        if method is not None:
            method(learn)


def to_cpu(x):
    if isinstance(x, dict):
        return {k: to_cpu(v) for k, v in x.items()}
    if isinstance(x, list):
        return [to_cpu(o) for o in x]
    if isinstance(x, tuple):
        return tuple(to_cpu(list(x)))
    res = x.detach().cpu()
    return res.float() if res.dtype == torch.float16 else res


def to_device(x, device="cpu"):
    if isinstance(x, torch.Tensor):
        return x.to(device)
    if isinstance(x, dict):
        return {k: v.to(device) for k, v in x.items()}
    return type(x)(to_device(o, device) for o in x)


class Metric:
    def __init__(self):
        self.reset()

    def reset(self):
        self.vals, self.ns = [], []

    def add(self, inp, targ=None, n=1):
        self.last = self.calc(inp, targ)
        self.vals.append(self.last)
        self.ns.append(n)

    @property
    def value(self):
        ns = torch.tensor(self.ns)
        return (torch.tensor(self.vals) * ns).sum() / ns.sum()

    def calc(self, inps, targs):
        return inps


class Accuracy(Metric):
    def calc(self, inps, targs):
        return (inps == targs).float().mean()


class DeviceCB(Callback):
    def __init__(self, device="cpu"):
        self.device = device

    def before_fit(self, learn):
        if hasattr(learn.model, "to"):
            learn.model.to(self.device)

    def before_batch(self, learn):
        learn.batch = to_device(learn.batch, device=self.device)


class TrainCB(Callback):
    def __init__(self, n_inp=1):
        self.n_inp = n_inp

    def predict(self, learn):
        learn.preds = learn.model(*learn.batch[: self.n_inp])

    def get_loss(self, learn):
        learn.loss = learn.loss_func(learn.preds, *learn.batch[self.n_inp :])

    def backward(self, learn):
        learn.loss.backward()

    def step(self, learn):
        learn.opt.step()

    def zero_grad(self, learn):
        learn.opt.zero_grad()


class MetricsCB(Callback):
    def __init__(self, *ms, **metrics):
        for o in ms:
            metrics[type(o).__name__.lower()] = o
        self.metrics = metrics
        self.all_metrics = copy(metrics)
        self.all_metrics["loss"] = self.loss = Metric()

    def _log(self, d):
        print(d)

    def before_fit(self, learn):
        learn.metrics = self

    def before_epoch(self, learn):
        [o.reset() for o in self.all_metrics.values()]

    def after_epoch(self, learn):
        log = {k: f"{v.value:.3f}" for k, v in self.all_metrics.items()}
        log["epoch"] = learn.epoch
        log["train"] = "train" if learn.model.training else "eval"
        self._log(log)

    def after_batch(self, learn):
        x, y, *_ = to_cpu(learn.batch)
        for m in self.metrics.values():
            m.add(to_cpu(learn.preds).argmax(dim=1), y, n=len(x))
        self.loss.add(to_cpu(learn.loss), n=len(x))


class ProgressCB(Callback):
    # fastprogress's table, printed as text (no timings, no bars)
    order = MetricsCB.order + 1

    def __init__(self, plot=False):
        self.plot = plot

    def before_fit(self, learn):
        self.first = True
        if hasattr(learn, "metrics"):
            learn.metrics._log = self._log
        self.losses = []

    def _log(self, d):
        if self.first:
            print(" | ".join(f"{k:>8}" for k in d))
            self.first = False
        print(" | ".join(f"{str(v):>8}" for v in d.values()))

    def after_batch(self, learn):
        if self.plot and learn.training:
            self.losses.append(learn.loss.item())


class with_cbs:
    def __init__(self, nm):
        self.nm = nm

    def __call__(self, f):
        def _f(o, *args, **kwargs):
            try:
                o.callback(f"before_{self.nm}")
                f(o, *args, **kwargs)
                o.callback(f"after_{self.nm}")
            except globals()[f"Cancel{self.nm.title()}Exception"]:
                pass
            finally:
                o.callback(f"cleanup_{self.nm}")

        return _f


class Learner:
    def __init__(self, model, dls=(0,), loss_func=F.mse_loss, lr=0.1, cbs=None, opt_func=optim.SGD):
        cbs = listify(cbs)
        self.model, self.dls, self.loss_func, self.lr, self.cbs, self.opt_func = (
            model, dls, loss_func, lr, cbs, opt_func)  # fmt: skip

    @with_cbs("batch")
    def _one_batch(self):
        self.predict()
        self.callback("after_predict")
        self.get_loss()
        self.callback("after_loss")
        if self.training:
            self.backward()
            self.callback("after_backward")
            self.step()
            self.callback("after_step")
            self.zero_grad()

    @with_cbs("epoch")
    def _one_epoch(self):
        for self.iter, self.batch in enumerate(self.dl):  # noqa: B020 - the author's idiom
            self._one_batch()

    def one_epoch(self, training):
        self.model.train(training)
        self.dl = self.dls.train if training else self.dls.valid
        self._one_epoch()

    @with_cbs("fit")
    def _fit(self, train, valid):
        for self.epoch in self.epochs:  # noqa: B020
            if train:
                self.one_epoch(True)
            if valid:
                torch.no_grad()(self.one_epoch)(False)

    def fit(self, n_epochs=1, train=True, valid=True, cbs=None, lr=None):
        cbs = listify(cbs)
        for cb in cbs:
            self.cbs.append(cb)
        try:
            self.n_epochs = n_epochs
            self.epochs = range(n_epochs)
            if lr is None:
                lr = self.lr
            if self.opt_func:
                self.opt = self.opt_func(self.model.parameters(), lr)
            self._fit(train, valid)
        finally:
            for cb in cbs:
                self.cbs.remove(cb)

    def __getattr__(self, name):
        if name in ("predict", "get_loss", "backward", "step", "zero_grad"):
            return partial(self.callback, name)
        raise AttributeError(name)

    def callback(self, method_nm):
        run_cbs(self.cbs, method_nm, self)

    @property
    def training(self):
        return self.model.training

    def lr_find(self, gamma=1.3, max_mult=3, start_lr=1e-5, max_epochs=10):
        self.fit(max_epochs, lr=start_lr, cbs=LRFinderCB(gamma=gamma, max_mult=max_mult))


class LRFinderCB(Callback):
    def __init__(self, gamma=1.3, max_mult=3):
        self.gamma, self.max_mult = gamma, max_mult

    def before_fit(self, learn):
        self.sched = lr_scheduler.ExponentialLR(learn.opt, self.gamma)
        self.lrs, self.losses = [], []
        self.min = math.inf

    def after_batch(self, learn):
        if not learn.training:
            raise CancelEpochException()
        self.lrs.append(learn.opt.param_groups[0]["lr"])
        loss = to_cpu(learn.loss)
        self.losses.append(loss)
        if loss < self.min:
            self.min = loss
        if math.isnan(loss) or (loss > self.min * self.max_mult):
            raise CancelFitException()
        self.sched.step()

    def cleanup_fit(self, learn):
        # instead of plt.plot(self.lrs, self.losses); plt.xscale('log')
        losses = torch.stack(self.losses)
        best = losses.argmin().item()
        print(f"lr_find: {len(self.lrs)} batches, lr {self.lrs[0]:.1e} .. {self.lrs[-1]:.1e},",
              f"min loss {losses.min().item():.3f} at lr {self.lrs[best]:.1e}")  # fmt: skip


class BaseSchedCB(Callback):
    def __init__(self, sched):
        self.sched = sched

    def before_fit(self, learn):
        self.schedo = self.sched(learn.opt)

    def _step(self, learn):
        if learn.training:
            self.schedo.step()


class BatchSchedCB(BaseSchedCB):
    def after_batch(self, learn):
        self._step(learn)


class RecorderCB(Callback):
    def __init__(self, **d):
        self.d = d

    def before_fit(self, learn):
        self.recs = {k: [] for k in self.d}
        self.pg = learn.opt.param_groups[0]

    def after_batch(self, learn):
        if not learn.training:
            return
        for k, v in self.d.items():
            self.recs[k].append(v(self))


# ---- hooks ------------------------------------------------------------------------------
class Hook:
    def __init__(self, m, f):
        self.hook = m.register_forward_hook(partial(f, self))

    def remove(self):
        self.hook.remove()

    def __del__(self):
        self.remove()


def append_stats(hook, mod, inp, outp):
    if not hasattr(hook, "stats"):
        hook.stats = ([], [], [])
    acts = to_cpu(outp)
    hook.stats[0].append(acts.mean())
    hook.stats[1].append(acts.std())
    hook.stats[2].append(acts.abs().histc(40, 0, 10))


class Hooks(list):
    def __init__(self, ms, f):
        super().__init__([Hook(m, f) for m in ms])

    def __enter__(self, *args):
        return self

    def __exit__(self, *args):
        self.remove()

    def __del__(self):
        self.remove()

    def __delitem__(self, i):
        self[i].remove()
        super().__delitem__(i)

    def remove(self):
        for h in self:
            h.remove()


def get_hist(h):
    return torch.stack(h.stats[2]).t().float().log1p()


def get_min(h):
    h1 = torch.stack(h.stats[2]).t().float()
    return h1[0] / h1.sum(0)


class HooksCallback(Callback):
    def __init__(
        self, hookfunc, mod_filter=lambda o: True, on_train=True, on_valid=False, mods=None
    ):
        self.hookfunc, self.mod_filter, self.on_train, self.on_valid, self.mods = (
            hookfunc, mod_filter, on_train, on_valid, mods)  # fmt: skip
        super().__init__()

    def before_fit(self, learn):
        mods = self.mods if self.mods else [m for m in learn.model.modules() if self.mod_filter(m)]
        self.hooks = Hooks(mods, partial(self._hookfunc, learn))

    def _hookfunc(self, learn, *args, **kwargs):
        if (self.on_train and learn.training) or (self.on_valid and not learn.training):
            self.hookfunc(*args, **kwargs)

    def after_fit(self, learn):
        self.hooks.remove()

    def __iter__(self):
        return iter(self.hooks)

    def __len__(self):
        return len(self.hooks)


class ActivationStats(HooksCallback):
    def __init__(self, mod_filter=lambda o: True):
        super().__init__(append_stats, mod_filter)

    def color_dim(self):
        # plt.imshow(get_hist(h)) for each layer: print each layer's histogram's shape
        return [tuple(get_hist(h).shape) for h in self]

    def dead_chart(self):
        return [f"{get_min(h)[-1].item():.2f}" for h in self]

    def plot_stats(self):
        for i, h in enumerate(self):
            ms = torch.stack(h.stats[0])
            ss = torch.stack(h.stats[1])
            print(f"layer {i}: means {ms[0].item():+.3f} -> {ms[-1].item():+.3f},",
                  f"stds {ss[0].item():.3f} -> {ss[-1].item():.3f}")  # fmt: skip


# ---- models -------------------------------------------------------------------------------
class GeneralRelu(nn.Module):
    def __init__(self, leak=None, sub=None, maxv=None):
        super().__init__()
        self.leak, self.sub, self.maxv = leak, sub, maxv

    def forward(self, x):
        x = F.leaky_relu(x, self.leak) if self.leak is not None else F.relu(x)
        if self.sub is not None:
            x -= self.sub
        if self.maxv is not None:
            x.clamp_max_(self.maxv)
        return x


def conv(ni, nf, ks=3, stride=2, act=nn.ReLU, norm=None, bias=None):
    if bias is None:
        bias = not isinstance(norm, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d))
    layers = [nn.Conv2d(ni, nf, stride=stride, kernel_size=ks, padding=ks // 2, bias=bias)]
    if norm:
        layers.append(norm(nf))
    if act:
        layers.append(act())
    return nn.Sequential(*layers)


def get_model(act=nn.ReLU, nfs=None, norm=None):
    if nfs is None:
        nfs = [1, 8, 16, 32]
    layers = [conv(nfs[i], nfs[i + 1], act=act, norm=norm) for i in range(len(nfs) - 1)]
    return nn.Sequential(*layers, conv(nfs[-1], 10, act=None, norm=False, bias=True),
                         nn.Flatten()).to("cpu")  # fmt: skip


def init_weights(m, leaky=0.0):
    if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        nn.init.kaiming_normal_(m.weight, a=leaky)


def fc_count(model):
    return sum(p.numel() for p in model.parameters())


metrics = MetricsCB(accuracy=Accuracy())
cbs = [TrainCB(), DeviceCB(), metrics, ProgressCB(plot=True)]

# ---- 1. a plain conv net, first the LR finder, then a short fit ---------------------------
torch.manual_seed(1)
model = get_model()
print(model)
print("parameters:", fc_count(model))
learn = Learner(model, dls, F.cross_entropy, lr=0.2, cbs=[TrainCB(), DeviceCB()])
learn.lr_find(gamma=1.4, max_mult=3)

torch.manual_seed(1)
astats = ActivationStats(lambda m: isinstance(m, nn.ReLU))
learn = Learner(get_model(), dls, F.cross_entropy, lr=0.2, cbs=cbs + [astats])
learn.fit(2)
astats.plot_stats()
print("hist shapes:", astats.color_dim())
print("dead:", astats.dead_chart())

# ---- 2. GeneralRelu + kaiming init, with a hooks context manager ---------------------------
act_gr = partial(GeneralRelu, leak=0.1, sub=0.4)
torch.manual_seed(1)
model = get_model(act_gr).apply(partial(init_weights, leaky=0.1))
with Hooks([m for m in model if isinstance(m, nn.Sequential)], append_stats) as hooks:
    model(xb)
    for i, h in enumerate(hooks):
        print(i, f"{h.stats[0][0].item():+.3f} {h.stats[1][0].item():.3f}",
              h.stats[2][0][:5].int().tolist())  # fmt: skip
astats = ActivationStats(lambda m: isinstance(m, GeneralRelu))
learn = Learner(model, dls, F.cross_entropy, lr=0.2, cbs=cbs + [astats])
learn.fit(2)
astats.plot_stats()


# ---- 3. LSUV init ---------------------------------------------------------------------------
def _lsuv_stats(hook, mod, inp, outp):
    acts = to_cpu(outp)
    hook.mean = acts.mean()
    hook.std = acts.std()


def lsuv_init(model, m, m_in, xb):
    h = Hook(m, _lsuv_stats)
    with torch.no_grad():
        n = 0
        while model(xb) is not None and (abs(h.std - 1) > 1e-3 or abs(h.mean) > 1e-3):
            m_in.bias -= h.mean
            m_in.weight.data /= h.std
            n += 1
            if n > 50:
                break
    h.remove()
    return n


torch.manual_seed(1)
relu = partial(GeneralRelu, leak=0.1, sub=0.4)
model = get_model(relu)
relus = [o for o in model.modules() if isinstance(o, GeneralRelu)]
convs = [o for o in model.modules() if isinstance(o, nn.Conv2d)]
for ms in zip(relus, convs):
    print(type(ms[0]).__name__, tuple(ms[1].weight.shape), "steps:", lsuv_init(model, *ms, xb))
with Hooks(relus, _lsuv_stats) as hooks:
    model(xb)
    print([f"{h.mean.item():+.2f}/{h.std.item():.2f}" for h in hooks])
learn = Learner(model, dls, F.cross_entropy, lr=0.2, cbs=cbs)
learn.fit(2)

# ---- 4. BatchNorm, SGD with momentum and a OneCycleLR schedule stepped per batch ------------
# (AdamW's first steps divide tiny conv gradients by their own size: the BLAS's last bits
# then decide the trajectory, so this run uses momentum SGD)
torch.manual_seed(1)
model = get_model(act_gr, norm=nn.BatchNorm2d).apply(partial(init_weights, leaky=0.1))
epochs = 3
lr = 0.2
tmax = epochs * len(dls.train)
sched = partial(lr_scheduler.OneCycleLR, max_lr=lr, total_steps=tmax)
rec = RecorderCB(lr=lambda cb: cb.pg["lr"], mom=lambda cb: cb.pg["momentum"])
xtra = [BatchSchedCB(sched), rec]
opt_func = partial(optim.SGD, momentum=0.9, weight_decay=1e-4)
learn = Learner(model, dls, F.cross_entropy, lr=lr, cbs=cbs + xtra, opt_func=opt_func)
learn.fit(epochs)
lrs = rec.recs["lr"]
print(
    len(lrs),
    f"{lrs[0]:.6f} {max(lrs):.6f} {lrs[-1]:.2e}",
    f"{rec.recs['mom'][0]:.4f} {min(rec.recs['mom']):.4f}",
)
bn = model[0][1]
print(bn)
print(bn.running_mean[:4], bn.running_var[:4], bn.num_batches_tracked)

# evaluate as a Learner with no optimizer and only the validation loop
learn = Learner(
    model,
    dls,
    F.cross_entropy,
    cbs=[TrainCB(), DeviceCB(), MetricsCB(accuracy=Accuracy())],
    opt_func=None,
)
learn.fit(1, train=False)
preds = torch.cat([model.eval()((xv - xmean) / xstd).argmax(1) for xv in xval.split(200)])
print("confusion diag:", torch.bincount(yval[preds == yval], minlength=10).tolist())
