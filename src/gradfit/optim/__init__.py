"""Optimizers and learning-rate schedules (PyTorch's ``torch.optim`` API).

``SGD``, ``Adam``, ``AdamW``, ``RMSprop``, ``Adagrad``, ``Adadelta``, ``Adamax``,
``NAdam``, ``RAdam``, ``Rprop``, ``ASGD``, ``Adafactor`` and ``LBFGS`` follow PyTorch's
update rules, state and ``state_dict`` layout; ``lr_scheduler`` holds the schedules;
``lecture`` holds the lecture's own forms (line search, momentum, Nesterov, normalised
gradients, Adam). The update maths is in ``_functional`` as plain NumPy functions
(``Adafactor``'s in its own module).
"""

from __future__ import annotations

from gradfit.optim import lecture, lr_scheduler
from gradfit.optim.adadelta import Adadelta
from gradfit.optim.adafactor import Adafactor
from gradfit.optim.adagrad import Adagrad
from gradfit.optim.adam import Adam, AdamW
from gradfit.optim.adamax import Adamax
from gradfit.optim.asgd import ASGD
from gradfit.optim.lbfgs import LBFGS
from gradfit.optim.nadam import NAdam
from gradfit.optim.optimizer import Optimizer, required
from gradfit.optim.radam import RAdam
from gradfit.optim.rmsprop import RMSprop
from gradfit.optim.rprop import Rprop
from gradfit.optim.sgd import SGD
from gradfit.optim.sparse_adam import SparseAdam  # sparse: Embedding(sparse=True)

__all__ = [
    "Optimizer",
    "required",
    "SGD",
    "SparseAdam",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "Adadelta",
    "Adamax",
    "Adafactor",
    "NAdam",
    "RAdam",
    "Rprop",
    "ASGD",
    "LBFGS",
    "lr_scheduler",
    "lecture",
    "swa_utils",
]


def __getattr__(name: str):  # pruneamp: torch.optim.swa_utils, loaded on first use (it needs nn)
    if name == "swa_utils":
        import importlib

        return importlib.import_module("gradfit.optim.swa_utils")
    raise AttributeError(f"module 'gradfit.optim' has no attribute {name!r}")
