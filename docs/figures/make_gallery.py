"""Regenerate the README gallery: ``python docs/figures/make_gallery.py``.

Runs the selected lecture figures (full mode) into a temporary folder with
``gradfit.lecture.run_all`` and writes small copies here (at most 1000 px wide, 256-colour
PNG, narrower when needed to stay under 150 KB).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from PIL import Image

from gradfit.lecture import run_all

HERE = Path(__file__).parent
GALLERY = [
    "linear_regression",
    "gabor_landscape",
    "sgd",
    "momentum",
    "adam",
    "initialisation",
    "backprop_toy",
    "computation_graphs",
]
MAX_WIDTH = 1000
MAX_BYTES = 150_000


def shrink(src: Path, dst: Path) -> int:
    img = Image.open(src).convert("RGB")
    width = MAX_WIDTH
    while True:
        if img.width > width:
            small = img.resize((width, round(img.height * width / img.width)), Image.LANCZOS)
        else:
            small = img
        # median-cut palette refined by k-means: smooth heatmaps and true marker colours
        small.quantize(colors=256, method=Image.Quantize.MEDIANCUT, kmeans=4).save(
            dst, optimize=True
        )
        size = dst.stat().st_size
        if size < MAX_BYTES or width < 500:
            return size
        width = int(width * 0.85)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run_all(tmp, only=GALLERY)
        for name in GALLERY:
            size = shrink(Path(tmp) / f"{name}.png", HERE / f"{name}.png")
            print(f"{name}.png: {size / 1000:.0f} KB")


if __name__ == "__main__":
    main()
