"""Character-level text data that every machine has offline: the Python standard library's
own source files.

``stdlib_text(n_chars)`` reads the top-level ``*.py`` files of the running interpreter's
standard library in sorted order (the same files and order as
``examples/char_transformer.py``) and returns the first ``n_chars`` characters;
``CharText`` turns a text into a vocabulary, integer token ids and a train/validation split,
and draws random (input, next-character target) windows the way the example does
(``randint`` start positions from gradfit's generator). ``load_text(path)`` reads a user's
file or folder of text instead (the CLI's ``--data text:PATH``).
"""

from __future__ import annotations

import os
import sysconfig
from pathlib import Path

import numpy as np

__all__ = ["CharText", "load_text", "stdlib_text"]


def stdlib_text(n_chars: int = 2_000_000) -> str:
    """The first ``n_chars`` characters of the standard library's top-level source files,
    concatenated in sorted file-name order."""
    if n_chars <= 0:
        raise ValueError(f"stdlib_text: n_chars must be positive, got {n_chars}")
    root = Path(sysconfig.get_paths()["stdlib"])
    parts, total = [], 0
    for path in sorted(root.glob("*.py")):
        parts.append(path.read_text(encoding="utf-8", errors="replace"))
        total += len(parts[-1])
        if total >= n_chars:
            break
    if not parts:
        raise FileNotFoundError(f"stdlib_text: no *.py files under {root}")
    return "".join(parts)[:n_chars]


def load_text(path: str | os.PathLike, n_chars: int | None = None) -> str:
    """A text file, or every file of a folder (sorted, recursively), as one string."""
    p = Path(path)
    if p.is_dir():
        files = sorted(f for f in p.rglob("*") if f.is_file())
        if not files:
            raise FileNotFoundError(f"load_text: the folder {p} holds no files")
    elif p.is_file():
        files = [p]
    else:
        raise FileNotFoundError(f"load_text: {p} is neither a file nor a folder")
    text = "".join(f.read_text(encoding="utf-8", errors="replace") for f in files)
    return text if n_chars is None else text[:n_chars]


class CharText:
    """A text as character ids: ``vocab`` (sorted characters), ``encode``/``decode``,
    ``train``/``val`` int64 id arrays (the first ``train_fraction`` and the rest), and
    ``batch(split, batch_size, block_size)`` for next-character prediction."""

    def __init__(self, text: str, train_fraction: float = 0.9) -> None:
        if len(text) < 2:
            raise ValueError(f"CharText: need at least 2 characters of text, got {len(text)}")
        if not 0.0 < train_fraction <= 1.0:
            raise ValueError(f"CharText: train_fraction must be in (0, 1], got {train_fraction}")
        self.text = text
        self.vocab = sorted(set(text))
        self.stoi = {c: i for i, c in enumerate(self.vocab)}
        ids = np.fromiter((self.stoi[c] for c in text), dtype=np.int64, count=len(text))
        n = int(train_fraction * len(ids))
        self.train, self.val = ids[:n], ids[n:]

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def encode(self, s: str) -> list[int]:
        unknown = sorted({c for c in s if c not in self.stoi})
        if unknown:
            raise ValueError(f"encode: characters {unknown!r} are not in the vocabulary")
        return [self.stoi[c] for c in s]

    def decode(self, ids) -> str:
        return "".join(self.vocab[int(i)] for i in ids)

    def batch(self, split: str, batch_size: int, block_size: int, generator=None):
        """(x, y) int64 tensors (batch_size, block_size), y = x shifted by one character,
        at start positions ``randint(0, len - block_size, (batch_size,))``."""
        from gradfit._arrays import wrap
        from gradfit.random import randint

        if split not in ("train", "val"):
            raise ValueError(f"batch: split must be 'train' or 'val', got {split!r}")
        data = self.train if split == "train" else self.val
        if len(data) <= block_size:
            raise ValueError(
                f"batch: the {split} split has {len(data)} characters, need more than "
                f"block_size={block_size}"
            )
        from gradfit._arrays import unwrap

        ix = unwrap(randint(0, len(data) - block_size, (batch_size,), generator=generator))
        offsets = ix[:, None] + np.arange(block_size)[None, :]
        return wrap(data[offsets]), wrap(data[offsets + 1])
