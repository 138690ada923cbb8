"""The workloads, each written once against a framework namespace ``F``.

``F`` is the ``torch`` module or the ``gradfit`` module: gradfit's API is a PyTorch subset,
so the same training code runs on both (which also keeps the comparison honest: no
framework gets a hand-tuned variant). A third column, ``numpy``, is a hand-written NumPy
implementation of the same step (forward, backward and update written out by hand): the
floor for any engine that computes with NumPy.

Every builder returns a callable; one call runs a fixed amount of work and returns the
number of units (steps or calls) it ran, which is what ``harness.time_alternating`` times.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# --------------------------------------------------------------------------- FLOP counts


def mlp_flops(sizes: tuple[int, ...], batch: int) -> int:
    """Floating-point operations of the matrix products of one MLP training step.

    A linear layer (in -> out) on a batch costs 2·B·in·out for the forward product, the same
    for the weight gradient (g^T x), and the same again for the input gradient (g W), which
    neither framework computes for the first layer (the data needs no gradient). So the
    count is 6·B·Σ in·out minus 2·B·in·out of the first layer. (The usual rule of thumb,
    6·params·batch, differs from this by the first layer's input gradient and the biases;
    elementwise work — ReLU, loss, optimizer — is O(B·width) and left out.)
    """
    macs = [a * b for a, b in zip(sizes[:-1], sizes[1:])]
    return 2 * batch * (3 * sum(macs) - macs[0])


# --------------------------------------------------------------------------- W0: per-op


def w0_cases(F, kind: str, calls: int) -> Callable[[], int]:
    """Per-op overhead on 10x10 float32 tensors (the lecture's tensors are this small)."""
    if F is np:
        rng = np.random.default_rng(0)
        x = rng.standard_normal((10, 10), dtype=np.float32)
        w = rng.standard_normal((10, 10), dtype=np.float32)

        if kind == "mul_sum_backward":
            # The same maths by hand: forward x*w, sum; backward d(sum)/dw = x, accumulated.
            grad = np.zeros_like(w)

            def op():
                (x * w).sum()
                np.add(grad, x * np.ones((), np.float32), out=grad)

        elif kind == "mul_grad":

            def op():
                x * w

        elif kind == "add_nograd":

            def op():
                x + w

        elif kind == "matmul_backward":
            grad = np.zeros_like(w)

            def op():
                (x @ w).sum()
                np.add(grad, x.T @ np.ones((10, 10), np.float32), out=grad)

        else:  # pragma: no cover - internal
            raise ValueError(kind)
    else:
        F.manual_seed(0)
        x = F.randn(10, 10)
        w = F.randn(10, 10).requires_grad_()
        y = F.randn(10, 10)

        if kind == "mul_sum_backward":

            def op():
                (x * w).sum().backward()

        elif kind == "mul_grad":

            def op():
                x * w

        elif kind == "add_nograd":

            def op():
                x + y

        elif kind == "matmul_backward":

            def op():
                (x @ w).sum().backward()

        else:  # pragma: no cover - internal
            raise ValueError(kind)

    def run() -> int:
        for _ in range(calls):
            op()
        return calls

    return run


W0_KINDS = {
    "mul_sum_backward": "`(x*w).sum().backward()`, 10x10",
    "matmul_backward": "`(x@w).sum().backward()`, 10x10",
    "mul_grad": "`x*w` forward, w requires grad (records a node)",
    "add_nograd": "`x+y` forward, no grad",
}


# --------------------------------------------------------------------------- W1: lecture


def lecture_program(F, epochs: int, n_examples: int = 100) -> Callable[[], int]:
    """The lecture's program (fitting-and-backprop.md, "It is a mess... innit?"), verbatim
    apart from the namespace: 10-40-40-5 ReLU MLP, He init, MSELoss, SGD(0.1, momentum 0.9),
    StepLR(10, 0.5), DataLoader(TensorDataset(x, y), batch_size=10, shuffle=True).

    One call runs ``epochs`` epochs of 10 steps each (``loss.item()`` and the scheduler
    included, as in the lecture).
    """
    if F is np:
        return _numpy_training(
            (10, 40, 40, 5), "mse", "sgd", lr=0.1, batch=10, n=n_examples, epochs=epochs
        )
    nn = F.nn
    F.manual_seed(0)
    D_i, D_k, D_o = 10, 40, 5  # noqa: N806 - the lecture's names
    model = nn.Sequential(
        nn.Linear(D_i, D_k), nn.ReLU(), nn.Linear(D_k, D_k), nn.ReLU(), nn.Linear(D_k, D_o)
    )

    def weights_init(layer_in):
        if isinstance(layer_in, nn.Linear):
            nn.init.kaiming_uniform_(layer_in.weight)
            layer_in.bias.data.fill_(0.0)

    model.apply(weights_init)
    criterion = nn.MSELoss()
    optimizer = F.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = F.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)
    x = F.randn(n_examples, D_i)
    y = F.randn(n_examples, D_o)
    data_loader = F.utils.data.DataLoader(
        F.utils.data.TensorDataset(x, y), batch_size=10, shuffle=True
    )

    def run() -> int:
        steps = 0
        for _epoch in range(epochs):
            epoch_loss = 0.0
            for _i, data in enumerate(data_loader):
                x_batch, y_batch = data
                optimizer.zero_grad()
                pred = model(x_batch)
                loss = criterion(pred, y_batch)
                loss.backward()
                optimizer.step()
                epoch_loss += loss.item()
                steps += 1
            scheduler.step()
        return steps

    return run


