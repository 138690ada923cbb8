"""The transcripts in README.md and docs/cli.md are what `gradfit train` prints.

Every ```console block that starts with ``$ gradfit train`` (the default recipe) and the
numbers the prose quotes from it are compared with a fresh run; timings and run-folder
names are the only things allowed to differ. After a change of numbers, regenerate them
from a real run with::

    python tests/cli/test_cli_docs.py --write
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", ROOT / "docs" / "cli.md"]
RUN = "runs/20250101-120000"
COMMANDS = {"train": ["train", "--no-progress", "--out", RUN], "evaluate": ["evaluate", RUN]}
BLOCK = re.compile(r"```console\n\$ gradfit (train|evaluate runs/\S+)\n(.*?)```", re.S)
# Prose that quotes the final validation error / accuracy of the default run.
PROSE = [
    re.compile(r"(ends at )(\d+\.\d) %( validation error)"),
    re.compile(r"(reaches a validation error of )(\d+\.\d) %"),
]


def _normal(line: str) -> str:
    line = re.sub(r"\b\d+\.\d+s\b", "T", line)  # timings
    return re.sub(r"runs/[\w.-]+", "RUN", line)  # run folders


def fresh_run() -> dict[str, list[str]]:
    """The lines `gradfit train` and then `gradfit evaluate` print, run in a temporary
    folder."""
    from gradfit.cli import main

    old, out = os.getcwd(), {}
    with tempfile.TemporaryDirectory() as d:
        os.chdir(d)
        try:
            for command, argv in COMMANDS.items():
                buf = io.StringIO()
                with contextlib.redirect_stdout(buf):
                    assert main(argv) == 0
                out[command] = buf.getvalue().splitlines()
        finally:
            os.chdir(old)
    return out


def _final_accuracy(lines: list[str]) -> float:
    return float(re.search(r"val_accuracy (\d+\.\d\d)%", lines[-2]).group(1))


def test_documented_transcripts_are_a_fresh_run():
    runs = fresh_run()
    acc = _final_accuracy(runs["train"])
    checked = 0
    for doc in DOCS:
        text = doc.read_text()
        blocks = BLOCK.findall(text)
        assert blocks, f"{doc.name} has no `$ gradfit train` transcript"
        for command, block in blocks:
            normal = {_normal(s) for s in runs[command.split()[0]]}
            for line in block.splitlines():
                if line.strip() != "...":
                    assert _normal(line) in normal, f"{doc.name}: {line!r} is not what runs"
                    checked += 1
        for pattern in PROSE:
            for m in pattern.finditer(text):
                assert float(m.group(2)) == round(100 - acc, 1), f"{doc.name}: {m.group(0)}"
    assert checked >= 30


def write() -> None:
    """Rewrite the transcripts and quoted numbers from a fresh run (keeping which epochs
    each block shows and its run-folder name)."""
    runs = fresh_run()

    def key(line: str) -> str:  # "epoch10/50", "run", "runfolder:", "data", "0", ...
        two = line.startswith(("epoch", "run folder"))
        return "".join(line.split()[: 2 if two else 1])

    by_key = {c: {key(s): s for s in lines} for c, lines in runs.items()}
    acc = _final_accuracy(runs["train"])

    def block(m: re.Match) -> str:
        out = []
        folder = re.search(r"runs/[\w.-]+", m.group(2))
        for line in m.group(2).splitlines():
            if line.strip() == "...":
                out.append(line)
                continue
            new = by_key[m.group(1).split()[0]][key(line)]
            if folder:
                new = new.replace(RUN, folder.group(0))
            # Timings stay as measured on a quiet machine; only the numbers change.
            old_times = iter(re.findall(r"\b\d+\.\d+s\b", line))
            out.append(re.sub(r"\b\d+\.\d+s\b", lambda t, o=old_times: next(o, t.group(0)), new))
        return f"```console\n$ gradfit {m.group(1)}\n" + "\n".join(out) + "\n```"

    for doc in DOCS:
        text = BLOCK.sub(block, doc.read_text())
        for pattern in PROSE:
            text = pattern.sub(
                lambda m: (
                    f"{m.group(1)}{100 - acc:.1f} %" + (m.group(3) if m.lastindex == 3 else "")
                ),
                text,
            )
        doc.write_text(text)
        print(f"rewrote {doc}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    if sys.argv[1:] == ["--write"]:
        write()
    else:
        print(__doc__)
