"""Sizes of each run mode: ``full`` (the report), ``quick`` (a smoke run of a minute or
so) and ``tiny`` (the test suite: the same code path on toy sizes)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Config:
    mode: str
    repeats: int  # timed repeats per case (median reported)
    warmup: int  # untimed calls per case first
    w0_calls: int  # op calls per repeat
    w1_epochs: int  # lecture-program epochs (10 steps each) per repeat
    w1_examples: int  # the lecture uses 100
    w2_epochs: int  # MNIST-1D epochs (n_train / batch steps each) per repeat
    w2_train: int  # the recipe uses 4000
    w3_sizes: tuple[int, ...]  # layer widths of the wide MLP
    w3_batches: tuple[int, ...]
    w3_steps: int  # steps per repeat
    scale_batches: tuple[int, ...]  # batch sweep at the W3 widths
    scale_widths: tuple[int, ...]  # hidden-width sweep at scale_batch
    scale_batch: int
    mem_steps: int  # W3 steps in the peak-memory subprocess
    import_repeats: int  # fresh interpreters per framework for the import time

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Config:
        d = dict(d)
        for k, v in d.items():
            if isinstance(v, list):
                d[k] = tuple(v)
        return cls(**d)


FULL = Config(
    mode="full",
    repeats=7,
    warmup=1,
    w0_calls=5000,
    w1_epochs=20,
    w1_examples=100,
    w2_epochs=1,
    w2_train=4000,
    w3_sizes=(784, 1024, 1024, 10),
    w3_batches=(256, 1024),
    w3_steps=4,
    scale_batches=(16, 64, 256, 1024),
    scale_widths=(128, 256, 512, 1024, 2048),
    scale_batch=256,
    mem_steps=5,
    import_repeats=7,
)

QUICK = Config(
    mode="quick",
    repeats=3,
    warmup=1,
    w0_calls=1000,
    w1_epochs=5,
    w1_examples=100,
    w2_epochs=1,
    w2_train=1000,
    w3_sizes=(784, 1024, 1024, 10),
    w3_batches=(256,),
    w3_steps=2,
    scale_batches=(64, 256),
    scale_widths=(256, 1024),
    scale_batch=64,
    mem_steps=2,
    import_repeats=2,
)

TINY = Config(
    mode="tiny",
    repeats=2,
    warmup=1,
    w0_calls=5,
    w1_epochs=1,
    w1_examples=20,
    w2_epochs=1,
    w2_train=200,
    w3_sizes=(16, 32, 32, 10),
    w3_batches=(8,),
    w3_steps=1,
    scale_batches=(4, 8),
    scale_widths=(8, 16),
    scale_batch=4,
    mem_steps=1,
    import_repeats=1,
)

MODES = {c.mode: c for c in (FULL, QUICK, TINY)}