# --------------------------------------------------------------------------- W2: MNIST-1D


def mnist1d_recipe(F, epochs: int, n_train: int = 4000, batch: int = 100) -> Callable[[], int]:
    """``gradfit train``'s default recipe (train/config.py DEFAULTS) on MNIST-1D-shaped data:
    40-100-100-10 ReLU MLP, cross-entropy, SGD(lr 0.05, momentum 0.9), StepLR(10, 0.5) per
    epoch, batch 100 from a DataLoader shuffling with its own seeded generator, over 4000
    examples (random inputs and labels of MNIST-1D's shapes: timing needs no real data).
    """
    sizes = (40, 100, 100, 10)
    if F is np:
        return _numpy_training(sizes, "ce", "sgd", lr=0.05, batch=batch, n=n_train, epochs=epochs)
    F.manual_seed(0)
    model = _mlp(F, sizes)
    criterion = F.nn.CrossEntropyLoss()
    optimizer = F.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    scheduler = F.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)
    x = F.randn(n_train, sizes[0])
    y = F.randint(0, sizes[-1], (n_train,))
    generator = F.Generator()
    generator.manual_seed(0)
    loader = F.utils.data.DataLoader(
        F.utils.data.TensorDataset(x, y), batch_size=batch, shuffle=True, generator=generator
    )

    def run() -> int:
        steps = 0
        for _ in range(epochs):
            for xb, yb in loader:
                optimizer.zero_grad()
                loss = criterion(model(xb), yb)
                loss.backward()
                optimizer.step()
                loss.item()
                steps += 1
            scheduler.step()
        return steps

    return run


# --------------------------------------------------------------------------- W3: wide MLP


def wide_mlp(F, sizes: tuple[int, ...], batch: int, steps: int) -> Callable[[], int]:
    """A ReLU MLP (784-1024-1024-10 for W3) trained with cross-entropy and Adam(lr 1e-3) on
    one fixed random float32 batch; one call runs ``steps`` steps."""
    if F is np:
        return _numpy_training(sizes, "ce", "adam", lr=1e-3, batch=batch, n=batch, epochs=steps)
    F.manual_seed(0)
    model = _mlp(F, sizes)
    criterion = F.nn.CrossEntropyLoss()
    optimizer = F.optim.Adam(model.parameters(), lr=1e-3)
    x = F.randn(batch, sizes[0])
    y = F.randint(0, sizes[-1], (batch,))

    def run() -> int:
        for _ in range(steps):
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
        loss.item()
        return steps

    return run


def adam_step_only(F, sizes: tuple[int, ...], steps: int) -> Callable[[], int]:
    """Only ``optimizer.step()`` of W3's Adam, on fixed random gradients: the part of a
    step that does not depend on the batch size (one call runs ``steps`` steps)."""
    F.manual_seed(0)
    model = _mlp(F, sizes)
    for p in model.parameters():
        p.grad = F.randn(*p.shape)
    optimizer = F.optim.Adam(model.parameters(), lr=1e-3)

    def run() -> int:
        for _ in range(steps):
            optimizer.step()
        return steps

    return run


def gemm_ceiling(sizes: tuple[int, ...], batch: int, steps: int) -> Callable[[], int]:
    """Only the matrix products of one MLP training step, in NumPy, float32: the ceiling of
    any NumPy engine on this workload (its GFLOP/s is ``mlp_flops / time``)."""
    rng = np.random.default_rng(0)
    ws = [rng.standard_normal((o, i), dtype=np.float32) * 0.01 for i, o in zip(sizes, sizes[1:])]
    hs = [rng.standard_normal((batch, n), dtype=np.float32) for n in sizes]

    def run() -> int:
        for _ in range(steps):
            for w, h in zip(ws, hs):
                np.matmul(h, w.T)  # forward
            for i in range(len(ws) - 1, -1, -1):
                g = hs[i + 1]
                np.matmul(g.T, hs[i])  # weight gradient
                if i:
                    np.matmul(g, ws[i])  # input gradient
        return steps

    return run


# --------------------------------------------------------------------------- helpers


def _mlp(F, sizes: tuple[int, ...]):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(F.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(F.nn.ReLU())
    return F.nn.Sequential(*layers)


def _numpy_training(
    sizes, loss: str, opt: str, *, lr: float, batch: int, n: int, epochs: int
) -> Callable[[], int]:
    """The same training step written out by hand in NumPy (float32): the floor.

    Forward z = h W^T + b, ReLU; MSE or softmax cross-entropy; backward by the lecture's
    rules; SGD with PyTorch's momentum (buffer starts at the first gradient) or Adam.
    Shuffled mini-batches by fancy indexing; StepLR(10, 0.5) per epoch with SGD (W1, W2).
    """
    rng = np.random.default_rng(0)
    f32 = np.float32
    params = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        bound = np.sqrt(6.0 / a)
        params.append(rng.uniform(-bound, bound, (b, a)).astype(f32))
        params.append(np.zeros(b, f32))
    x = rng.standard_normal((n, sizes[0]), dtype=f32)
    if loss == "mse":
        y = rng.standard_normal((n, sizes[-1]), dtype=f32)
    else:
        y = rng.integers(0, sizes[-1], n)
    state1 = [np.zeros_like(p) for p in params]
    state2 = [np.zeros_like(p) for p in params]
    t = [0]
    lr_now = [lr]
    epoch_count = [0]

    def step(xb, yb):
        hs = [xb]
        h = xb
        n_layers = len(params) // 2
        for i in range(n_layers):
            z = h @ params[2 * i].T
            z += params[2 * i + 1]
            h = np.maximum(z, 0, out=z) if i < n_layers - 1 else z
            hs.append(h)
        out = hs[-1]
        if loss == "mse":
            diff = out - yb
            value = float((diff * diff).mean())
            g = diff * f32(2.0 / diff.size)
        else:
            m = out.max(axis=1, keepdims=True)
            e = np.exp(out - m)
            s = e.sum(axis=1, keepdims=True)
            rows = np.arange(len(yb))
            value = float((np.log(s[:, 0]) + m[:, 0] - out[rows, yb]).mean())
            g = e / s
            g[rows, yb] -= 1
            g *= f32(1.0 / len(yb))
        grads = [None] * len(params)
        for i in range(n_layers - 1, -1, -1):
            grads[2 * i] = g.T @ hs[i]
            grads[2 * i + 1] = g.sum(axis=0)
            if i:
                g = g @ params[2 * i]
                g *= hs[i] > 0
        t[0] += 1
        for p, gr, s1, s2 in zip(params, grads, state1, state2):
            if opt == "sgd":
                if t[0] == 1:
                    s1[...] = gr
                else:
                    s1 *= f32(0.9)
                    s1 += gr
                p -= f32(lr_now[0]) * s1
            else:
                s1 *= f32(0.9)
                s1 += f32(0.1) * gr
                s2 *= f32(0.999)
                s2 += f32(0.001) * (gr * gr)
                c1, c2 = 1 - 0.9 ** t[0], 1 - 0.999 ** t[0]
                denom = np.sqrt(s2) / f32(np.sqrt(c2))
                denom += f32(1e-8)
                p -= f32(lr / c1) * (s1 / denom)
        return value

    def run() -> int:
        steps = 0
        for _ in range(epochs):
            if n == batch:  # one fixed batch (W3)
                step(x, y)
                steps += 1
                continue
            perm = rng.permutation(n)
            for i in range(0, n, batch):
                idx = perm[i : i + batch]
                step(x[idx], y[idx])
                steps += 1
            epoch_count[0] += 1
            if opt == "sgd" and epoch_count[0] % 10 == 0:
                lr_now[0] *= 0.5
        return steps

    return run
